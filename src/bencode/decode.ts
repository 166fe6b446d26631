import { BencodeDict, bytesToBinary, textToBinary } from "./dict.ts";
import { BencodeError } from "./errors.ts";
import type { BencodeValue } from "./types.ts";

/** Options for {@linkcode decode}, {@linkcode decodePrefix} and {@linkcode locate}. */
export interface DecodeOptions {
  /**
   * Accept dictionaries whose keys are not in sorted order. Many real-world
   * torrents need this. Duplicate keys are always rejected. Default `false`.
   */
  allowUnsortedKeys?: boolean;
  /** Deepest nesting of lists and dictionaries accepted. Default 256. */
  maxDepth?: number;
  /** Largest input accepted, in bytes. Default 64 MiB. */
  maxLength?: number;
}

/** The byte range `[start, end)` a value occupies in its input. */
export interface Span {
  /** Offset of the value's first byte. */
  start: number;
  /** Offset just past the value's last byte. */
  end: number;
}

/** Default for {@linkcode DecodeOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 256;
/** Default for {@linkcode DecodeOptions.maxLength}: 64 MiB. */
export const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024;

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_COLON = 0x3a;
const CHAR_MINUS = 0x2d;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;
/** Longer digit runs may not be exact as doubles, so they go through bigint. */
const SAFE_DIGITS = 15;

/**
 * Decodes one complete bencoded value. Throws {@linkcode BencodeError} on any
 * syntax error or canonical-form violation, including trailing bytes.
 *
 * @example Decoding a dictionary
 * ```ts
 * import { BencodeDict, decode } from "@bittern/bittern";
 *
 * const value = decode(new TextEncoder().encode("d3:cow3:mooe"));
 * if (value instanceof BencodeDict) {
 *   console.log(new TextDecoder().decode(value.get("cow") as Uint8Array)); // moo
 * }
 * ```
 *
 * @param bytes The bencoded input.
 * @param options Strictness and limits.
 * @returns The decoded value.
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): BencodeValue {
  const { value, end } = decodePrefix(bytes, options);
  if (end !== bytes.length) throw new BencodeError("end of input (trailing bytes)", end);
  return value;
}

/**
 * Decodes the bencoded value at the start of `bytes` and reports where it
 * ends, leaving any bytes after it alone (as BEP 9 metadata messages need).
 *
 * @example Reading a value followed by raw data
 * ```ts
 * import { decodePrefix } from "@bittern/bittern";
 *
 * const { value, end } = decodePrefix(new TextEncoder().encode("i7eRAW"));
 * console.log(value, end); // 7 3
 * ```
 *
 * @param bytes Input starting with a bencoded value.
 * @param options Strictness and limits.
 * @returns The value and the offset just past it.
 */
export function decodePrefix(
  bytes: Uint8Array,
  options?: DecodeOptions,
): { value: BencodeValue; end: number } {
  const decoder = new Decoder(bytes, options);
  const value = guardStack(() => decoder.value(0));
  return { value, end: decoder.pos };
}

/**
 * Finds the raw byte span of the value at `path` without building the
 * document. Path elements are dictionary keys (strings, as UTF-8) or list
 * indices. Used for the info hash, which must be taken over the `info`
 * bytes exactly as they appear, canonical or not.
 *
 * @example Locating the info dictionary of a torrent
 * ```ts
 * import { locate } from "@bittern/bittern";
 *
 * const bytes = new TextEncoder().encode("d4:infod4:name1:xee");
 * const span = locate(bytes, ["info"]);
 * console.log(span); // { start: 7, end: 18 }
 * ```
 *
 * @param bytes A complete bencoded document.
 * @param path Keys and indices leading to the value.
 * @param options Strictness and limits, as for {@linkcode decode}.
 * @returns The span, or `undefined` when the path does not exist.
 */
export function locate(
  bytes: Uint8Array,
  path: readonly (string | number)[],
  options?: DecodeOptions,
): Span | undefined {
  const decoder = new Decoder(bytes, options);
  return guardStack(() => decoder.locate(path, 0));
}

function guardStack<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError) {
      // The stack ran out before maxDepth did: report it as bad input, not a crash.
      throw new BencodeError("nesting within the call stack (lower maxDepth)", 0);
    }
    throw error;
  }
}

/** Recursive-descent decoder over one input buffer. */
class Decoder {
  pos = 0;
  readonly #bytes: Uint8Array;
  readonly #end: number;
  readonly #allowUnsorted: boolean;
  readonly #maxDepth: number;

  constructor(bytes: Uint8Array, options: DecodeOptions = {}) {
    const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!(bytes instanceof Uint8Array)) throw new BencodeError("a Uint8Array as input", 0);
    if (bytes.length > maxLength) {
      throw new BencodeError(`input of at most ${maxLength} bytes (maxLength)`, maxLength);
    }
    this.#bytes = bytes;
    this.#end = bytes.length;
    this.#allowUnsorted = options.allowUnsortedKeys ?? false;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  value(depth: number): BencodeValue {
    const bytes = this.#bytes;
    if (this.pos >= this.#end) throw new BencodeError("a value (input ended)", this.pos);
    const c = bytes[this.pos];
    if (c >= CHAR_0 && c <= CHAR_9) return this.#string();
    if (c === CHAR_I) return this.#integer();
    if (c === CHAR_L) return this.#list(depth + 1);
    if (c === CHAR_D) return this.#dict(depth + 1);
    throw new BencodeError("'i', 'l', 'd' or a digit", this.pos);
  }

  /** Skips one value, checking its syntax exactly as {@linkcode Decoder.value} would. */
  skip(depth: number): void {
    this.value(depth);
  }

  locate(path: readonly (string | number)[], depth: number): Span | undefined {
    const start = this.pos;
    if (path.length === 0) {
      this.skip(depth);
      return { start, end: this.pos };
    }
    const [step, ...rest] = path;
    const bytes = this.#bytes;
    if (typeof step === "number") {
      if (bytes[this.pos] !== CHAR_L) return undefined;
      this.#enter(depth + 1);
      for (let index = 0; this.#peek() !== CHAR_E; index++) {
        if (index === step) return this.locate(rest, depth + 1);
        this.skip(depth + 1);
      }
      return undefined;
    }
    if (bytes[this.pos] !== CHAR_D) return undefined;
    this.#enter(depth + 1);
    const wanted = textToBinary(step);
    while (this.#peek() !== CHAR_E) {
      const key = this.#key();
      if (key === wanted) return this.locate(rest, depth + 1);
      this.skip(depth + 1);
    }
    return undefined;
  }

  #enter(depth: number): void {
    if (depth > this.#maxDepth) {
      throw new BencodeError(`nesting of at most ${this.#maxDepth} levels (maxDepth)`, this.pos);
    }
    this.pos++;
  }

  #peek(): number {
    if (this.pos >= this.#end) throw new BencodeError("'e' or a value (input ended)", this.pos);
    return this.#bytes[this.pos];
  }

  #list(depth: number): BencodeValue[] {
    this.#enter(depth);
    const list: BencodeValue[] = [];
    while (this.#peek() !== CHAR_E) list.push(this.value(depth));
    this.pos++;
    return list;
  }

  #dict(depth: number): BencodeDict {
    this.#enter(depth);
    const keys: string[] = [];
    const values: BencodeValue[] = [];
    let previous: string | undefined;
    let seen: Set<string> | undefined;
    while (this.#peek() !== CHAR_E) {
      const keyStart = this.pos;
      const key = this.#key();
      if (seen === undefined && previous !== undefined && key <= previous) {
        if (key === previous) throw new BencodeError("a key different from the last one", keyStart);
        if (!this.#allowUnsorted) {
          throw new BencodeError("keys in sorted order (or allowUnsortedKeys)", keyStart);
        }
        // Out of order: from here on, duplicates can hide anywhere, so track every key.
        seen = new Set(keys);
      }
      if (seen !== undefined) {
        if (seen.has(key)) throw new BencodeError("a key not already in this dictionary", keyStart);
        seen.add(key);
      }
      keys.push(key);
      values.push(this.value(depth));
      previous = key;
    }
    this.pos++;
    return BencodeDict.fromBinaryEntries(keys, values);
  }

  /** Reads a dictionary key as a binary string (one code unit per byte). */
  #key(): string {
    const c = this.#bytes[this.pos];
    if (c < CHAR_0 || c > CHAR_9) throw new BencodeError("a byte-string key", this.pos);
    const length = this.#length();
    const start = this.pos;
    this.pos += length;
    return internKey(this.#bytes, start, this.pos);
  }

  #string(): Uint8Array {
    const length = this.#length();
    const start = this.pos;
    this.pos += length;
    return this.#bytes.subarray(start, this.pos);
  }

  /** Reads `<digits>:` and checks that that many bytes follow. */
  #length(): number {
    const bytes = this.#bytes;
    const start = this.pos;
    let pos = start;
    let length = 0;
    let c = bytes[pos];
    while (c >= CHAR_0 && c <= CHAR_9) {
      length = length * 10 + (c - CHAR_0);
      c = bytes[++pos];
    }
    if (pos >= this.#end) throw new BencodeError("':' after the length (input ended)", pos);
    if (c !== CHAR_COLON) throw new BencodeError("a digit or ':' in a length", pos);
    if (bytes[start] === CHAR_0 && pos - start > 1) {
      throw new BencodeError("a length without leading zeros", start);
    }
    pos++;
    if (pos - start > SAFE_DIGITS + 1 || length > this.#end - pos) {
      throw new BencodeError(`a length of at most ${this.#end - pos} (bytes left)`, start);
    }
    this.pos = pos;
    return length;
  }

  #integer(): number | bigint {
    const bytes = this.#bytes;
    const start = ++this.pos;
    let pos = start;
    const negative = bytes[pos] === CHAR_MINUS;
    if (negative) pos++;
    const digitsStart = pos;
    let value = 0;
    let c = bytes[pos];
    while (c >= CHAR_0 && c <= CHAR_9) {
      value = value * 10 + (c - CHAR_0);
      c = bytes[++pos];
    }
    const digits = pos - digitsStart;
    if (pos >= this.#end) throw new BencodeError("'e' after the integer (input ended)", pos);
    if (c !== CHAR_E) throw new BencodeError(digits ? "a digit or 'e'" : "a digit", pos);
    if (digits === 0) throw new BencodeError("a digit", pos);
    if (bytes[digitsStart] === CHAR_0 && (digits > 1 || negative)) {
      throw new BencodeError(negative ? "no '-0'" : "an integer without leading zeros", start);
    }
    this.pos = pos + 1;
    if (digits <= SAFE_DIGITS) return negative ? -value : value;
    const big = BigInt(bytesToBinary(bytes, start, pos));
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
}

/**
 * Recently seen keys, by a cheap hash of their bytes. Documents repeat the
 * same few keys thousands of times (`length`, `path`): comparing bytes with
 * a cached string is much cheaper than building the string again.
 */
const keyCache: string[] = new Array(1024).fill("");
const MAX_CACHED_KEY = 32;

function internKey(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return "";
  if (length > MAX_CACHED_KEY) return bytesToBinary(bytes, start, end);
  const slot =
    (length * 31 + bytes[start] * 7 + bytes[end - 1] * 131 + bytes[start + (length >> 1)]) &
    1023;
  const cached = keyCache[slot];
  if (cached.length === length) {
    let i = 0;
    while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === length) return cached;
  }
  const key = bytesToBinary(bytes, start, end);
  keyCache[slot] = key;
  return key;
}
