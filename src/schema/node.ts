/**
 * The compiled form every schema takes: a tree (or, with named types, a
 * graph) of nodes, each checking one value and building its plain-JS output.
 * Schemas are built once; checking creates no closures.
 */
import { BencodeDict } from "../bencode/mod.ts";
import type { Context } from "./context.ts";
import { SchemaDefinitionError } from "./errors.ts";

/** Returned by `check` when the value did not match (problems already recorded). */
export const INVALID: unique symbol = Symbol("invalid");
/** A node's result: its output, or {@linkcode INVALID}. */
export type Checked<T> = T | typeof INVALID;

/** Bencode value kinds as bits, so a union can tell its alternatives apart cheaply. */
export const KIND_BYTES = 1;
export const KIND_INTEGER = 2;
export const KIND_LIST = 4;
export const KIND_DICT = 8;
export const KIND_ALL = KIND_BYTES | KIND_INTEGER | KIND_LIST | KIND_DICT;

/** The kind bit of a value (0 when it is not a bencode value at all). */
export function kindOf(value: unknown): number {
  if (value instanceof Uint8Array) return KIND_BYTES;
  const type = typeof value;
  if (type === "number" || type === "bigint") return KIND_INTEGER;
  if (Array.isArray(value)) return KIND_LIST;
  if (value instanceof BencodeDict) return KIND_DICT;
  return 0;
}

/** A short description of a value for the `found` part of a problem. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value instanceof Uint8Array) return `a byte string of ${value.length} bytes`;
  if (typeof value === "number" || typeof value === "bigint") return `the integer ${value}`;
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (value instanceof BencodeDict) return `a dictionary of ${value.size} entries`;
  if (value === null) return "null";
  return `a non-bencode ${
    typeof value === "object" ? value.constructor?.name ?? "object" : typeof value
  }`;
}

/** Descriptions longer than this are cut, so huge unions cannot blow up messages. */
const MAX_EXPECTED_LENGTH = 200;

/** Cuts a description to a bounded length. */
export function boundedText(text: string): string {
  return text.length <= MAX_EXPECTED_LENGTH ? text : `${text.slice(0, MAX_EXPECTED_LENGTH - 1)}…`;
}

/**
 * A schema for values whose validated output has type `T`. Build one with
 * {@linkcode model} or load one with {@linkcode loadSchema}; check values
 * with {@linkcode validate}.
 *
 * @example A typed model
 * ```ts
 * import { type Infer, model, type Schema } from "@bittern/bittern";
 *
 * const peer: Schema<{ ip: string; port: number }> = model.dict({
 *   ip: model.string().required(),
 *   port: model.integer({ min: 1, max: 65535 }).required(),
 * });
 * type Peer = Infer<typeof peer>; // { ip: string; port: number }
 * ```
 */
export interface Schema<T> {
  /** Type-level only: the validated output type (never set at runtime). */
  readonly _output?: T;
  /** What this schema expects, in words (used in problem reports). */
  readonly expected: string;
  /**
   * Adds a check run on the validated output; when `predicate` returns
   * false the problem reported is `expected`.
   *
   * @param predicate Returns whether the output is acceptable.
   * @param expected What an acceptable value is, in words.
   * @returns A schema with the extra check.
   */
  refine(predicate: (value: T) => boolean, expected: string): Schema<T>;
  /**
   * Marks this schema as a required dictionary entry.
   *
   * @returns An entry for {@linkcode ModelBuilder.dict}.
   */
  required(): Entry<T, true>;
  /**
   * Marks this schema as a lenient optional dictionary entry: a value that
   * does not match is dropped as if absent instead of being a problem.
   *
   * @returns An entry for {@linkcode ModelBuilder.dict}.
   */
  lenient(): Entry<T, false>;
}

/**
 * A dictionary entry with flags: whether it is required, and whether an
 * invalid value is dropped (lenient) rather than reported.
 *
 * @example
 * ```ts
 * import { model } from "@bittern/bittern";
 *
 * const info = model.dict({ name: model.string().required(), date: model.integer().lenient() });
 * ```
 */
export interface Entry<T, R extends boolean> {
  /** The schema of the entry's value. */
  readonly schema: Schema<T>;
  /** Whether the entry must be present. */
  readonly isRequired: R;
  /** Whether an invalid value is dropped as if absent. */
  readonly isLenient: boolean;
}

/** Base of every compiled node. */
export abstract class Node<T = unknown> implements Schema<T> {
  declare readonly _output?: T;
  abstract readonly expected: string;

  /** Checks `value`, recording problems in `ctx`; returns the output or INVALID. */
  abstract check(value: unknown, ctx: Context): Checked<T>;

  /** Which bencode kinds this node can possibly accept (bits). */
  abstract kinds(): number;

  refine(predicate: (value: T) => boolean, expected: string): Schema<T> {
    return new RefineNode(this, predicate, expected);
  }

  required(): Entry<T, true> {
    return new EntryImpl(this, true, false);
  }

  lenient(): Entry<T, false> {
    return new EntryImpl(this, false, true);
  }
}

/** The one implementation of {@linkcode Entry}. */
export class EntryImpl<T, R extends boolean> implements Entry<T, R> {
  constructor(
    readonly schema: Schema<T>,
    readonly isRequired: R,
    readonly isLenient: boolean,
  ) {}
}

/** A node plus a predicate on its output. */
export class RefineNode<T> extends Node<T> {
  readonly expected: string;

  constructor(
    readonly inner: Node<T>,
    readonly predicate: (value: T) => boolean,
    readonly refinement: string,
  ) {
    super();
    this.expected = refinement;
  }

  check(value: unknown, ctx: Context): Checked<T> {
    const result = this.inner.check(value, ctx);
    if (result === INVALID) return INVALID;
    if (this.predicate(result)) return result;
    ctx.report(this.refinement, describeValue(value));
    return INVALID;
  }

  kinds(): number {
    return this.inner.kinds();
  }
}

/** The node behind a schema; rejects look-alike objects that were not built here. */
export function asNode<T>(schema: Schema<T>, where: string): Node<T> {
  if (schema instanceof Node) return schema;
  throw new SchemaDefinitionError(`${where}: expected a schema built by model.* or loadSchema`);
}
