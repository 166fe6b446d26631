/** A byte range, both ends inclusive (as in HTTP). */
export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** Last byte (inclusive). */
  readonly end: number;
}

/**
 * Reads an HTTP `Range` header (RFC 9110 §14.1.2) against a resource of
 * `size` bytes: one range of `bytes=first-last`, `bytes=first-` or
 * `bytes=-suffix`.
 *
 * @example
 * ```ts
 * import { parseRange } from "@bittern/bittern";
 *
 * console.log(parseRange("bytes=100-199", 1000)); // { start: 100, end: 199 }
 * console.log(parseRange("bytes=-10", 1000)); // { start: 990, end: 999 }
 * console.log(parseRange("bytes=2000-", 1000)); // "unsatisfiable"
 * console.log(parseRange("items=1-2", 1000)); // undefined: serve the whole file
 * ```
 *
 * @param header The header's value (`null` when absent).
 * @param size The resource's length in bytes.
 * @returns The range (its end clamped to the last byte); `"unsatisfiable"`
 * for a range that starts past the end (answer 416); `undefined` for no
 * header, another unit, several ranges or a malformed one (serve it all, as
 * RFC 9110 allows a server to ignore `Range`).
 */
export function parseRange(
  header: string | null | undefined,
  size: number,
): ByteRange | "unsatisfiable" | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    // bytes=-N: the last N bytes.
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return undefined;
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    return undefined;
  }
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}
