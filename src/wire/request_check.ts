import type { WireContext } from "./limits.ts";

/**
 * Why a peer's request (or cancel) for `length` bytes at `begin` of piece
 * `index` can never be served, or `undefined` when it is well formed: a piece
 * out of range (every piece is, while `context` is unknown), zero bytes, more
 * than `maxRequestLength`, or past the end of the piece. The same rules as
 * libtorrent's `incoming_request`; a fast peer (BEP 6) gets a `reject-request`
 * for it instead of being dropped.
 *
 * @param context The torrent's shape; `undefined` before the metadata.
 * @param maxRequestLength Largest block served.
 * @param index Piece.
 * @param begin Offset in the piece.
 * @param length Bytes asked for.
 * @returns What is wrong, for events and errors.
 */
export function requestProblem(
  context: WireContext | undefined,
  maxRequestLength: number,
  index: number,
  begin: number,
  length: number,
): string | undefined {
  if (!context) return `piece ${index} before the metadata`;
  if (index >= context.pieceCount) {
    return `piece ${index} of a torrent with ${context.pieceCount} pieces`;
  }
  if (length === 0) return `0 bytes at ${index}:${begin}`;
  if (length > maxRequestLength) {
    return `${length} bytes, over the ${maxRequestLength}-byte block limit`;
  }
  const pieceLength = index < context.pieceCount - 1
    ? context.pieceLength
    : context.length - context.pieceLength * (context.pieceCount - 1);
  if (begin + length > pieceLength) {
    return `bytes ${begin}..${begin + length} of piece ${index}, which has ${pieceLength}`;
  }
  return undefined;
}
