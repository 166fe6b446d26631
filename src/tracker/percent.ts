/**
 * BEP 3 URL encoding of raw bytes (info hashes and peer ids are binary, not text).
 */

const HEX_UPPER = "0123456789ABCDEF";

function isUnreserved(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e; // - . _ ~
}

/**
 * Percent-encodes raw bytes: unreserved characters stay literal, every other byte becomes `%XX`.
 *
 * @param bytes The raw bytes, e.g. an info hash.
 * @returns The URL-safe text.
 *
 * @example
 * ```ts
 * import { percentEncodeBytes } from "@bittern/bittern";
 *
 * console.log(percentEncodeBytes(new Uint8Array([0x12, 0x41, 0xff]))); // "%12A%FF"
 * ```
 */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) {
    text += isUnreserved(byte)
      ? String.fromCharCode(byte)
      : "%" + HEX_UPPER[byte >> 4] + HEX_UPPER[byte & 15];
  }
  return text;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * Decodes a percent-encoded query component to raw bytes (`+` is a space), or returns
 * `undefined` when it holds a malformed escape or a character outside ASCII.
 *
 * @param text One query key or value, as it appears in the URL.
 * @returns The raw bytes, or `undefined` when malformed.
 *
 * @example
 * ```ts
 * import { percentDecodeBytes } from "@bittern/bittern";
 *
 * console.log(percentDecodeBytes("%12A%FF")); // Uint8Array [ 18, 65, 255 ]
 * ```
 */
export function percentDecodeBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high < 0 || low < 0) return undefined;
      bytes[length++] = high * 16 + low;
      i += 2;
    } else if (code > 0x7f) {
      return undefined;
    } else {
      bytes[length++] = code === 0x2b ? 0x20 : code;
    }
  }
  return bytes.slice(0, length);
}

/**
 * Splits a URL query string (with or without the leading `?`) into raw-byte pairs, keeping
 * repeated keys (scrape sends `info_hash` several times). Malformed pairs are reported by key.
 *
 * @param search The query string.
 * @param maxPairs Pairs beyond this are refused (hostile URLs).
 * @returns The decoded pairs, or the text of the first malformed component.
 */
export function parseQueryBytes(
  search: string,
  maxPairs = 64,
): { pairs: [string, Uint8Array][] } | { malformed: string } {
  const pairs: [string, Uint8Array][] = [];
  const text = search.startsWith("?") ? search.slice(1) : search;
  if (text === "") return { pairs };
  const parts = text.split("&");
  if (parts.length > maxPairs) return { malformed: `more than ${maxPairs} parameters` };
  const latin1 = new TextDecoder("latin1");
  for (const part of parts) {
    if (part === "") continue;
    const equals = part.indexOf("=");
    const rawKey = equals < 0 ? part : part.slice(0, equals);
    const rawValue = equals < 0 ? "" : part.slice(equals + 1);
    const key = percentDecodeBytes(rawKey);
    const value = percentDecodeBytes(rawValue);
    if (key === undefined || value === undefined) return { malformed: part.slice(0, 80) };
    pairs.push([latin1.decode(key), value]);
  }
  return { pairs };
}
