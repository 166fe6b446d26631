import { concatBytes } from "../util/bytes.ts";
import { FetchError } from "./errors.ts";

/**
 * Default size limit for fetched metainfo: 16 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_METAINFO_BYTES } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_METAINFO_BYTES); // 16777216
 * ```
 */
export const DEFAULT_MAX_METAINFO_BYTES = 16 * 1024 * 1024;

/**
 * Reads a byte stream to the end, failing once it passes `maxBytes`.
 *
 * @example
 * ```ts ignore
 * const bytes = await readLimited(response.body!, url, 1 << 20);
 * ```
 *
 * @param stream The chunks (a ReadableStream works); it is cancelled on failure.
 * @param source The source, for error messages.
 * @param maxBytes The size limit.
 * @returns All the bytes.
 */
export async function readLimited(
  stream: AsyncIterable<Uint8Array>,
  source: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Bounded: the total is capped; leaving the loop early cancels the stream.
  for await (const value of stream) {
    total += value.length;
    if (total > maxBytes) throw tooLarge(source, maxBytes);
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/**
 * The error for a source bigger than its limit.
 *
 * @example
 * ```ts ignore
 * throw tooLarge(url, 16 << 20);
 * ```
 *
 * @param source The source.
 * @param maxBytes The limit.
 * @returns The error.
 */
export function tooLarge(source: string, maxBytes: number): FetchError {
  return new FetchError(source, `larger than ${maxBytes} bytes (maxBytes)`);
}
