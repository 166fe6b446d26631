import { BencodeDict, bytesToBinary, textToBinary } from "./dict.ts";
import { BencodeError } from "./errors.ts";
import type { Encodable } from "./types.ts";

const utf8 = new TextEncoder();

/**
 * Encodes a value as canonical bencode: dictionary keys sorted by their raw
 * bytes, integers in shortest form. Accepts decoded values, JS strings (as
 * UTF-8), arrays, plain objects, `Map`s and {@linkcode BencodeDict}s.
 *
 * Throws {@linkcode BencodeError} for non-integers, NaN, unsafe-range numbers
 * (pass a `bigint`), `undefined`, `null`, booleans, other objects, duplicate
 * keys and cycles.
 *
 * @example Encoding a plain object
 * ```ts
 * import { encode } from "@bittern/bittern";
 *
 * const bytes = encode({ name: "x", length: 3, pieces: new Uint8Array(20) });
 * console.log(bytes.length); // 48
 * ```
 *
 * @param value The value to encode.
 * @returns The bencoded bytes.
 */
export function encode(value: Encodable): Uint8Array {
  const writer = new Writer();
  writer.value(value);
  return writer.result();
}

/** Appends to a buffer that doubles as it fills. */
class Writer {
  #buffer = new Uint8Array(1024);
  #pos = 0;
  /** Containers being encoded right now, to detect cycles. */
  readonly #active = new Set<object>();

  result(): Uint8Array {
    // A nearly full buffer is handed out as is, saving a copy of large outputs.
    const spare = this.#buffer.length - this.#pos;
    if (spare <= this.#buffer.length >> 2) return this.#buffer.subarray(0, this.#pos);
    return this.#buffer.slice(0, this.#pos);
  }

  #reserve(count: number): void {
    const needed = this.#pos + count;
    if (needed <= this.#buffer.length) return;
    // Grow by a quarter past what is needed: doubling would waste half on one big write.
    const size = Math.max(this.#buffer.length * 2, needed + (needed >> 2));
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#pos));
    this.#buffer = grown;
  }

  #byte(c: number): void {
    this.#reserve(1);
    this.#buffer[this.#pos++] = c;
  }

  #ascii(text: string): void {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let pos = this.#pos;
    for (let i = 0; i < text.length; i++) buffer[pos++] = text.charCodeAt(i);
    this.#pos = pos;
  }

  value(value: Encodable): void {
    if (value instanceof Uint8Array) return this.#bytes(value);
    switch (typeof value) {
      case "string":
        return this.#text(value);
      case "number":
        if (!Number.isInteger(value)) throw new BencodeError(`an integer, not ${value}`);
        if (!Number.isSafeInteger(value)) {
          throw new BencodeError(`a safe integer, not ${value} (pass a bigint)`);
        }
        return this.#integer(String(value));
      case "bigint":
        return this.#integer(value.toString());
      case "object":
        if (value === null) break;
        return this.#container(value);
    }
    throw new BencodeError(`an encodable value, not ${describe(value)}`);
  }

  #integer(digits: string): void {
    this.#byte(0x69);
    this.#ascii(digits);
    this.#byte(0x65);
  }

  #bytes(bytes: Uint8Array): void {
    this.#ascii(`${bytes.length}:`);
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  #binary(binary: string): void {
    this.#ascii(`${binary.length}:`);
    this.#ascii(binary);
  }

  #text(text: string): void {
    let ascii = true;
    for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 0x80;
    if (ascii) return this.#binary(text);
    this.#bytes(utf8.encode(text));
  }

  #container(value: object): void {
    if (this.#active.has(value)) throw new BencodeError("a value without cycles");
    this.#active.add(value);
    if (Array.isArray(value)) {
      this.#byte(0x6c);
      for (const item of value as readonly Encodable[]) this.value(item);
      this.#byte(0x65);
    } else {
      this.#dict(entriesOf(value));
    }
    this.#active.delete(value);
  }

  #dict(entries: [string, Encodable][]): void {
    let sorted = true;
    for (let i = 1; i < entries.length && sorted; i++) sorted = entries[i - 1][0] < entries[i][0];
    if (!sorted) {
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (let i = 1; i < entries.length; i++) {
        if (entries[i - 1][0] === entries[i][0]) {
          throw new BencodeError(`unique keys, not two ${JSON.stringify(entries[i][0])}`);
        }
      }
    }
    this.#byte(0x64);
    for (const [key, item] of entries) {
      this.#binary(key);
      this.value(item);
    }
    this.#byte(0x65);
  }
}

/** Dictionary entries with keys as binary strings (raw bytes, one code unit each). */
function entriesOf(value: object): [string, Encodable][] {
  if (value instanceof BencodeDict) {
    const keys = value.binaryKeys;
    const values = value.rawValues;
    return keys.map((key, i) => [key, values[i]]);
  }
  if (value instanceof Map) {
    const entries: [string, Encodable][] = [];
    for (const [key, item] of value as Map<unknown, Encodable>) {
      if (typeof key === "string") entries.push([textToBinary(key), item]);
      else if (key instanceof Uint8Array) entries.push([bytesToBinary(key), item]);
      else throw new BencodeError(`a string or Uint8Array key, not ${describe(key)}`);
    }
    return entries;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new BencodeError(`an encodable value, not ${describe(value)}`);
  }
  return Object.entries(value as Record<string, Encodable>).map((
    [key, item],
  ) => [textToBinary(key), item]);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value === "undefined" ? "undefined" : `${typeof value} ${String(value)}`;
}
