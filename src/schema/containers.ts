/** Container nodes: lists, dictionaries with declared entries, and dictionaries used as maps. */
import { BencodeDict } from "../bencode/mod.ts";
import { toHex } from "../util/bytes.ts";
import { type Context, keySegment } from "./context.ts";
import { SchemaDefinitionError } from "./errors.ts";
import {
  type Checked,
  describeValue,
  INVALID,
  KIND_DICT,
  KIND_LIST,
  Node,
  type Schema,
} from "./node.ts";
import { lengthWords } from "./scalars.ts";

/** Options for {@linkcode ModelBuilder.list}. */
export interface ListOptions {
  /** Fewest items accepted. */
  readonly minItems?: number;
  /** Most items accepted. */
  readonly maxItems?: number;
  /** Drop items that do not match instead of reporting them. Default false. */
  readonly skipInvalid?: boolean;
}

/**
 * Keys of which at most one may be present; with `required`, exactly one.
 * A bare array is a group without `required`.
 */
export type ExclusiveGroup<K extends string = string> =
  | readonly K[]
  | { readonly keys: readonly K[]; readonly required?: boolean };

/** Options for {@linkcode ModelBuilder.dict}. */
export interface DictOptions<K extends string = string> {
  /** Groups of mutually exclusive keys, e.g. `[{ keys: ["length", "files"], required: true }]`. */
  readonly exclusive?: readonly ExclusiveGroup<K>[];
  /** What to do with keys the model does not declare. Default `"ignore"`. */
  readonly unknownKeys?: "ignore" | "reject";
}

/** Options for {@linkcode ModelBuilder.dictOf}; `K` is the validated key type. */
export interface DictOfOptions<K = string> {
  /**
   * Schema for the raw key bytes, e.g. `model.binary({ length: 20 })` for
   * info hashes. Default `model.string()` (keys as UTF-8 text).
   */
  readonly keys?: Schema<K>;
  /** Fewest entries accepted. */
  readonly minEntries?: number;
  /** Most entries accepted. */
  readonly maxEntries?: number;
  /** Drop entries whose key or value does not match instead of reporting them. Default false. */
  readonly skipInvalid?: boolean;
}

function checkCount(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new SchemaDefinitionError(`${name} must be an integer >= 0, not ${value}`);
  }
  return value;
}

function countRange(min: number | undefined, max: number | undefined, what: string): void {
  checkCount(min, `${what} min`);
  checkCount(max, `${what} max`);
  if (min !== undefined && max !== undefined && min > max) {
    throw new SchemaDefinitionError(`${what}: min ${min} is greater than max ${max}`);
  }
}

/** A list whose items all match one node; outputs an array. */
export class ListNode<T> extends Node<T[]> {
  readonly #items: Node<T>;
  readonly #min: number;
  readonly #max: number;
  readonly #skipInvalid: boolean;
  readonly #counts: string;

  constructor(items: Node<T>, options: ListOptions = {}) {
    super();
    countRange(options.minItems, options.maxItems, "list items");
    this.#items = items;
    this.#min = options.minItems ?? 0;
    this.#max = options.maxItems ?? Infinity;
    this.#skipInvalid = options.skipInvalid ?? false;
    this.#counts = lengthWords(options.minItems, options.maxItems, "items");
  }

  get expected(): string {
    return `a list${this.#counts}`;
  }

  check(value: unknown, ctx: Context): Checked<T[]> {
    if (!Array.isArray(value) || value.length < this.#min || value.length > this.#max) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    if (!ctx.enter()) return INVALID;
    const items = this.#items;
    const out: T[] = [];
    let ok = true;
    if (this.#skipInvalid) {
      ctx.quiet++;
      for (let i = 0; i < value.length; i++) {
        const result = items.check(value[i], ctx);
        if (result !== INVALID) out.push(result);
      }
      ctx.quiet--;
    } else {
      ctx.push(0);
      for (let i = 0; i < value.length; i++) {
        ctx.replace(i);
        const result = items.check(value[i], ctx);
        if (result === INVALID) {
          ok = false;
          if (ctx.stopping) break;
        } else {
          out.push(result);
        }
      }
      ctx.pop();
    }
    ctx.leave();
    return ok ? out : INVALID;
  }

  kinds(): number {
    return KIND_LIST;
  }
}

/** One declared entry of a {@linkcode DictNode}, compiled. */
export interface CompiledEntry {
  /** The key as text; also the output property name. */
  readonly key: string;
  readonly node: Node;
  readonly required: boolean;
  readonly lenient: boolean;
}

/** Most entries whose presence fits in one 32-bit mask; bigger models use an array. */
const MASK_ENTRIES = 31;

/** The key as a binary string: one code unit per UTF-8 byte (how BencodeDict stores keys). */
function binaryKey(key: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  return binary;
}

/** The path segment for a raw (binary-string) key: text when printable UTF-8, else hex. */
function rawKeySegment(binary: string): string {
  const bytes = binaryToBytes(binary);
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    // deno-lint-ignore no-control-regex
    if (!/[\u0000-\u001f\u007f]/.test(text)) return keySegment(text);
  } catch {
    // not text: fall through to hex
  }
  return `[0x${toHex(bytes)}]`;
}

function binaryToBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function quoteKeys(keys: readonly string[]): string {
  return keys.map((key) => JSON.stringify(key)).join(", ");
}

interface CompiledGroup {
  readonly indices: readonly number[];
  readonly keys: readonly string[];
  readonly required: boolean;
}

/** A dictionary with declared entries; outputs a plain object with only those keys. */
export class DictNode<T> extends Node<T> {
  readonly expected = "a dictionary";
  readonly #entries: readonly CompiledEntry[];
  readonly #segments: readonly string[];
  readonly #byBinaryKey: ReadonlyMap<string, number>;
  readonly #requiredMask: number;
  readonly #requiredIndices: readonly number[];
  readonly #groups: readonly CompiledGroup[];
  readonly #rejectUnknown: boolean;

  constructor(entries: readonly CompiledEntry[], options: DictOptions = {}) {
    super();
    this.#entries = entries;
    this.#segments = entries.map((entry) => keySegment(entry.key));
    const byBinaryKey = new Map<string, number>();
    entries.forEach((entry, index) => byBinaryKey.set(binaryKey(entry.key), index));
    this.#byBinaryKey = byBinaryKey;
    const required = entries.flatMap((entry, index) => entry.required ? [index] : []);
    this.#requiredIndices = required;
    this.#requiredMask = required.reduce((mask, index) => mask | (1 << index), 0);
    this.#groups = (options.exclusive ?? []).map((group) => this.#compileGroup(group));
    const unknown = options.unknownKeys ?? "ignore";
    if (unknown !== "ignore" && unknown !== "reject") {
      throw new SchemaDefinitionError(`unknownKeys must be "ignore" or "reject", not ${unknown}`);
    }
    this.#rejectUnknown = unknown === "reject";
  }

  #compileGroup(group: ExclusiveGroup): CompiledGroup {
    const bare = isBareGroup(group);
    const keys = bare ? group : group.keys;
    const required = bare ? false : group.required ?? false;
    if (!Array.isArray(keys) || keys.some((key) => typeof key !== "string")) {
      throw new SchemaDefinitionError("an exclusive group must be a list of keys");
    }
    if (keys.length < 2 && !required) {
      throw new SchemaDefinitionError(`an exclusive group needs two or more keys: [${keys}]`);
    }
    const indices = keys.map((key) => {
      const index = this.#entries.findIndex((entry) => entry.key === key);
      if (index < 0) {
        throw new SchemaDefinitionError(`exclusive key ${JSON.stringify(key)} is not an entry`);
      }
      return index;
    });
    return { indices, keys, required };
  }

  check(value: unknown, ctx: Context): Checked<T> {
    if (!(value instanceof BencodeDict)) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    if (!ctx.enter()) return INVALID;
    const entries = this.#entries;
    const keys = value.binaryKeys;
    const values = value.rawValues;
    const out: Record<string, unknown> = {};
    // Presence (valid or not) of each declared entry, for required and exclusive checks.
    let seenMask = 0;
    const seenMany = entries.length > MASK_ENTRIES ? new Uint8Array(entries.length) : undefined;
    let ok = true;
    for (let i = 0; i < keys.length; i++) {
      const index = this.#byBinaryKey.get(keys[i]);
      if (index === undefined) {
        if (this.#rejectUnknown) {
          ok = false;
          ctx.push(rawKeySegment(keys[i]));
          ctx.report("no such entry (unknown keys are rejected)", describeValue(values[i]));
          ctx.pop();
          if (ctx.stopping) break;
        }
        continue;
      }
      const entry = entries[index];
      let result;
      if (entry.lenient) {
        ctx.quiet++;
        result = entry.node.check(values[i], ctx);
        ctx.quiet--;
        if (result === INVALID) continue; // dropped as if absent
      } else {
        ctx.push(this.#segments[index]);
        result = entry.node.check(values[i], ctx);
        ctx.pop();
      }
      if (seenMany) seenMany[index] = 1;
      else seenMask |= 1 << index;
      if (result === INVALID) {
        ok = false;
        if (ctx.stopping) break;
      } else if (entry.key === "__proto__") {
        Object.defineProperty(out, entry.key, { value: result, enumerable: true, writable: true });
      } else {
        out[entry.key] = result;
      }
    }
    if (ok || !ctx.stopping) {
      if (seenMany || (seenMask & this.#requiredMask) !== this.#requiredMask) {
        for (const index of this.#requiredIndices) {
          if (isSeen(index, seenMask, seenMany)) continue;
          ok = false;
          ctx.push(this.#segments[index]);
          ctx.report(`${entries[index].node.expected} (required)`, "nothing");
          ctx.pop();
        }
      }
      for (const group of this.#groups) {
        if (!this.#checkGroup(group, seenMask, seenMany, ctx)) ok = false;
      }
    }
    ctx.leave();
    return ok ? out as T : INVALID;
  }

  #checkGroup(
    group: CompiledGroup,
    seenMask: number,
    seenMany: Uint8Array | undefined,
    ctx: Context,
  ): boolean {
    let count = 0;
    for (const index of group.indices) if (isSeen(index, seenMask, seenMany)) count++;
    if (count === 1 || (count === 0 && !group.required)) return true;
    const present = group.keys.filter((_, i) => isSeen(group.indices[i], seenMask, seenMany));
    ctx.report(
      `${group.required ? "exactly" : "at most"} one of ${quoteKeys(group.keys)}`,
      count === 0 ? "none of them" : quoteKeys(present),
    );
    return false;
  }

  kinds(): number {
    return KIND_DICT;
  }
}

function isBareGroup(group: ExclusiveGroup): group is readonly string[] {
  return Array.isArray(group);
}

function isSeen(index: number, mask: number, many: Uint8Array | undefined): boolean {
  return many ? many[index] === 1 : ((mask >> index) & 1) === 1;
}

/** A dictionary used as a map from (validated) keys to values of one type; outputs a `Map`. */
export class MapNode<K, V> extends Node<Map<K, V>> {
  readonly #keys: Node<K>;
  readonly #values: Node<V>;
  readonly #min: number;
  readonly #max: number;
  readonly #skipInvalid: boolean;
  readonly #counts: string;

  constructor(keys: Node<K>, values: Node<V>, options: DictOfOptions<K> = {}) {
    super();
    countRange(options.minEntries, options.maxEntries, "dictionary entries");
    this.#keys = keys;
    this.#values = values;
    this.#min = options.minEntries ?? 0;
    this.#max = options.maxEntries ?? Infinity;
    this.#skipInvalid = options.skipInvalid ?? false;
    this.#counts = lengthWords(options.minEntries, options.maxEntries, "entries");
  }

  get expected(): string {
    return `a dictionary${this.#counts}`;
  }

  check(value: unknown, ctx: Context): Checked<Map<K, V>> {
    if (!(value instanceof BencodeDict) || value.size < this.#min || value.size > this.#max) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    if (!ctx.enter()) return INVALID;
    const keys = value.binaryKeys;
    const values = value.rawValues;
    const out = new Map<K, V>();
    let ok = true;
    if (this.#skipInvalid) ctx.quiet++;
    for (let i = 0; i < keys.length; i++) {
      if (!this.#skipInvalid) ctx.push(rawKeySegment(keys[i]));
      const key = this.#checkKey(binaryToBytes(keys[i]), ctx);
      const item = this.#values.check(values[i], ctx);
      if (!this.#skipInvalid) ctx.pop();
      if (key === INVALID || item === INVALID) {
        if (this.#skipInvalid) continue;
        ok = false;
        if (ctx.stopping) break;
      } else {
        out.set(key, item);
      }
    }
    if (this.#skipInvalid) ctx.quiet--;
    ctx.leave();
    return ok ? out : INVALID;
  }

  /** Checks a key, reporting it as a key (the key schema alone would read like a value). */
  #checkKey(bytes: Uint8Array, ctx: Context): Checked<K> {
    ctx.quiet++;
    const key = this.#keys.check(bytes, ctx);
    ctx.quiet--;
    if (key === INVALID) ctx.report(`a key that is ${this.#keys.expected}`, describeValue(bytes));
    return key;
  }

  kinds(): number {
    return KIND_DICT;
  }
}
