/** Leaf nodes: text strings, binary strings, integers, and any value. */
import type { BencodeValue } from "../bencode/mod.ts";
import type { Context } from "./context.ts";
import { SchemaDefinitionError } from "./errors.ts";
import {
  type Checked,
  describeValue,
  INVALID,
  KIND_ALL,
  KIND_BYTES,
  KIND_INTEGER,
  kindOf,
  Node,
} from "./node.ts";

/** Options for {@linkcode ModelBuilder.string}. */
export interface StringOptions<E extends string = string> {
  /** Fewest UTF-8 bytes accepted. */
  readonly minLength?: number;
  /** Most UTF-8 bytes accepted. */
  readonly maxLength?: number;
  /** The only values accepted. */
  readonly enum?: readonly E[];
  /**
   * Decode invalid UTF-8 with U+FFFD replacement characters instead of
   * reporting it (as BitTorrent clients do for legacy names). Default false.
   */
  readonly lossy?: boolean;
}

/** Options for {@linkcode ModelBuilder.binary}. */
export interface BinaryOptions {
  /** The exact length in bytes. */
  readonly length?: number;
  /** Fewest bytes accepted. */
  readonly minLength?: number;
  /** Most bytes accepted. */
  readonly maxLength?: number;
  /** The length must be a multiple of this (e.g. 20 for `pieces`). */
  readonly multipleOf?: number;
}

/** Options for {@linkcode ModelBuilder.integer}. */
export interface IntegerOptions {
  /** Smallest value accepted. */
  readonly min?: number | bigint;
  /** Largest value accepted. */
  readonly max?: number | bigint;
  /**
   * Accept integers beyond ±(2^53 - 1), which decode as `bigint`. Default
   * false: only safe integers, output as `number`.
   */
  readonly big?: boolean;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });
/** Up to this length an ASCII check plus fromCharCode beats TextDecoder's call overhead. */
const SHORT_STRING = 64;

/** Decodes UTF-8 (keeping a BOM); `undefined` when invalid and not lossy. */
function decodeUtf8(bytes: Uint8Array, lossy: boolean): string | undefined {
  const length = bytes.length;
  if (length <= SHORT_STRING) {
    let ascii = true;
    for (let i = 0; i < length; i++) {
      if (bytes[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  if (lossy) return lossyUtf8.decode(bytes);
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function checkCount(value: number | undefined, name: string, min = 0): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new SchemaDefinitionError(`${name} must be an integer >= ${min}, not ${value}`);
  }
}

function checkRange(min: number | undefined, max: number | undefined, what: string): void {
  if (min !== undefined && max !== undefined && min > max) {
    throw new SchemaDefinitionError(`${what}: min ${min} is greater than max ${max}`);
  }
}

/** Words for a length range, e.g. ` of 1 to 10 bytes`. */
export function lengthWords(min: number | undefined, max: number | undefined, unit: string) {
  const units = (n: number) => `${n} ${n === 1 ? unit.replace(/s$/, "") : unit}`;
  if (min !== undefined && min === max) return ` of exactly ${units(min)}`;
  if (min !== undefined && max !== undefined) return ` of ${min} to ${units(max)}`;
  if (min !== undefined) return ` of at least ${units(min)}`;
  if (max !== undefined) return ` of at most ${units(max)}`;
  return "";
}

/** A byte string holding UTF-8 text; outputs a JS string. */
export class StringNode<E extends string = string> extends Node<E> {
  readonly expected: string;
  readonly #min: number;
  readonly #max: number;
  readonly #allowed: ReadonlySet<string> | undefined;
  readonly #lossy: boolean;

  constructor(options: StringOptions<E> = {}) {
    super();
    checkCount(options.minLength, "string minLength");
    checkCount(options.maxLength, "string maxLength");
    checkRange(options.minLength, options.maxLength, "string length");
    this.#min = options.minLength ?? 0;
    this.#max = options.maxLength ?? Infinity;
    this.#lossy = options.lossy ?? false;
    if (options.enum !== undefined) {
      if (options.enum.length === 0) {
        throw new SchemaDefinitionError("string enum must not be empty");
      }
      this.#allowed = new Set(options.enum);
    }
    const values = this.#allowed
      ? ` (one of ${[...this.#allowed].map((v) => JSON.stringify(v)).join(", ")})`
      : "";
    this.expected = `a UTF-8 string${
      lengthWords(options.minLength, options.maxLength, "bytes")
    }${values}`;
  }

  check(value: unknown, ctx: Context): Checked<E> {
    if (!(value instanceof Uint8Array)) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    if (value.length < this.#min || value.length > this.#max) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    const text = decodeUtf8(value, this.#lossy);
    if (text === undefined) {
      ctx.report(this.expected, `invalid UTF-8 (${value.length} bytes)`);
      return INVALID;
    }
    if (this.#allowed !== undefined && !this.#allowed.has(text)) {
      ctx.report(this.expected, JSON.stringify(text.slice(0, 64)));
      return INVALID;
    }
    return text as E;
  }

  kinds(): number {
    return KIND_BYTES;
  }
}

/** A byte string of any content; outputs the `Uint8Array` itself (a view, not a copy). */
export class BinaryNode extends Node<Uint8Array> {
  readonly expected: string;
  readonly #min: number;
  readonly #max: number;
  readonly #multipleOf: number;

  constructor(options: BinaryOptions = {}) {
    super();
    checkCount(options.length, "binary length");
    checkCount(options.minLength, "binary minLength");
    checkCount(options.maxLength, "binary maxLength");
    checkCount(options.multipleOf, "binary multipleOf", 1);
    checkRange(options.minLength, options.maxLength, "binary length");
    if (options.length !== undefined && (options.minLength ?? options.maxLength) !== undefined) {
      throw new SchemaDefinitionError("binary length excludes minLength and maxLength");
    }
    const min = options.length ?? options.minLength;
    const max = options.length ?? options.maxLength;
    this.#min = min ?? 0;
    this.#max = max ?? Infinity;
    this.#multipleOf = options.multipleOf ?? 1;
    const multiple = this.#multipleOf > 1 ? ` (a multiple of ${this.#multipleOf} bytes)` : "";
    this.expected = `a byte string${lengthWords(min, max, "bytes")}${multiple}`;
  }

  check(value: unknown, ctx: Context): Checked<Uint8Array> {
    if (
      !(value instanceof Uint8Array) || value.length < this.#min || value.length > this.#max ||
      value.length % this.#multipleOf !== 0
    ) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    return value;
  }

  kinds(): number {
    return KIND_BYTES;
  }
}

/** An integer, optionally bounded; `number`, or `number | bigint` with `big`. */
export class IntegerNode extends Node<number | bigint> {
  readonly expected: string;
  readonly #min: number | bigint;
  readonly #max: number | bigint;
  readonly #big: boolean;

  constructor(options: IntegerOptions = {}) {
    super();
    const { min, max } = options;
    for (const [name, bound] of [["min", min], ["max", max]] as const) {
      if (typeof bound === "number" && !Number.isInteger(bound)) {
        throw new SchemaDefinitionError(`integer ${name} must be an integer, not ${bound}`);
      }
    }
    if (min !== undefined && max !== undefined && min > max) {
      throw new SchemaDefinitionError(`integer range: min ${min} is greater than max ${max}`);
    }
    this.#min = min ?? -Infinity;
    this.#max = max ?? Infinity;
    this.#big = options.big ?? false;
    const kind = this.#big ? "an integer" : "a safe integer";
    const range = min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
      ? ` >= ${min}`
      : max !== undefined
      ? ` <= ${max}`
      : "";
    this.expected = `${kind}${range}`;
  }

  check(value: unknown, ctx: Context): Checked<number | bigint> {
    const type = typeof value;
    if (
      (type === "number" ? Number.isSafeInteger(value) : type === "bigint" && this.#big) &&
      (value as number) >= this.#min && (value as number) <= this.#max
    ) {
      return value as number | bigint;
    }
    ctx.report(this.expected, describeValue(value));
    return INVALID;
  }

  kinds(): number {
    return KIND_INTEGER;
  }
}

/** Any bencode value, passed through unchanged. */
export class AnyNode extends Node<BencodeValue> {
  readonly expected = "any bencode value";

  check(value: unknown, ctx: Context): Checked<BencodeValue> {
    if (kindOf(value) !== 0) return value as BencodeValue;
    ctx.report(this.expected, describeValue(value));
    return INVALID;
  }

  kinds(): number {
    return KIND_ALL;
  }
}
