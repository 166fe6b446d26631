import type { AgentPeer, BlockRef } from "../agents/agent.ts";
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import type { Bitfield } from "../util/bitfield.ts";

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/** Who sent one block of a piece, and (when it was hashed) the block's SHA-1. */
export interface BlockOrigin {
  /** The peer that sent it. */
  readonly sender: AgentPeer;
  /** SHA-1 of the block as received, when it was hashed (see {@linkcode SmartBan}). */
  readonly hash: string | undefined;
}

/** One piece being downloaded: the state of each of its blocks. */
export class PieceDownload {
  /** Piece index. */
  readonly piece: number;
  /** FREE, REQUESTED or RECEIVED per block. */
  readonly states: Uint8Array;
  /** How many peers have each block requested (more than one only in endgame). */
  readonly requesters: Uint8Array;
  /** Who sent each received block. */
  readonly origins: (BlockOrigin | undefined)[];
  /**
   * Whether one peer should fetch the whole piece: set after it failed, so
   * that a second failure names a single sender.
   */
  exclusive = false;
  /** The peer fetching an exclusive piece (the first to claim a block of it). */
  owner: AgentPeer | undefined;
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
    this.origins = new Array(blockCount);
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
    this.origins.fill(undefined);
    this.free = this.states.length;
    this.received = 0;
    this.#freeHint = 0;
  }
}

/**
 * Which blocks of which pieces are requested or received, and from whom: the
 * download agent's bookkeeping. Pieces enter when the selector picks them and
 * leave when they verify (or fail and start over).
 */
export class BlockTracker {
  /** Pieces in progress, by index. */
  readonly downloads: Map<number, PieceDownload> = new Map();
  /** Pieces in progress with a FREE block: what `claimFree` looks through. */
  readonly #open = new Set<PieceDownload>();
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

  /** Request size. */
  get blockSize(): number {
    return this.#blockSize;
  }

  /** A number naming a block uniquely in this torrent. */
  key(piece: number, block: number): number {
    return piece * this.blocksPerPiece + block;
  }

  /**
   * The key of the block at `index`/`begin` with `length`, or `undefined`
   * when that is not one of our blocks (unaligned, or the wrong length).
   */
  keyOf(index: number, begin: number, length: number): number | undefined {
    if (begin % this.#blockSize !== 0) return undefined;
    const block = begin / this.#blockSize;
    const pieceLength = pieceLengthAt(this.#torrent, index);
    if (begin >= pieceLength || length !== Math.min(this.#blockSize, pieceLength - begin)) {
      return undefined;
    }
    return this.key(index, block);
  }

  /** The block a key names. */
  refOf(key: number): BlockRef {
    const index = Math.floor(key / this.blocksPerPiece);
    const begin = (key - index * this.blocksPerPiece) * this.#blockSize;
    const length = Math.min(this.#blockSize, pieceLengthAt(this.#torrent, index) - begin);
    return { index, begin, length };
  }

  /** Starts downloading `piece` (or returns it, when in progress). */
  start(piece: number): PieceDownload {
    let download = this.downloads.get(piece);
    if (!download) {
      const blocks = Math.ceil(pieceLengthAt(this.#torrent, piece) / this.#blockSize);
      download = new PieceDownload(piece, blocks);
      this.downloads.set(piece, download);
      this.#open.add(download);
    }
    return download;
  }

  /**
   * A FREE block of a piece in progress that `peer` has (and may be asked
   * for: no other owner), marked REQUESTED; or undefined.
   */
  claimFree(peer: AgentPeer): number | undefined {
    for (const download of this.#open) {
      if (!peer.pieces.get(download.piece)) continue;
      if (download.exclusive && (download.owner ?? peer) !== peer) continue;
      const block = download.firstFree();
      if (block < 0) continue;
      if (download.exclusive) download.owner = peer;
      return this.#claim(download, block);
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
      if (download.exclusive || !has.get(download.piece)) continue;
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

  /**
   * A FREE block of `piece` for `peer` (starting the piece if needed), marked
   * REQUESTED; undefined when none is free or another peer owns the piece.
   */
  claimFreeOf(piece: number, peer: AgentPeer): number | undefined {
    const download = this.start(piece);
    if (download.exclusive && (download.owner ?? peer) !== peer) return undefined;
    const block = download.firstFree();
    if (block < 0) return undefined;
    if (download.exclusive) download.owner = peer;
    return this.#claim(download, block);
  }

  /**
   * A block of `piece` in progress already requested from someone else (at
   * most `maxRequesters` at once), not received, not yet asked of this peer:
   * endgame for one urgent piece.
   */
  claimDuplicateOf(
    piece: number,
    askedOfPeer: (key: number) => boolean,
    maxRequesters: number,
  ): number | undefined {
    const download = this.downloads.get(piece);
    if (!download || download.exclusive) return undefined;
    const states = download.states;
    for (let block = 0; block < states.length; block++) {
      if (states[block] !== REQUESTED || download.requesters[block] >= maxRequesters) continue;
      const key = this.key(piece, block);
      if (askedOfPeer(key)) continue;
      download.requesters[block]++;
      return key;
    }
    return undefined;
  }

  #claim(download: PieceDownload, block: number): number {
    download.states[block] = REQUESTED;
    download.requesters[block] = 1;
    if (--download.free === 0) this.#open.delete(download);
    return this.key(download.piece, block);
  }

  /** Makes a block FREE again and the piece open to claims. */
  #free(download: PieceDownload, block: number): void {
    download.setFree(block);
    this.#open.add(download);
  }

  /** A request for the block `key` was dropped (timeout, choke, disconnect). */
  release(key: number): void {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    if (!download || download.states[block] !== REQUESTED) return;
    if (download.requesters[block] > 0) download.requesters[block]--;
    if (download.requesters[block] === 0) this.#free(download, block);
  }

  /** Whether block `key` was received already (or its piece is not in progress). */
  isReceived(key: number): boolean {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    return !download || download.states[block] === RECEIVED;
  }

  /**
   * A block arrived from `origin.sender`. Returns the piece download when the
   * block was wanted (not received before), else undefined.
   */
  receive(key: number, origin: BlockOrigin): PieceDownload | undefined {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    if (!download || download.states[block] === RECEIVED) return undefined;
    if (download.states[block] === FREE && --download.free === 0) this.#open.delete(download);
    download.states[block] = RECEIVED;
    download.requesters[block] = 0;
    download.received++;
    download.origins[block] = origin;
    return download;
  }

  /** Storage did not take the block: it is FREE again. */
  unreceive(key: number): void {
    const { piece, block } = this.#split(key);
    const download = this.downloads.get(piece);
    if (!download || download.states[block] !== RECEIVED) return;
    download.received--;
    download.origins[block] = undefined;
    this.#free(download, block);
  }

  /** The piece is verified: forget it. Returns who sent each block. */
  finish(piece: number): (BlockOrigin | undefined)[] {
    const download = this.downloads.get(piece);
    if (!download) return [];
    this.downloads.delete(piece);
    this.#open.delete(download);
    return [...download.origins];
  }

  /**
   * The piece failed: every block is FREE again, and from now on one peer
   * (the first to claim a block) fetches it. Returns who sent each block.
   */
  fail(piece: number): (BlockOrigin | undefined)[] {
    const download = this.downloads.get(piece);
    if (!download) return [];
    const origins = [...download.origins];
    download.resetAll();
    this.#open.add(download);
    download.exclusive = true;
    download.owner = undefined;
    return origins;
  }

  /**
   * Only blocks `bad` of the failed piece are to fetch again (a v2 piece repaired by its leaf
   * hashes): they are FREE again, the others stay received. Returns who sent each bad block.
   */
  failBlocks(piece: number, bad: readonly number[]): (BlockOrigin | undefined)[] {
    const download = this.downloads.get(piece);
    if (!download) return [];
    const origins = bad.map((block) => download.origins[block]);
    for (const block of bad) {
      if (download.states[block] !== RECEIVED) continue;
      download.received--;
      download.origins[block] = undefined;
      download.requesters[block] = 0;
      this.#free(download, block);
    }
    return origins;
  }

  /** `peer` stopped fetching (gone, choking, snubbing): its exclusive pieces go to the next. */
  disown(peer: AgentPeer): void {
    for (const download of this.downloads.values()) {
      if (download.owner === peer) download.owner = undefined;
    }
  }

  /** Forgets every piece in progress (after a recheck). */
  clear(): void {
    this.downloads.clear();
    this.#open.clear();
  }

  #split(key: number): { piece: number; block: number } {
    const piece = Math.floor(key / this.blocksPerPiece);
    return { piece, block: key - piece * this.blocksPerPiece };
  }
}
