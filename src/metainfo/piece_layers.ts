/**
 * Checking BEP 52 `piece layers` against the files' `pieces root`s, as
 * libtorrent's `load_torrent` does: the whole `piece layers` may be missing, and
 * so may any file's layer (the torrent loads without them, as from a magnet
 * link), but every layer given must belong to a file of more than one piece,
 * have one 32-byte hash per piece, and hash up to that file's root.
 */
import type { BencodeValue } from "../bencode/mod.ts";
import { bytesToBinary } from "../bencode/dict.ts";
import { toHex } from "../util/bytes.ts";
import { torrentError } from "./errors.ts";
import { MERKLE_HASH_LENGTH, pieceLayerRoot, splitHashes } from "./merkle.ts";

/** A file whose layer may be in `piece layers`. */
export interface LayeredFile {
  /** Length in bytes. */
  readonly length: number;
  /** Its 32-byte merkle root. */
  readonly piecesRoot?: Uint8Array;
}

/**
 * Matches `piece layers` to `files`.
 *
 * @example
 * ```ts ignore
 * const layers = checkPieceLayers(document["piece layers"], files, 65536);
 * ```
 *
 * @param layers The validated top-level `piece layers` (keys raw), or `undefined`.
 * @param files The files, in torrent order.
 * @param pieceLength The v2 piece length (a power of two, at least 16 KiB).
 * @returns For each file index with a layer, the layer (a view into the input).
 * @throws {TorrentError} for a malformed or unknown layer, or one that does not hash to its root.
 */
export function checkPieceLayers(
  layers: ReadonlyMap<Uint8Array, BencodeValue> | undefined,
  files: readonly LayeredFile[],
  pieceLength: number,
): Map<number, Uint8Array> {
  const found = new Map<number, Uint8Array>();
  if (!layers) return found;
  // Files of more than one piece, by root: only they have layers (a smaller file's root is its layer).
  const byRoot = new Map<string, number>();
  files.forEach((file, index) => {
    if (file.length > pieceLength && file.piecesRoot) {
      byRoot.set(bytesToBinary(file.piecesRoot), index);
    }
  });
  for (const [root, layer] of layers) {
    const where = `["piece layers"][${toHex(root)}]`;
    if (root.length !== MERKLE_HASH_LENGTH) {
      throw torrentError(where, "a key of 32 bytes (a file's pieces root)");
    }
    if (!(layer instanceof Uint8Array) || layer.length % MERKLE_HASH_LENGTH !== 0) {
      throw torrentError(where, "a string of 32-byte SHA-256 hashes");
    }
    const key = bytesToBinary(root);
    const index = byRoot.get(key);
    if (index === undefined) {
      throw torrentError(where, "the pieces root of a file of more than one piece (once)");
    }
    byRoot.delete(key);
    const pieces = Math.ceil(files[index].length / pieceLength);
    if (layer.length !== pieces * MERKLE_HASH_LENGTH) {
      throw torrentError(where, `${pieces} hashes (one per piece), found ${layer.length / 32}`);
    }
    const computed = pieceLayerRoot(splitHashes(layer), pieceLength);
    if (toHex(computed) !== toHex(root)) {
      throw torrentError(where, "hashes whose merkle root is the file's pieces root");
    }
    found.set(index, layer);
  }
  return found;
}
