/**
 * BitTorrent v2 (BEP 52) piece arithmetic for the piece layer: which file's data a piece
 * holds, how its 16 KiB leaves are hashed, and which merkle hash it must match.
 *
 * Every v2 file starts on a piece boundary (pad files or implied padding fill the rest of
 * its last piece), so a piece holds the data of at most one file, at its start, then
 * padding. A leaf is the SHA-256 of one 16 KiB block of that data (the file's last leaf
 * covers only its remaining bytes, never padding); leaves wholly past the file are zero
 * hashes. A piece's hash is the root of its piece-wide subtree, checked against the
 * file's piece-layer entry; a file of one piece or less is checked against its `pieces
 * root`, a tree padded only to the next power of two of its leaves.
 */
import { createHash } from "node:crypto";
import { TorrentError } from "../metainfo/errors.ts";
import {
  MERKLE_BLOCK_SIZE,
  MERKLE_HASH_LENGTH,
  merkleRoot,
  nextPowerOfTwo,
  splitHashes,
} from "../metainfo/merkle.ts";
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import { bytesEqual } from "../util/bytes.ts";
import { StorageError } from "./errors.ts";

/**
 * How one piece of a v2 or hybrid torrent is checked.
 *
 * @example
 * ```ts ignore
 * import { V2Pieces, type V2PieceShape, type Torrent } from "./v2_pieces.ts";
 *
 * declare const torrent: Torrent;
 * const shape: V2PieceShape = new V2Pieces(torrent).shape(0);
 * console.log(shape.dataLength, shape.treeLeaves);
 * ```
 */
export interface V2PieceShape {
  /** Index into `torrent.files` of the file whose data the piece holds; -1 for padding only. */
  readonly file: number;
  /** Bytes of file data at the start of the piece; the rest of the piece is padding. */
  readonly dataLength: number;
  /** Leaves holding data: `ceil(dataLength / 16 KiB)`. */
  readonly dataLeaves: number;
  /**
   * Leaves the merkle tree over them is padded to (with zero hashes): the piece's
   * `pieceLength / 16 KiB`, or, for a file of one piece or less, the next power of two of
   * its leaves.
   */
  readonly treeLeaves: number;
  /**
   * The 32-byte hash the tree's root must equal (a piece-layer entry, or the file's `pieces
   * root`); `undefined` when the torrent does not carry it (a hybrid without that file's
   * piece layer: SHA-1 alone checks it) or the piece is padding only.
   */
  readonly expected: Uint8Array | undefined;
}

/** A v2 piece holding no file data: nothing but padding, which reads as zeros. */
const PADDING_ONLY: V2PieceShape = {
  file: -1,
  dataLength: 0,
  dataLeaves: 0,
  treeLeaves: 0,
  expected: undefined,
};

/**
 * The v2 view of a v2-only or hybrid torrent's pieces: maps each piece to its file and
 * expected merkle hash, hashes leaves and computes piece roots.
 *
 * @example
 * ```ts ignore
 * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
 *
 * declare const torrent: Torrent;
 * declare const pieceBytes: Uint8Array; // all of piece 0
 * const pieces = new V2Pieces(torrent);
 * const shape = pieces.shape(0);
 * const leaves = new Uint8Array(shape.dataLeaves * 32);
 * const clean = pieces.hashLeaves(0, 0, pieceBytes, leaves);
 * console.log(clean && pieces.matches(0, leaves));
 * ```
 */
export class V2Pieces {
  /** The torrent. */
  readonly torrent: Torrent;
  /** Index into `torrent.files` of the data file of each piece, -1 for padding only. */
  readonly #fileOf: Int32Array;

  /**
   * Maps a v2 or hybrid torrent's pieces to its files.
   *
   * @param torrent A torrent of version 2 or `"hybrid"`.
   * @throws {StorageError} `out-of-range` when a data file does not start on a piece boundary.
   */
  constructor(torrent: Torrent) {
    this.torrent = torrent;
    this.#fileOf = new Int32Array(torrent.pieceCount).fill(-1);
    const { pieceLength } = torrent;
    torrent.files.forEach((file, index) => {
      if (file.padding || file.length === 0) return;
      if (file.offset % pieceLength !== 0) {
        throw new StorageError(
          "out-of-range",
          "open",
          file.path.join("/"),
          `v2 file at offset ${file.offset} does not start on a piece boundary (BEP 52)`,
        );
      }
      const first = file.offset / pieceLength;
      const last = Math.min(
        torrent.pieceCount - 1,
        Math.floor((file.offset + file.length - 1) / pieceLength),
      );
      for (let piece = first; piece <= last; piece++) this.#fileOf[piece] = index;
    });
  }

  /**
   * Throws unless every piece of a v2-only torrent can be checked: each file of more than
   * one piece needs its piece layer (fetching layers from peers is not supported yet).
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * new V2Pieces(torrent).assertVerifiable();
   * ```
   *
   * @throws {TorrentError} code `v2-only-unsupported`, naming the first file without its layer.
   */
  assertVerifiable(): void {
    const missing = this.torrent.files.find((file) =>
      !file.padding && file.length > 0 &&
      (!file.piecesRoot || (file.length > this.torrent.pieceLength && !file.pieceLayer))
    );
    if (!missing) return;
    throw new TorrentError([{
      path: '["piece layers"]',
      expected: `the piece layer of ${missing.path.join("/")} (a v2-only torrent is verified ` +
        "by its piece layers; fetching them from peers is not supported yet)",
    }], { code: "v2-only-unsupported" });
  }

  /**
   * Whether piece `piece` holds no file data, only padding (O(1), no allocation).
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * console.log(new V2Pieces(torrent).paddingOnly(0)); // false
   * ```
   *
   * @param piece Piece index.
   * @returns True for a piece of padding only.
   */
  paddingOnly(piece: number): boolean {
    return this.#fileOf[piece] < 0;
  }

  /**
   * How piece `piece` is checked.
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * console.log(new V2Pieces(torrent).shape(torrent.pieceCount - 1).dataLength);
   * ```
   *
   * @param piece Piece index.
   * @returns The piece's file, data length, leaves and expected hash.
   */
  shape(piece: number): V2PieceShape {
    const index = this.#fileOf[piece];
    if (index === undefined || index < 0) return PADDING_ONLY;
    const { torrent } = this;
    const file = torrent.files[index];
    const start = piece * torrent.pieceLength - file.offset;
    const dataLength = Math.min(
      file.length - start,
      torrent.pieceLength,
      pieceLengthAt(torrent, piece),
    );
    const dataLeaves = Math.ceil(dataLength / MERKLE_BLOCK_SIZE);
    if (file.length <= torrent.pieceLength) {
      return {
        file: index,
        dataLength,
        dataLeaves,
        treeLeaves: nextPowerOfTwo(dataLeaves),
        expected: file.piecesRoot,
      };
    }
    const at = (start / torrent.pieceLength) * MERKLE_HASH_LENGTH;
    return {
      file: index,
      dataLength,
      dataLeaves,
      treeLeaves: torrent.pieceLength / MERKLE_BLOCK_SIZE,
      expected: file.pieceLayer?.subarray(at, at + MERKLE_HASH_LENGTH),
    };
  }

  /**
   * Hashes the leaves of `data`, bytes of piece `piece` from `offset` (a multiple of 16
   * KiB), into `leaves` (32 bytes per data leaf, indexed from the piece's start), and checks
   * that its padding bytes are zero.
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * declare const block: Uint8Array; // the 16 KiB at offset 16384 of piece 0
   * const pieces = new V2Pieces(torrent);
   * const leaves = new Uint8Array(pieces.shape(0).dataLeaves * 32);
   * pieces.hashLeaves(0, 16384, block, leaves);
   * ```
   *
   * @param piece Piece index.
   * @param offset Where `data` starts in the piece.
   * @param data The bytes.
   * @param leaves Where leaf hashes go (`shape(piece).dataLeaves * 32` bytes).
   * @returns False when a padding byte in `data` is not zero.
   */
  hashLeaves(piece: number, offset: number, data: Uint8Array, leaves: Uint8Array): boolean {
    return hashLeaves(data, offset, this.shape(piece).dataLength, leaves);
  }

  /**
   * The root of piece `piece`'s tree over `leaves` (as {@linkcode V2Pieces.hashLeaves}
   * fills them).
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * declare const leaves: Uint8Array;
   * console.log(new V2Pieces(torrent).pieceRoot(0, leaves).length); // 32
   * ```
   *
   * @param piece Piece index.
   * @param leaves The data leaves' hashes, 32 bytes each.
   * @returns The 32-byte root, or `undefined` for a piece of padding only.
   */
  pieceRoot(piece: number, leaves: Uint8Array): Uint8Array | undefined {
    const shape = this.shape(piece);
    return shape.dataLeaves === 0 ? undefined : rootOf(leaves, shape);
  }

  /**
   * Whether piece `piece`'s leaves hash to its expected hash: `undefined` when the torrent
   * carries no v2 hash for it (see {@linkcode V2PieceShape.expected}); true for a piece of
   * padding only.
   *
   * @example
   * ```ts ignore
   * import { V2Pieces, type Torrent } from "./v2_pieces.ts";
   *
   * declare const torrent: Torrent;
   * declare const leaves: Uint8Array;
   * if (new V2Pieces(torrent).matches(0, leaves) === false) console.log("piece 0 is corrupt");
   * ```
   *
   * @param piece Piece index.
   * @param leaves The data leaves' hashes, 32 bytes each.
   * @returns The verdict.
   */
  matches(piece: number, leaves: Uint8Array): boolean | undefined {
    const shape = this.shape(piece);
    if (shape.dataLeaves === 0) return true;
    if (!shape.expected) return undefined;
    return bytesEqual(rootOf(leaves, shape), shape.expected);
  }
}

/**
 * Hashes the 16 KiB leaves in `data` (at `offset` in a piece whose first `dataLength` bytes
 * are file data) into `leaves`; false when a byte past `dataLength` is not zero.
 */
export function hashLeaves(
  data: Uint8Array,
  offset: number,
  dataLength: number,
  leaves: Uint8Array,
): boolean {
  let clean = true;
  for (let at = 0; at < data.length; at += MERKLE_BLOCK_SIZE) {
    const leafStart = offset + at;
    const end = Math.min(at + MERKLE_BLOCK_SIZE, data.length);
    const dataEnd = Math.min(end, dataLength - offset);
    if (dataEnd > at) {
      const digest = createHash("sha256").update(data.subarray(at, dataEnd)).digest();
      leaves.set(digest, (leafStart / MERKLE_BLOCK_SIZE) * MERKLE_HASH_LENGTH);
    }
    if (clean && !allZero(data, Math.max(at, dataEnd), end)) clean = false;
  }
  return clean;
}

function rootOf(leaves: Uint8Array, shape: V2PieceShape): Uint8Array {
  return merkleRoot(splitHashes(leaves, shape.dataLeaves), shape.treeLeaves);
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The blocks of a failed v2 piece to fetch again: those holding a leaf whose hash as received
 * differs from `trusted` (the piece's leaf hashes, proven against its piece hash), and those
 * whose padding bytes were not zero (`dirty`). With 16 KiB blocks, block `i` is leaf `i`; a
 * larger block spans several leaves; a block of padding only is bad only when dirty.
 *
 * @example
 * ```ts ignore
 * import { badBlocks } from "./v2_pieces.ts";
 *
 * declare const received: Uint8Array; // 32 bytes per data leaf, as the piece arrived
 * declare const trusted: Uint8Array; // the same leaves from a proven `hashes` answer
 * console.log(badBlocks(received, trusted, 64, 16384)); // e.g. [17]
 * ```
 *
 * @param received Leaf hashes of the piece's data as received (32 bytes each).
 * @param trusted The true leaf hashes, at least as many.
 * @param blockCount Blocks in the piece.
 * @param blockSize Bytes per block (a multiple of 16 KiB).
 * @param dirty Blocks whose padding bytes were not zero.
 * @returns The bad blocks' indices, in order.
 */
export function badBlocks(
  received: Uint8Array,
  trusted: Uint8Array,
  blockCount: number,
  blockSize: number,
  dirty?: ReadonlySet<number>,
): number[] {
  const leavesPerBlock = blockSize / MERKLE_BLOCK_SIZE;
  const dataLeaves = received.length / MERKLE_HASH_LENGTH;
  const bad: number[] = [];
  for (let block = 0; block < blockCount; block++) {
    let good = !dirty?.has(block);
    const end = Math.min((block + 1) * leavesPerBlock, dataLeaves);
    for (let leaf = block * leavesPerBlock; good && leaf < end; leaf++) {
      const at = leaf * MERKLE_HASH_LENGTH;
      good = bytesEqual(
        received.subarray(at, at + MERKLE_HASH_LENGTH),
        trusted.subarray(at, at + MERKLE_HASH_LENGTH),
      );
    }
    if (!good) bad.push(block);
  }
  return bad;
}
