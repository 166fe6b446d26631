/** Small byte helpers shared across modules. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lowercase hex of `bytes`, e.g. for info hashes and peer ids.
 *
 * @example
 * ```ts
 * import { toHex } from "@bittern/bittern";
 *
 * console.log(toHex(new Uint8Array([0, 171, 255]))); // 00abff
 * ```
 *
 * @param bytes The bytes.
 * @returns Two lowercase hex digits per byte.
 */
export function toHex(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += HEX[bytes[i]];
  return text;
}

/**
 * Bytes of a hex string, or `undefined` when it is not an even-length hex string.
 *
 * @example
 * ```ts
 * import { fromHex } from "@bittern/bittern";
 *
 * console.log(fromHex("00abff")); // Uint8Array(3) [ 0, 171, 255 ]
 * console.log(fromHex("abc")); // undefined
 * ```
 *
 * @param hex Hex digits, either case.
 * @returns The bytes, or `undefined`.
 */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Orders byte strings as bencode orders dictionary keys: byte by byte, a prefix first.
 *
 * @example
 * ```ts ignore
 * import { compareBytes } from "./bytes.ts";
 *
 * console.log(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) < 0); // true
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
