import type { BencodeValue } from "./types.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Beyond this many entries a dictionary builds an index instead of scanning. */
const INDEX_THRESHOLD = 12;

/**
 * Converts raw key bytes to a "binary string": one UTF-16 code unit per byte.
 * Binary strings compare and sort exactly like the raw bytes.
 */
export function bytesToBinary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Converts a binary string (one code unit per byte) back to bytes. */
export function binaryToBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Converts a JS (UTF-16) string to the binary string of its UTF-8 bytes. */
export function textToBinary(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return bytesToBinary(utf8Encoder.encode(text));
  }
  return text; // ASCII: already its own UTF-8 binary string
}

/** Marks the decoder's construction path (arrays passed through the module, not copied). */
const DECODED: Iterable<[string, BencodeValue]> = [];
let pendingKeys: string[] = [];
let pendingValues: BencodeValue[] = [];

/**
 * A bencode dictionary: ordered entries whose keys are raw byte strings.
 *
 * Keys are kept in the order they were decoded or set, so a decoded document
 * re-encodes byte for byte. Look-ups accept a JS string (compared by its UTF-8
 * bytes) or the raw key bytes, so keys that are not valid UTF-8 still work.
 *
 * @example Reading and building dictionaries
 * ```ts
 * import { BencodeDict, decode, encode } from "@bittern/bittern";
 *
 * const dict = decode(new TextEncoder().encode("d4:spami42ee")) as BencodeDict;
 * console.log(dict.get("spam")); // 42
 *
 * const built = new BencodeDict().set("b", 1).set("a", new TextEncoder().encode("text"));
 * console.log(new TextDecoder().decode(encode(built))); // d1:a4:text1:bi1ee
 * ```
 */
export class BencodeDict {
  /** Keys as binary strings (one code unit per byte), parallel to `#values`. */
  #keys: string[];
  #values: BencodeValue[];
  #index: Map<string, number> | undefined;

  /**
   * Creates a dictionary, optionally from `[key, value]` pairs.
   *
   * @param entries Initial entries; string keys are taken as UTF-8 text.
   */
  constructor(entries?: Iterable<[string | Uint8Array, BencodeValue]>) {
    if (entries === DECODED) {
      // The decoder's fast path: parallel arrays handed over by fromBinaryEntries.
      this.#keys = pendingKeys;
      this.#values = pendingValues;
      return;
    }
    this.#keys = [];
    this.#values = [];
    if (entries) { for (const [key, value] of entries) this.set(key, value); }
  }

  /** @internal Builds a dictionary from parallel arrays without copying (decoder fast path). */
  static fromBinaryEntries(keys: string[], values: BencodeValue[]): BencodeDict {
    pendingKeys = keys;
    pendingValues = values;
    return new BencodeDict(DECODED);
  }

  /** Number of entries. */
  get size(): number {
    return this.#keys.length;
  }

  #find(key: string | Uint8Array): number {
    const binary = typeof key === "string" ? textToBinary(key) : bytesToBinary(key);
    const keys = this.#keys;
    if (keys.length <= INDEX_THRESHOLD) return keys.indexOf(binary);
    if (!this.#index) {
      this.#index = new Map();
      for (let i = keys.length - 1; i >= 0; i--) this.#index.set(keys[i], i);
    }
    return this.#index.get(binary) ?? -1;
  }

  /** Returns the value under `key`, or `undefined`. */
  get(key: string | Uint8Array): BencodeValue | undefined {
    const i = this.#find(key);
    return i < 0 ? undefined : this.#values[i];
  }

  /** Whether `key` is present. */
  has(key: string | Uint8Array): boolean {
    return this.#find(key) >= 0;
  }

  /** Sets `key` to `value` (replacing in place, or appending). Returns `this`. */
  set(key: string | Uint8Array, value: BencodeValue): this {
    const i = this.#find(key);
    if (i >= 0) {
      this.#values[i] = value;
    } else {
      const binary = typeof key === "string" ? textToBinary(key) : bytesToBinary(key);
      this.#index?.set(binary, this.#keys.length);
      this.#keys.push(binary);
      this.#values.push(value);
    }
    return this;
  }

  /** Removes `key`. Returns whether it was present. */
  delete(key: string | Uint8Array): boolean {
    const i = this.#find(key);
    if (i < 0) return false;
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
    this.#index = undefined;
    return true;
  }

  /** Raw key bytes, in order. */
  *rawKeys(): IterableIterator<Uint8Array> {
    for (const key of this.#keys) yield binaryToBytes(key);
  }

  /**
   * Keys as text, in order. Keys that are not valid UTF-8 are given as
   * binary strings (one character per byte); use {@linkcode BencodeDict.rawKeys} for those.
   */
  *keys(): IterableIterator<string> {
    for (const key of this.#keys) yield binaryToText(key);
  }

  /** Values, in key order. */
  values(): IterableIterator<BencodeValue> {
    return this.#values.values();
  }

  /** `[text key, value]` pairs, in order (keys as in {@linkcode BencodeDict.keys}). */
  *entries(): IterableIterator<[string, BencodeValue]> {
    for (let i = 0; i < this.#keys.length; i++) {
      yield [binaryToText(this.#keys[i]), this.#values[i]];
    }
  }

  /** `[text key, value]` pairs, in order. */
  [Symbol.iterator](): IterableIterator<[string, BencodeValue]> {
    return this.entries();
  }

  /** @internal Keys as binary strings, for the encoder. Do not mutate. */
  get binaryKeys(): readonly string[] {
    return this.#keys;
  }

  /** @internal Values parallel to {@linkcode BencodeDict.binaryKeys}. Do not mutate. */
  get rawValues(): readonly BencodeValue[] {
    return this.#values;
  }
}

function binaryToText(binary: string): string {
  for (let i = 0; i < binary.length; i++) {
    if (binary.charCodeAt(i) > 0x7f) {
      try {
        return utf8Decoder.decode(binaryToBytes(binary));
      } catch {
        return binary;
      }
    }
  }
  return binary;
}
