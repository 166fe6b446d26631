/**
 * Where one v2 piece's leaves (its 16 KiB blocks' SHA-256) sit in its file's merkle tree, as
 * BEP 52 `hash request`s name them: base layer 0, the piece's first leaf within the file, and
 * as many leaves as the piece's subtree has (a power of two). Both the download agent (asking
 * for a failed piece's leaves) and the hashes agent (answering) use it.
 */
import {
  MERKLE_BLOCK_SIZE,
  MERKLE_HASH_LENGTH,
  merkleRoot,
  splitHashes,
} from "../metainfo/merkle.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { V2Pieces } from "../storage/v2_pieces.ts";
import { bytesEqual, toHex } from "../util/bytes.ts";

/** One piece's leaves in its file's tree. */
export interface PieceLeafRange {
  /** The piece. */
  readonly piece: number;
  /** The file's `pieces root`. */
  readonly root: Uint8Array;
  /** The piece's first leaf, counted from the file's first. */
  readonly index: number;
  /**
   * Leaves of the piece's subtree: `pieceLength / 16 KiB`, or for a file of one piece the
   * next power of two of its leaves (those past the file's data are zero hashes).
   */
  readonly length: number;
  /** Bytes of file data in the piece. */
  readonly dataLength: number;
  /** The hash the leaves must lead to: the piece-layer entry, or the file's root. */
  readonly expected: Uint8Array;
}

/**
 * The leaf ranges of a v2 or hybrid torrent's pieces.
 *
 * @example
 * ```ts ignore
 * import { PieceLeaves } from "./piece_leaves.ts";
 * import type { Torrent } from "../metainfo/torrent.ts";
 *
 * declare const torrent: Torrent;
 * const range = new PieceLeaves(torrent).rangeOf(3);
 * if (range) console.log(range.index, range.length);
 * ```
 */
export class PieceLeaves {
  readonly #torrent: Torrent;
  readonly #pieces: V2Pieces | undefined;
  /** Files by hex `pieces root`, built on first use. */
  #byRoot: Map<string, number> | undefined;

  /** @param torrent Any torrent; a v1 torrent has no ranges. */
  constructor(torrent: Torrent) {
    this.#torrent = torrent;
    this.#pieces = torrent.version === 2 || torrent.version === "hybrid"
      ? new V2Pieces(torrent)
      : undefined;
  }

  /**
   * Piece `piece`'s leaves, or `undefined` when they cannot tell its blocks apart: a v1
   * torrent, padding only, no v2 hash known for it, or a single leaf.
   */
  rangeOf(piece: number): PieceLeafRange | undefined {
    const shape = this.#pieces?.shape(piece);
    if (!shape?.expected || shape.treeLeaves < 2) return undefined;
    const file = this.#torrent.files[shape.file];
    if (!file.piecesRoot) return undefined;
    return {
      piece,
      root: file.piecesRoot,
      index: (piece * this.#torrent.pieceLength - file.offset) / MERKLE_BLOCK_SIZE,
      length: shape.treeLeaves,
      dataLength: shape.dataLength,
      expected: shape.expected,
    };
  }

  /**
   * The piece whose leaves are exactly `length` leaves from `index` in the file with `root`,
   * or `undefined` when they are not one piece's.
   */
  pieceAt(root: Uint8Array, index: number, length: number): number | undefined {
    if (!this.#byRoot) {
      this.#byRoot = new Map();
      this.#torrent.files.forEach((file, at) => {
        if (file.piecesRoot && !file.padding && file.length > 0) {
          this.#byRoot!.set(toHex(file.piecesRoot), at);
        }
      });
    }
    const at = this.#byRoot.get(toHex(root));
    if (at === undefined || !Number.isSafeInteger(index) || index < 0) return undefined;
    const { pieceLength } = this.#torrent;
    const start = this.#torrent.files[at].offset + index * MERKLE_BLOCK_SIZE;
    if (start % pieceLength !== 0) return undefined;
    const piece = start / pieceLength;
    if (piece >= this.#torrent.pieceCount) return undefined;
    const range = this.rangeOf(piece);
    return range && range.index === index && range.length === length &&
        bytesEqual(range.root, root)
      ? piece
      : undefined;
  }
}

/**
 * Whether `leaves` (32 bytes each, `range.length` of them) lead to the piece's trusted hash.
 *
 * @example
 * ```ts ignore
 * import { leavesProven, type PieceLeafRange } from "./piece_leaves.ts";
 *
 * declare const range: PieceLeafRange;
 * declare const hashes: Uint8Array;
 * if (!leavesProven(range, hashes)) console.log("lying peer");
 * ```
 */
export function leavesProven(range: PieceLeafRange, leaves: Uint8Array): boolean {
  if (leaves.length !== range.length * MERKLE_HASH_LENGTH) return false;
  return bytesEqual(merkleRoot(splitHashes(leaves), range.length), range.expected);
}
