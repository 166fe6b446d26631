import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import type { Bitfield } from "../util/bitfield.ts";

/** A block of a piece: what a `request` asks for. */
export interface BlockRef {
  /** Piece index. */
  readonly piece: number;
  /** Offset inside the piece. */
  readonly offset: number;
  /** Length in bytes. */
  readonly length: number;
}

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/** One piece being downloaded: the state of each of its blocks. */
export class PieceDownload {
  /** Piece index. */
  readonly piece: number;
  /** FREE, REQUESTED or RECEIVED per block. */
  readonly states: Uint8Array;
  /** How many peers have each block requested (more than one only in endgame). */
  readonly requesters: Uint8Array;
  /** Peers (by key) that delivered blocks of this piece, to charge if it fails. */
  readonly contributors = new Set<string>();
  /** Blocks neither requested nor received. */
  free: number;
  /** Blocks received. */
  received = 0;
  /** Lowest block index that may still be FREE. */
  #freeHint = 0;

  constructor(piece: number, blockCount: number) {
    this.piece = piece;
    this.states = new Uint8Array(blockCount);
    this.requesters = new Uint8Array(blockCount);
    this.free = blockCount;
  }

  /** The first FREE block, or -1. */
  firstFree(): number {
    const states = this.states;
    for (let i = this.#freeHint; i < states.length; i++) {
      if (states[i] === FREE) {
        this.#freeHint = i;
        return i;
      }
    }
    this.#freeHint = states.length;
    return -1;
  }

  /** Makes block `block` FREE again (its request was dropped). */
  setFree(block: number): void {
    this.states[block] = FREE;
    this.free++;
    if (block < this.#freeHint) this.#freeHint = block;
  }

  /** Makes every block FREE (the piece failed verification). */
  resetAll(): void {
    this.states.fill(FREE);
    this.requesters.fill(0);
    this.free = this.states.length;
    this.received = 0;
    this.#freeHint = 0;
    this.contributors.clear();
  }
}

/**
 * Which blocks of which pieces are requested or received: the session's
 * download bookkeeping. Pieces enter when the selector picks them and leave
 * when they verify (or fail and start over).
 */
export class BlockTracker {
  /** Pieces in progress, by index. */
  readonly downloads = new Map<number, PieceDownload>();
  readonly #torrent: Torrent;
  readonly #blockSize: number;
  /** Block slots per piece, for block keys. */
  readonly blocksPerPiece: number;

  /**
   * @param torrent The torrent.
   * @param blockSize Request size (16 KiB).
   */
  constructor(torrent: Torrent, blockSize: number) {
    this.#torrent = torrent;
    this.#blockSize = blockSize;
    this.blocksPerPiece = Math.ceil(torrent.pieceLength / blockSize);
  }

  /** A number naming a block uniquely in this torrent. */
  key(piece: number, block: number): number {
    return piece * this.blocksPerPiece + block;
  }

  /** The block a key names. */
  refOf(key: number): BlockRef {
    const piece = Math.floor(key / this.blocksPerPiece);
    return this.ref(piece, key - piece * this.blocksPerPiece);
  }

  /** The block `block` of `piece`. */
  ref(piece: number, block: number): BlockRef {
    const offset = block * this.#blockSize;
    const length = Math.min(this.#blockSize, pieceLengthAt(this.#torrent, piece) - offset);
    return { piece, offset, length };
  }

  /** Length of the block a key names. */
  lengthOf(key: number): number {
    const piece = Math.floor(key / this.blocksPerPiece);
    const offset = (key - piece * this.blocksPerPiece) * this.#blockSize;
    return Math.min(this.#blockSize, pieceLengthAt(this.#torrent, piece) - offset);
  }

  /** Starts downloading `piece`. */
  start(piece: number): PieceDownload {
    let download = this.downloads.get(piece);
    if (!download) {
      const blocks = Math.ceil(pieceLengthAt(this.#torrent, piece) / this.#blockSize);
      download = new PieceDownload(piece, blocks);
      this.downloads.set(piece, download);
    }
    return download;
  }

  /** A FREE block of a piece in progress that the peer has, marked REQUESTED; or undefined. */
  claimFree(has: Bitfield): number | undefined {
    for (const download of this.downloads.values()) {
      if (download.free === 0 || !has.get(download.piece)) continue;
      const block = download.firstFree();
      if (block >= 0) return this.#claim(download, block);
    }
    return undefined;
  }

  /** Claims the first FREE block of `download`. */
  claimIn(download: PieceDownload): number | undefined {
    const block = download.firstFree();
    return block >= 0 ? this.#claim(download, block) : undefined;
  }

  /**
   * Endgame: a block already requested from someone else, not yet received,
   * that this peer has and has not been asked for.
   */
  claimDuplicate(has: Bitfield, askedOfPeer: (key: number) => boolean): number | undefined {
    for (const download of this.downloads.values()) {
      if (!has.get(download.piece)) continue;
      const states = download.states;
      for (let block = 0; block < states.length; block++) {
        if (states[block] !== REQUESTED) continue;
        const key = this.key(download.piece, block);
        if (askedOfPeer(key) || download.requesters[block] >= 2) continue;
        download.requesters[block]++;
        return key;
      }
    }
    return undefined;
  }

  #claim(download: PieceDownload, block: number): number {
    download.states[block] = REQUESTED;
    download.requesters[block] = 1;
    download.free--;
    return this.key(download.piece, block);
  }

  /** A request for the block `key` was dropped (timeout, choke, disconnect). */
  release(key: number): void {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    if (!download || download.states[block] !== REQUESTED) return;
    if (download.requesters[block] > 0) download.requesters[block]--;
    if (download.requesters[block] === 0) download.setFree(block);
  }

  /**
   * A block arrived from `peer`. Returns the piece download when the block
   * was wanted (not received before), else undefined.
   */
  receive(key: number, peer: string): PieceDownload | undefined {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    if (!download || download.states[block] === RECEIVED) return undefined;
    if (download.states[block] === FREE) download.free--;
    download.states[block] = RECEIVED;
    download.requesters[block] = 0;
    download.received++;
    download.contributors.add(peer);
    return download;
  }

  /** The piece is verified: forget it. */
  finish(piece: number): void {
    this.downloads.delete(piece);
  }

  /** The piece failed: every block is FREE again. Returns the peers that sent it. */
  fail(piece: number): Set<string> {
    const download = this.downloads.get(piece);
    if (!download) return new Set();
    const contributors = new Set(download.contributors);
    download.resetAll();
    return contributors;
  }

  /** Whether any piece in progress has a FREE block. */
  hasFree(): boolean {
    for (const download of this.downloads.values()) if (download.free > 0) return true;
    return false;
  }

  #split(key: number): { piece: number; block: number } {
    const piece = Math.floor(key / this.blocksPerPiece);
    return { piece, block: key - piece * this.blocksPerPiece };
  }
}
