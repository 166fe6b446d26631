/**
 * Mapping piece-addressed byte ranges onto the torrent's files.
 */
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import { StorageError } from "./errors.ts";

/**
 * The part of a piece-addressed range that falls in one file.
 *
 * @example
 * ```ts
 * import { fileSpans, type FileSpan, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const spans: FileSpan[] = fileSpans(torrent, 0, 0, 16384);
 * ```
 */
export interface FileSpan {
  /** Index into `torrent.files`. */
  readonly fileIndex: number;
  /** Offset of the span's first byte inside that file. */
  readonly fileOffset: number;
  /** Offset of the span's first byte inside the requested range. */
  readonly rangeOffset: number;
  /** Number of bytes. */
  readonly length: number;
}

/**
 * Checks that (piece, offset, length) lies inside the torrent, else throws a
 * `StorageError` of kind `out-of-range`.
 *
 * @example
 * ```ts
 * import { checkPieceRange, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * checkPieceRange(torrent, 0, 0, 16384, "read");
 * ```
 *
 * @param torrent The torrent.
 * @param piece Piece index.
 * @param offset Byte offset inside the piece.
 * @param length Number of bytes.
 * @param operation The operation, for the error message.
 */
export function checkPieceRange(
  torrent: Torrent,
  piece: number,
  offset: number,
  length: number,
  operation: string,
): void {
  if (!Number.isInteger(piece) || piece < 0 || piece >= torrent.pieceCount) {
    throw new StorageError(
      "out-of-range",
      operation,
      `piece ${piece}`,
      `the torrent has ${torrent.pieceCount} pieces`,
    );
  }
  const pieceLength = pieceLengthAt(torrent, piece);
  if (
    !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 ||
    offset + length > pieceLength
  ) {
    throw new StorageError(
      "out-of-range",
      operation,
      `piece ${piece}`,
      `bytes ${offset}+${length} do not fit in a piece of ${pieceLength} bytes`,
    );
  }
}

/**
 * Splits a range of piece `piece` into per-file spans, skipping zero-length files.
 *
 * @example
 * ```ts
 * import { fileSpans, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * for (const span of fileSpans(torrent, 3, 0, 16384)) console.log(span.fileIndex);
 * ```
 *
 * @param torrent The torrent.
 * @param piece Piece index.
 * @param offset Byte offset inside the piece.
 * @param length Number of bytes.
 * @returns Spans in file order; their lengths add up to `length`.
 */
export function fileSpans(
  torrent: Torrent,
  piece: number,
  offset: number,
  length: number,
): FileSpan[] {
  checkPieceRange(torrent, piece, offset, length, "map");
  const start = piece * torrent.pieceLength + offset;
  const end = start + length;
  const spans: FileSpan[] = [];
  const files = torrent.files;
  for (let index = fileContaining(torrent, start); index < files.length; index++) {
    const file = files[index];
    if (file.offset >= end) break;
    const from = Math.max(start, file.offset);
    const to = Math.min(end, file.offset + file.length);
    if (to > from) {
      spans.push({
        fileIndex: index,
        fileOffset: from - file.offset,
        rangeOffset: from - start,
        length: to - from,
      });
    }
  }
  return spans;
}

/**
 * The pieces a file's bytes fall in, or `undefined` for a zero-length file.
 *
 * @example
 * ```ts
 * import { filePieceRange, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const range = filePieceRange(torrent, 0); // { first: 0, last: 3 }
 * ```
 *
 * @param torrent The torrent.
 * @param fileIndex Index into `torrent.files`.
 * @returns First and last piece index (inclusive).
 */
export function filePieceRange(
  torrent: Torrent,
  fileIndex: number,
): { first: number; last: number } | undefined {
  const file = torrent.files[fileIndex];
  if (file.length === 0) return undefined;
  return {
    first: Math.floor(file.offset / torrent.pieceLength),
    last: Math.floor((file.offset + file.length - 1) / torrent.pieceLength),
  };
}

/** Index of the first file whose byte range could contain `position` (binary search). */
function fileContaining(torrent: Torrent, position: number): number {
  const files = torrent.files;
  let low = 0;
  let high = files.length - 1;
  let found = files.length;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (files[middle].offset + files[middle].length > position) {
      found = middle;
      high = middle - 1;
    } else {
      low = middle + 1;
    }
  }
  return found;
}
