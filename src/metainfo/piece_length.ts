/**
 * Smallest piece length {@linkcode choosePieceLength} picks: 16 KiB.
 *
 * @example
 * ```ts
 * import { choosePieceLength, MIN_AUTO_PIECE_LENGTH } from "@bittern/bittern";
 *
 * console.log(choosePieceLength(1) === MIN_AUTO_PIECE_LENGTH); // true
 * ```
 */
export const MIN_AUTO_PIECE_LENGTH = 16 * 1024;
/**
 * Largest piece length {@linkcode choosePieceLength} picks: 16 MiB.
 *
 * @example
 * ```ts
 * import { choosePieceLength, MAX_AUTO_PIECE_LENGTH } from "@bittern/bittern";
 *
 * console.log(choosePieceLength(2 ** 50) === MAX_AUTO_PIECE_LENGTH); // true
 * ```
 */
export const MAX_AUTO_PIECE_LENGTH = 16 * 1024 * 1024;
/**
 * The piece count {@linkcode choosePieceLength} aims at (within a factor of √2).
 *
 * @example
 * ```ts
 * import { TARGET_PIECE_COUNT } from "@bittern/bittern";
 *
 * console.log(TARGET_PIECE_COUNT); // 1750
 * ```
 */
export const TARGET_PIECE_COUNT = 1750;

/**
 * Picks a piece length for `totalLength` bytes: the power of two that brings
 * the piece count nearest (on a log scale) to 1750, so within ~1240..2475,
 * bounded to 16 KiB..16 MiB.
 *
 * @example
 * ```ts
 * import { choosePieceLength } from "@bittern/bittern";
 *
 * console.log(choosePieceLength(1024 ** 3)); // 524288 (2048 pieces)
 * ```
 *
 * @param totalLength Total bytes in the torrent.
 * @returns A power of two between 16 KiB and 16 MiB.
 */
export function choosePieceLength(totalLength: number): number {
  if (!(totalLength > 0)) return MIN_AUTO_PIECE_LENGTH;
  const exponent = Math.round(Math.log2(totalLength / TARGET_PIECE_COUNT));
  const length = 2 ** exponent;
  return Math.min(MAX_AUTO_PIECE_LENGTH, Math.max(MIN_AUTO_PIECE_LENGTH, length));
}
