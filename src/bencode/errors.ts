/**
 * Thrown for every malformed, non-canonical or unencodable bencode value.
 *
 * @example Reading where decoding failed
 * ```ts
 * import { BencodeError, decode } from "@bittern/bittern";
 *
 * try {
 *   decode(new TextEncoder().encode("i12"));
 * } catch (error) {
 *   if (error instanceof BencodeError) console.log(error.offset, error.expected);
 * }
 * ```
 */
export class BencodeError extends Error {
  /** Byte offset in the input where the problem was found (-1 when encoding). */
  readonly offset: number;
  /** What the decoder expected at {@linkcode BencodeError.offset}, or what the encoder cannot encode. */
  readonly expected: string;

  /**
   * Creates an error for the given position and expectation.
   *
   * @param expected What was expected (or, when encoding, what is wrong).
   * @param offset Byte offset of the problem; -1 when encoding.
   */
  constructor(expected: string, offset = -1) {
    super(offset >= 0 ? `bencode: expected ${expected} at byte ${offset}` : `bencode: ${expected}`);
    this.name = "BencodeError";
    this.offset = offset;
    this.expected = expected;
  }
}
