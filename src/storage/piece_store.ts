/**
 * The piece layer a session drives: blocks in, verified pieces out. Blocks are written
 * through to storage as they arrive (memory stays bounded and a killed process keeps
 * them) and fed to the piece's running SHA-1 when in order; when a piece's last block
 * lands, its hash is finished (reading back only blocks that came out of order) and checked.
 * v2 and hybrid pieces also hash each 16 KiB leaf as it arrives, in any order, and check
 * the piece's merkle root (see `v2_pieces.ts`); a hybrid piece must pass both.
 */
import { MERKLE_BLOCK_SIZE, MERKLE_HASH_LENGTH } from "../metainfo/merkle.ts";
import {
  pieceHashAt,
  pieceLengthAt,
  type Torrent,
  visibleFileIndices,
} from "../metainfo/torrent.ts";
import { Bitfield } from "../util/bitfield.ts";
import { BlockPool } from "../util/block_pool.ts";
import { bytesEqual } from "../util/bytes.ts";
import { StorageError } from "./errors.ts";
import { type IncrementalSha1, NodeCryptoHasher, type Sha1Hasher } from "./hasher.ts";
import { checkPieceRange, filePieceRange } from "./layout.ts";
import { Limiter } from "./limiter.ts";
import { loadResume, saveResume } from "./resume.ts";
import type { Storage, TorrentStorage } from "./types.ts";
import { badBlocks, hashLeaves, V2Pieces, type V2PieceShape } from "./v2_pieces.ts";

/** The usual request size (BEP 3 clients use 16 KiB). */
export const DEFAULT_BLOCK_SIZE = 16384;

const SPARE_BUFFER_BYTES = 32 * 1024 * 1024;
/** Failed v2 pieces whose leaves as received are kept for {@linkcode PieceStore.keepGoodBlocks}. */
const MAX_FAILED_RECORDS = 64;
/** Default of {@linkcode PieceStoreOptions.writeBufferBytes}. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Most bytes of blocks kept in memory because they arrived ahead of their piece's running SHA-1
 * (libtorrent's disk threads finish reads, and so sends, out of order): fed to the hash once the
 * gap closes instead of being read back from storage when the piece completes.
 */
const AHEAD_BUFFER_BYTES = 2 * 1024 * 1024;
/**
 * Pooled block copies kept idle: at most as many as were in use at once within the last
 * 1–2 s. A fixed bound kept each store's largest burst for good: in the swarm bench (20
 * leechers) idle ahead copies grew to 17–23 MiB, more than those in use (6–9 MiB).
 */
const POOL_PEAK_PERIOD_MS = 1000;
/** Running hashes for a custom hasher without `incremental`. */
const FALLBACK_HASHER = new NodeCryptoHasher();

/** Options for {@linkcode PieceStore.open}. */
export interface PieceStoreOptions {
  /**
   * SHA-1 implementation (default: {@linkcode NodeCryptoHasher}): `incremental()` for the
   * running hash of in-order blocks (node:crypto when the hasher has none), `sha1` for
   * whole pieces read back. Not closed by the store.
   */
  readonly hasher?: Sha1Hasher;
  /** Block size the session requests in (default 16 KiB). */
  readonly blockSize?: number;
  /** Where to keep a resume file; without it every open rechecks. */
  readonly resumePath?: string;
  /**
   * Files to download, by index among the visible files (padding files are never counted:
   * see `visibleFiles`); default all.
   */
  readonly wantedFiles?: readonly number[];
  /**
   * What to do about existing data at open: `"auto"` (default) uses a valid resume file
   * and otherwise rechecks; `"recheck"` always rechecks; `"none"` assumes nothing is there.
   */
  readonly restore?: "auto" | "recheck" | "none";
  /** Called during a recheck at open. */
  readonly onRecheckProgress?: (progress: RecheckProgress) => void;
  /** How many pieces a recheck reads ahead of the hasher (default: hasher parallelism + 1). */
  readonly readAhead?: number;
  /**
   * Gather each piece's blocks into windows of the storage's `writeBatchBytes` (aligned to the
   * piece; default false: every block is written on its own), each written as one write once
   * whole, whatever order its blocks came in (two windows of a piece gather at once). A
   * gathered block's promise settles once its batch is written: when its window is whole,
   * when its piece is complete, when a third window of the piece opens, or when
   * {@linkcode PieceStore.flushBatches} or (for batches that did not grow since the last
   * call) {@linkcode PieceStore.flushIdleBatches} runs (a window with gaps: one write per
   * contiguous run). The session does this.
   */
  readonly batchWrites?: boolean;
  /** Most bytes of idle write buffers (block copies, batches) kept for reuse (default 4 MiB). */
  readonly writeBufferBytes?: number;
}

/**
 * What happened to a written block. `piece` lets the caller charge the peers that sent a
 * `failed` piece's blocks. For a v2 or hybrid torrent, a completed piece's result carries
 * `leafHashes`: the SHA-256 of each 16 KiB leaf of the piece's file data (32 bytes each, in
 * order; with 16 KiB blocks, leaf `i` is block `i`), as received, so a smart ban can tell
 * which blocks of a failed piece differ from the good ones without hashing anything again.
 * Leaves of padding only are not included.
 */
export type BlockWriteResult =
  | { readonly piece: number; readonly status: "stored" }
  | { readonly piece: number; readonly status: "verified"; readonly leafHashes?: Uint8Array }
  | { readonly piece: number; readonly status: "failed"; readonly leafHashes?: Uint8Array }
  | { readonly piece: number; readonly status: "duplicate" };

/** Progress of a recheck. */
export interface RecheckProgress {
  /** Pieces checked so far. */
  readonly checked: number;
  /** Pieces to check. */
  readonly total: number;
  /** Pieces found good so far. */
  readonly verified: number;
}

/** How the verified bitfield was established at open. */
export type RestoreSource = "resume-file" | "recheck" | "none";

interface PieceProgress {
  readonly received: Bitfield;
  readonly writing: Set<number>;
  verifying: boolean;
  /**
   * SHA-1 over the piece's leading blocks, fed as they arrive in order (the
   * usual case), so completing the piece needs no read-back.
   */
  hash: IncrementalSha1 | undefined;
  /** Blocks `[0, hashed)` are in `hash`. */
  hashed: number;
  /**
   * Copies of blocks that arrived ahead of the hash, fed to it once it reaches them: within the
   * store's budget, or all of them when storage cannot be read back (write-only).
   */
  ahead: Map<number, Uint8Array> | undefined;
  /**
   * Windows of blocks gathered on their way to storage (batching only), oldest first: at most
   * {@linkcode MAX_OPEN_BATCHES} at once.
   */
  readonly batches: WriteBatch[];
  /** v2 and hybrid: which file data the piece holds and what its root must be. */
  readonly shape: V2PieceShape | undefined;
  /** v2 and hybrid: SHA-256 of each data leaf (32 bytes each), hashed as blocks arrive. */
  readonly leaves: Uint8Array | undefined;
  /** v2 and hybrid: blocks whose padding bytes were not zero (created on the first). */
  dirtyPadding: Set<number> | undefined;
}

/** What a failed v2 piece's blocks were, kept until its good blocks are kept or it restarts. */
interface FailedPiece {
  readonly shape: V2PieceShape;
  /** Leaf hashes as received. */
  readonly leaves: Uint8Array;
  /** Blocks whose padding bytes were not zero. */
  readonly dirtyPadding: ReadonlySet<number> | undefined;
}

/**
 * The blocks of one window of a piece (the batch size, aligned to the piece's start) gathered
 * into one buffer, each at its place: written as one storage write once the window is whole,
 * as one write per contiguous run when it must go earlier.
 */
interface WriteBatch {
  readonly piece: number;
  readonly progress: PieceProgress;
  /** A pooled buffer of the store's batch size. */
  readonly buffer: Uint8Array;
  /** Offset inside the piece of the window (and of `buffer[0]`). */
  readonly offset: number;
  /** Bytes of the piece the window spans (the batch size, or less at the piece's end). */
  readonly length: number;
  /** Index in the piece of the window's first block. */
  readonly firstBlock: number;
  /** Which of the window's blocks are gathered. */
  readonly gathered: Bitfield;
  /** Untouched since the last `flushIdleBatches`. */
  idle: boolean;
  /** Settles, for every block gathered, once the batch is written. */
  readonly written: PromiseWithResolvers<PieceProgress>;
}

/**
 * Windows of one piece gathering at once. Two let a block that arrives just past a window's end
 * (libtorrent's disk threads finish reads out of order) start the next without cutting this
 * one short; opening a third writes the oldest as it is.
 */
const MAX_OPEN_BATCHES = 2;

/** What a duplicate block's write resolves to before completion is looked at. */
const NOTHING_STORED: Promise<undefined> = Promise.resolve(undefined);

/**
 * One torrent's pieces over a {@linkcode TorrentStorage}: tracks received blocks,
 * verifies completed pieces, keeps the verified bitfield, serves blocks for seeding,
 * rechecks, selects files and saves resume files.
 *
 * @example
 * ```ts
 * import { MemoryStorage, PieceStore, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * declare const block: Uint8Array;
 * const store = await PieceStore.open(torrent, new MemoryStorage());
 * const result = await store.writeBlock(0, 0, block);
 * if (result.status === "failed") console.log(`piece ${result.piece} was corrupt`);
 * await store.close();
 * ```
 */
export class PieceStore {
  /** The torrent. */
  readonly torrent: Torrent;
  /** Block size in bytes. */
  readonly blockSize: number;
  /** The back-end storage. */
  readonly storage: TorrentStorage;
  readonly #hasher: Sha1Hasher;
  /** Whether pieces have SHA-1 hashes (v1 and hybrid). */
  readonly #hasSha1: boolean;
  /** v2 and hybrid: the pieces' merkle view; undefined for v1. */
  readonly #v2: V2Pieces | undefined;
  readonly #resumePath?: string;
  readonly #readAhead: number;
  #verified: Bitfield;
  #wanted: Bitfield;
  /**
   * Pieces both wanted and verified. With the bitfields' own set-bit counts and the one
   * short last piece, it gives every progress figure in O(1); kept by `#markVerified`
   * and `#recount` (on every replacement of either bitfield).
   */
  #verifiedWanted = 0;
  #wantedFiles: ReadonlySet<number>;
  /** Indices into `torrent.files` of the visible files (no padding). */
  readonly #visible: readonly number[];
  readonly #inProgress = new Map<number, PieceProgress>();
  /** Failed v2 pieces that can keep their good blocks (bounded, oldest dropped first). */
  readonly #failed = new Map<number, FailedPiece>();
  /**
   * Piece-sized buffers reused for read-back (fresh ones cost more than the read): one per
   * lane while rechecking, one otherwise (a download reads back only pieces whose early
   * blocks did not fit `AHEAD_BUFFER_BYTES`; each recheck lane's spare kept for good was
   * 0.5 MiB per store, 10.5 MiB over the swarm bench's 21).
   */
  readonly #spareBuffers: Uint8Array[] = [];
  readonly #maxSpareBuffers: number;
  #rechecking = false;
  /** Bounds concurrent read-back + hash, so verification memory is a few pieces at most. */
  readonly #verifications: Limiter;
  /** Copies of blocks on their way to storage (callers may reuse what they pass). */
  readonly #blockCopies: BlockPool;
  /** Copies of blocks ahead of their piece's hash (`PieceProgress.ahead`), and their bytes. */
  readonly #aheadCopies: BlockPool;
  #aheadBytes = 0;
  /** Batch size in bytes; 0 when blocks are written one by one. */
  readonly #batchBytes: number;
  readonly #freeBatchBuffers: Uint8Array[] = [];
  readonly #maxFreeBatchBuffers: number;
  /** Batches still gathering. */
  readonly #batches = new Set<WriteBatch>();
  /** Batches being written. */
  readonly #batchesWriting = new Set<Promise<PieceProgress>>();
  #restoredFrom: RestoreSource = "none";
  #resumeRejection?: string;
  #closed = false;

  private constructor(
    torrent: Torrent,
    storage: TorrentStorage,
    options: PieceStoreOptions,
    v2: V2Pieces | undefined,
  ) {
    this.torrent = torrent;
    this.storage = storage;
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize <= 0) {
      throw new StorageError(
        "out-of-range",
        "open",
        torrent.name,
        `bad block size ${this.blockSize}`,
      );
    }
    this.#hasher = options.hasher ?? new NodeCryptoHasher();
    this.#hasSha1 = torrent.pieceHashes.length > 0;
    this.#v2 = v2;
    this.#resumePath = options.resumePath;
    this.#readAhead = Math.max(1, options.readAhead ?? this.#hasher.parallelism + 1);
    this.#verifications = new Limiter(this.#readAhead);
    // Keep at most ~32 MiB of spare buffers, and at least one.
    this.#maxSpareBuffers = Math.max(
      1,
      Math.min(this.#readAhead + 1, Math.floor(SPARE_BUFFER_BYTES / torrent.pieceLength)),
    );
    const writeBufferBytes = options.writeBufferBytes ?? WRITE_BUFFER_BYTES;
    const pooling = { peakPeriodMs: POOL_PEAK_PERIOD_MS };
    this.#blockCopies = new BlockPool(
      this.blockSize,
      Math.ceil(writeBufferBytes / this.blockSize),
      pooling,
    );
    this.#aheadCopies = new BlockPool(
      this.blockSize,
      Math.floor(AHEAD_BUFFER_BYTES / this.blockSize),
      pooling,
    );
    // Batches pay off only when they hold several blocks.
    const batchBytes = options.batchWrites ? storage.writeBatchBytes ?? 0 : 0;
    this.#batchBytes = batchBytes >= 2 * this.blockSize
      ? batchBytes - batchBytes % this.blockSize
      : 0;
    this.#maxFreeBatchBuffers = this.#batchBytes
      ? Math.ceil(writeBufferBytes / this.#batchBytes)
      : 0;
    this.#verified = this.#paddingOnlyPieces();
    this.#wanted = new Bitfield(torrent.pieceCount);
    this.#visible = visibleFileIndices(torrent);
    this.#wantedFiles = new Set();
    this.setWantedFiles(options.wantedFiles ?? this.#visible.map((_, index) => index));
  }

  /**
   * Opens `storage` for `torrent` and establishes which pieces are already verified.
   *
   * @example
   * ```ts
   * import { FileSystemStorage, PieceStore, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * const store = await PieceStore.open(torrent, new FileSystemStorage("./dl"), {
   *   resumePath: "./dl/.bittern-resume",
   * });
   * console.log(store.restoredFrom, store.verified.count());
   * await store.close();
   * ```
   *
   * @param torrent The torrent.
   * @param storage The back-end.
   * @param options Hasher, block size, resume file, file selection, restore mode.
   * @returns The store.
   */
  static async open(
    torrent: Torrent,
    storage: Storage,
    options: PieceStoreOptions = {},
  ): Promise<PieceStore> {
    const visible = visibleFileIndices(torrent);
    for (const index of options.wantedFiles ?? []) checkFileIndex(index, visible.length);
    // Before storage creates anything: a v2 torrent this store cannot verify is refused.
    const v2 = v2PiecesOf(torrent, options.blockSize ?? DEFAULT_BLOCK_SIZE);
    // Back-ends index `torrent.files` (padding included).
    const opened = await storage.open(torrent, {
      wantedFiles: options.wantedFiles?.map((index) => visible[index]),
    });
    const store = new PieceStore(torrent, opened, options, v2);
    try {
      // Storage that cannot be read back holds nothing we could trust: start empty.
      const restore = opened.readable === false && options.restore !== "recheck"
        ? "none"
        : options.restore ?? "auto";
      if (restore === "auto" && await store.#loadResume()) return store;
      if (restore !== "none") {
        await store.recheck(options.onRecheckProgress);
        store.#restoredFrom = "recheck";
      }
      return store;
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  /** Whether verified pieces can be read back (and so served to peers). */
  get canServe(): boolean {
    return this.storage.readable !== false;
  }

  /** Verified pieces (a live view: do not modify). */
  get verified(): Bitfield {
    return this.#verified;
  }

  /** Pieces touched by a wanted file (a live view: do not modify). */
  get wanted(): Bitfield {
    return this.#wanted;
  }

  /** How the verified bitfield was established at open. */
  get restoredFrom(): RestoreSource {
    return this.#restoredFrom;
  }

  /** Why a resume file was not used, when one was configured and ignored. */
  get resumeRejection(): string | undefined {
    return this.#resumeRejection;
  }

  /** Whether every wanted piece is verified (O(1)). */
  get complete(): boolean {
    return this.#verifiedWanted === this.#wanted.count();
  }

  /** Number of wanted pieces (O(1)). */
  get wantedPieces(): number {
    return this.#wanted.count();
  }

  /** Number of wanted pieces not verified yet (O(1)). */
  get missingWantedPieces(): number {
    return this.#wanted.count() - this.#verifiedWanted;
  }

  /** Bytes in wanted pieces (O(1)). */
  get wantedBytes(): number {
    return this.#bytesOf(this.#wanted.count(), this.#lastIn(this.#wanted));
  }

  /** Bytes in verified pieces, wanted or not (O(1)). */
  get verifiedBytes(): number {
    return this.#bytesOf(this.#verified.count(), this.#lastIn(this.#verified));
  }

  /**
   * Bytes in pieces both wanted and verified (O(1)): a download's progress is
   * `verifiedWantedBytes / wantedBytes`.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * const progress = store.wantedBytes === 0 ? 1 : store.verifiedWantedBytes / store.wantedBytes;
   * ```
   */
  get verifiedWantedBytes(): number {
    return this.#bytesOf(
      this.#verifiedWanted,
      this.#lastIn(this.#wanted) && this.#lastIn(this.#verified),
    );
  }

  /**
   * Whether piece `piece` is wanted and not verified yet (O(1)).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * if (store.needs(7)) console.log("piece 7 is still to download");
   * ```
   *
   * @param piece Piece index.
   * @returns Whether it is still to download.
   * @throws {StorageError} `out-of-range` for an index outside the torrent.
   */
  needs(piece: number): boolean {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.torrent.pieceCount) {
      checkPieceRange(this.torrent, piece, 0, 0, "needs");
    }
    return this.#wanted.get(piece) && !this.#verified.get(piece);
  }

  /**
   * Selects the files to download, by index among the visible files (BEP 47 padding files
   * are never counted: index 2 is the third file `bittern info` lists). A piece is wanted
   * when any wanted file has bytes in it, so boundary pieces shared with skipped files are
   * wanted too (and their bytes are written into the skipped file, which is then created
   * sparse).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * store.setWantedFiles([0, 2]);
   * console.log(store.wanted.count());
   * ```
   *
   * @param indices Indices into `visibleFiles(torrent)`.
   */
  setWantedFiles(indices: Iterable<number>): void {
    const wantedFiles = new Set<number>();
    const wanted = new Bitfield(this.torrent.pieceCount);
    for (const index of indices) {
      checkFileIndex(index, this.#visible.length);
      wantedFiles.add(index);
      const range = filePieceRange(this.torrent, this.#visible[index]);
      if (!range) continue;
      for (let piece = range.first; piece <= range.last; piece++) wanted.set(piece);
    }
    this.#wantedFiles = wantedFiles;
    this.#wanted = wanted;
    this.#recount();
  }

  /** Indices (among the visible files, see `visibleFiles`) of the wanted files. */
  get wantedFiles(): ReadonlySet<number> {
    return this.#wantedFiles;
  }

  /**
   * Number of blocks in piece `piece`.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * console.log(store.blockCount(0));
   * ```
   *
   * @param piece Piece index.
   * @returns Block count.
   */
  blockCount(piece: number): number {
    checkPieceRange(this.torrent, piece, 0, 0, "blocks");
    return Math.ceil(pieceLengthAt(this.torrent, piece) / this.blockSize);
  }

  /**
   * Blocks of piece `piece` still to fetch (neither stored nor being written), as
   * `{offset, length}`; empty for a verified or verifying piece.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * for (const block of store.missingBlocks(3)) console.log(block.offset, block.length);
   * ```
   *
   * @param piece Piece index.
   * @returns The missing blocks in order.
   */
  missingBlocks(piece: number): { offset: number; length: number }[] {
    const count = this.blockCount(piece);
    if (this.#verified.get(piece)) return [];
    const progress = this.#inProgress.get(piece);
    if (progress?.verifying) return [];
    const pieceLength = pieceLengthAt(this.torrent, piece);
    const blocks: { offset: number; length: number }[] = [];
    for (let block = 0; block < count; block++) {
      if (progress && (progress.received.get(block) || progress.writing.has(block))) continue;
      const offset = block * this.blockSize;
      blocks.push({ offset, length: Math.min(this.blockSize, pieceLength - offset) });
    }
    return blocks;
  }

  /**
   * Stores a received block. Resolves once it is in storage; when it completes its piece,
   * resolves after verification with `verified` or `failed` (a failed piece's blocks are
   * forgotten so they are requested again). Blocks must be aligned to `blockSize`. The
   * block is copied before this returns, so the caller may reuse `data` at once. With
   * `batchWrites`, a block resolves once its batch is written (see
   * {@linkcode PieceStoreOptions.batchWrites}).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * declare const bytes: Uint8Array;
   * const { piece, status } = await store.writeBlock(5, 16384, bytes);
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece (a multiple of `blockSize`).
   * @param data The block (`blockSize` bytes, or fewer for a piece's last block).
   * @returns What happened.
   */
  writeBlock(piece: number, offset: number, data: Uint8Array): Promise<BlockWriteResult> {
    return this.#storeBlock(piece, offset, data).then((progress) =>
      progress ? this.#completeIfFull(piece, progress) : { piece, status: "duplicate" as const }
    );
  }

  /**
   * Starts writing every gathered batch now (see {@linkcode PieceStoreOptions.batchWrites});
   * their blocks' promises settle once written.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * store.flushBatches();
   * ```
   */
  flushBatches(): void {
    for (const batch of this.#batches) this.#writeBatch(batch);
  }

  /** Writes every batch and waits until all have been written (or failed). */
  async #settleBatches(): Promise<void> {
    this.flushBatches();
    if (this.#batchesWriting.size) await Promise.allSettled(this.#batchesWriting);
  }

  /**
   * Writes the batches that did not grow since the last call (a stalled piece's blocks reach
   * storage within two calls); the session calls it every second.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * setInterval(() => store.flushIdleBatches(), 1000);
   * ```
   */
  flushIdleBatches(): void {
    for (const batch of this.#batches) {
      if (batch.idle) this.#writeBatch(batch);
      else batch.idle = true;
    }
  }

  /**
   * Copies a block on its way to storage and records it; resolves once written (`undefined`
   * when it is a duplicate). Synchronous up to the write, so `data` is free on return.
   */
  #storeBlock(
    piece: number,
    offset: number,
    data: Uint8Array,
  ): Promise<PieceProgress | undefined> {
    let block: number;
    try {
      block = this.#checkBlock(piece, offset, data.length, "write block");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#verified.get(piece)) return NOTHING_STORED;
    let progress = this.#inProgress.get(piece);
    if (!progress) {
      // The piece starts over: what failed before can no longer be kept.
      this.#failed.delete(piece);
      const shape = this.#v2?.shape(piece);
      progress = {
        received: new Bitfield(this.blockCount(piece)),
        writing: new Set(),
        verifying: false,
        hash: this.#hasSha1 ? this.#incremental() : undefined,
        hashed: 0,
        ahead: this.#hasSha1 ? new Map() : undefined,
        batches: [],
        shape,
        leaves: shape && new Uint8Array(shape.dataLeaves * MERKLE_HASH_LENGTH),
        dirtyPadding: undefined,
      };
      this.#inProgress.set(piece, progress);
    }
    if (progress.verifying || progress.received.get(block) || progress.writing.has(block)) {
      return NOTHING_STORED;
    }
    const inOrder = progress.hash !== undefined && block === progress.hashed;
    if (inOrder) {
      progress.hash!.update(data);
      progress.hashed++;
      // Blocks that were waiting for this one can follow it into the hash.
      const ahead = progress.ahead;
      for (let next = ahead?.get(progress.hashed); next; next = ahead!.get(progress.hashed)) {
        ahead!.delete(progress.hashed);
        progress.hash!.update(next);
        this.#aheadBytes -= next.length;
        this.#aheadCopies.release(next);
        progress.hashed++;
      }
    } else if (progress.hash !== undefined && block > progress.hashed) {
      this.#keepAhead(progress, block, data);
    }
    // v2 leaves are independent: every block is hashed as it comes, whatever its order.
    if (progress.leaves && progress.shape) this.#hashLeaves(progress, block, offset, data);
    progress.writing.add(block);
    if (this.#batchBytes) return this.#gather(piece, progress, block, offset, data);
    const copy = this.#blockCopies.copy(data);
    return this.storage.write(piece, offset, copy).then(
      () => {
        this.#blockCopies.release(copy);
        progress.writing.delete(block);
        progress.received.set(block);
        return progress;
      },
      (error) => {
        this.#blockCopies.release(copy);
        progress.writing.delete(block);
        // The block was hashed but not stored: the running hash no longer matches storage.
        if (block < progress.hashed) this.#dropHash(progress);
        throw error;
      },
    );
  }

  /**
   * Copies a block into its window's batch; writes the batch once every block of its window is
   * stored or on its way, and every batch of the piece once nothing more of it is due.
   */
  #gather(
    piece: number,
    progress: PieceProgress,
    block: number,
    offset: number,
    data: Uint8Array,
  ): Promise<PieceProgress> {
    const windowStart = offset - offset % this.#batchBytes;
    let batch = progress.batches.find((open) => open.offset === windowStart);
    if (!batch) {
      if (progress.batches.length >= MAX_OPEN_BATCHES) this.#writeBatch(progress.batches[0]);
      const length = Math.min(this.#batchBytes, pieceLengthAt(this.torrent, piece) - windowStart);
      batch = {
        piece,
        progress,
        buffer: this.#freeBatchBuffers.pop() ?? new Uint8Array(this.#batchBytes),
        offset: windowStart,
        length,
        firstBlock: windowStart / this.blockSize,
        gathered: new Bitfield(Math.ceil(length / this.blockSize)),
        idle: false,
        written: Promise.withResolvers<PieceProgress>(),
      };
      progress.batches.push(batch);
      this.#batches.add(batch);
    }
    batch.buffer.set(data, offset - windowStart);
    batch.gathered.set(block - batch.firstBlock);
    batch.idle = false;
    const { written } = batch;
    // Nothing else of the piece is still to come: no reason to wait.
    if (this.#allIn(progress)) {
      for (const open of [...progress.batches]) this.#writeBatch(open);
    } else if (this.#windowIn(progress, batch)) {
      this.#writeBatch(batch);
    }
    return written.promise;
  }

  /** Whether every block of `batch`'s window is gathered, stored or being written. */
  #windowIn(progress: PieceProgress, batch: WriteBatch): boolean {
    if (batch.gathered.hasAll()) return true;
    const end = batch.firstBlock + batch.gathered.size;
    for (let block = batch.firstBlock; block < end; block++) {
      if (!progress.writing.has(block) && !progress.received.get(block)) return false;
    }
    return true;
  }

  /**
   * Keeps a copy of a block that came ahead of its piece's running hash, within
   * `AHEAD_BUFFER_BYTES` (always when storage cannot be read back: nothing else can hash it).
   */
  #keepAhead(progress: PieceProgress, block: number, data: Uint8Array): void {
    const { ahead } = progress;
    if (!ahead || ahead.has(block)) return;
    const readable = this.storage.readable !== false;
    if (readable && this.#aheadBytes + data.length > AHEAD_BUFFER_BYTES) return;
    ahead.set(block, this.#aheadCopies.copy(data));
    this.#aheadBytes += data.length;
  }

  /** Returns a piece's kept blocks to the pool. */
  #releaseAhead(progress: PieceProgress): void {
    if (!progress.ahead?.size) return;
    for (const copy of progress.ahead.values()) {
      this.#aheadBytes -= copy.length;
      this.#aheadCopies.release(copy);
    }
    progress.ahead.clear();
  }

  /** The running hash no longer matches storage: verification reads the piece back. */
  #dropHash(progress: PieceProgress): void {
    progress.hash = undefined;
    this.#releaseAhead(progress);
  }

  /** Whether every block of the piece is stored or on its way. */
  #allIn(progress: PieceProgress): boolean {
    return progress.received.count() + progress.writing.size === progress.received.size;
  }

  /**
   * Starts writing `batch` (one write per contiguous run of gathered blocks: one for a whole
   * window); its blocks count as received once all are written.
   */
  #writeBatch(batch: WriteBatch): void {
    const { progress, written, gathered, firstBlock } = batch;
    if (!this.#batches.delete(batch)) return;
    progress.batches.splice(progress.batches.indexOf(batch), 1);
    const writes: Promise<void>[] = [];
    for (let start = 0; start < gathered.size;) {
      if (!gathered.get(start)) {
        start++;
        continue;
      }
      let end = start + 1;
      while (end < gathered.size && gathered.get(end)) end++;
      const from = start * this.blockSize;
      const to = Math.min(end * this.blockSize, batch.length);
      writes.push(
        this.storage.write(batch.piece, batch.offset + from, batch.buffer.subarray(from, to)),
      );
      start = end;
    }
    const settle = () => {
      for (const index of gathered.indices()) progress.writing.delete(firstBlock + index);
      if (this.#freeBatchBuffers.length < this.#maxFreeBatchBuffers) {
        this.#freeBatchBuffers.push(batch.buffer);
      }
      this.#batchesWriting.delete(written.promise);
    };
    this.#batchesWriting.add(written.promise);
    // One write, or several that all settle before the buffer goes back to the pool.
    (writes.length === 1 ? writes[0] : Promise.allSettled(writes).then((results) => {
      const failure = results.find((result) => result.status === "rejected");
      if (failure) throw failure.reason;
    })).then(
      () => {
        settle();
        for (const index of gathered.indices()) progress.received.set(firstBlock + index);
        written.resolve(progress);
      },
      (error) => {
        settle();
        // Its blocks were hashed but not stored: the running hash no longer matches storage.
        this.#dropHash(progress);
        written.reject(error);
      },
    );
  }

  #completeIfFull(
    piece: number,
    progress: PieceProgress,
  ): BlockWriteResult | Promise<BlockWriteResult> {
    if (!progress.received.hasAll() || progress.verifying) return { piece, status: "stored" };
    progress.verifying = true;
    // Still ahead: a block before them was not kept (over budget); verification reads back.
    this.#releaseAhead(progress);
    return this.#verifyPiece(piece, progress).then(
      (good): BlockWriteResult => {
        this.#inProgress.delete(piece);
        if (good) this.#markVerified(piece);
        else this.#rememberFailure(piece, progress);
        const status = good ? "verified" : "failed";
        return progress.leaves ? { piece, status, leafHashes: progress.leaves } : { piece, status };
      },
      (error) => {
        this.#inProgress.delete(piece);
        throw error;
      },
    );
  }

  /**
   * After a v2 or hybrid piece failed: keeps its blocks whose 16 KiB leaves match
   * `trustedLeaves` (the piece's leaf hashes, from a BEP 52 `hashes` answer the caller proved
   * against the piece's hash), so that only the others are fetched again. Those blocks were
   * written already; they count as received, and the piece verifies once the bad ones are
   * written again. Returns the bad blocks' indices (a block is bad when a leaf differs or its
   * padding bytes were not zero), or `undefined` when nothing is kept: the failure is not known
   * (a v1 piece, a block of the piece was written since, over 64 failures ago, a recheck), no
   * block differs, or a hybrid's SHA-1 could not read the kept blocks back (write-only).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * declare const trusted: Uint8Array; // 32 bytes per leaf of piece 4, proven by its piece hash
   * const bad = store.keepGoodBlocks(4, trusted);
   * if (bad) console.log(`fetch blocks ${bad.join(", ")} of piece 4 again`);
   * ```
   *
   * @param piece Piece index.
   * @param trustedLeaves The piece's leaf hashes (32 bytes each; those past its data ignored).
   * @returns The blocks to fetch again, or `undefined` when every block is.
   * @throws {StorageError} `out-of-range` when `trustedLeaves` does not hash to the piece's
   * expected v2 hash (the caller did not prove them).
   */
  keepGoodBlocks(piece: number, trustedLeaves: Uint8Array): number[] | undefined {
    checkPieceRange(this.torrent, piece, 0, 0, "keep blocks");
    const failed = this.#failed.get(piece);
    if (!failed || this.#inProgress.has(piece) || this.#verified.get(piece)) return undefined;
    const { shape } = failed;
    const leafBytes = shape.dataLeaves * MERKLE_HASH_LENGTH;
    const trusted = trustedLeaves.subarray(0, leafBytes);
    if (trusted.length !== leafBytes || this.#v2!.matches(piece, trusted) !== true) {
      throw new StorageError(
        "out-of-range",
        "keep blocks",
        `piece ${piece}`,
        "the leaf hashes given do not hash to the piece's v2 hash",
      );
    }
    this.#failed.delete(piece);
    // A hybrid's SHA-1 reads kept blocks back; write-only storage cannot.
    if (this.#hasSha1 && this.storage.readable === false) return undefined;
    const count = this.blockCount(piece);
    const bad = badBlocks(failed.leaves, trusted, count, this.blockSize, failed.dirtyPadding);
    if (bad.length === 0) return undefined;
    const received = new Bitfield(count);
    for (let block = 0; block < count; block++) received.set(block);
    for (const block of bad) received.set(block, false);
    this.#inProgress.set(piece, {
      received,
      writing: new Set(),
      verifying: false,
      // Kept blocks are read back for the SHA-1 (bad ones before them are hashed as they come).
      hash: this.#hasSha1 ? this.#incremental() : undefined,
      hashed: 0,
      ahead: undefined,
      batches: [],
      shape,
      // A copy: the failed result handed these to its caller.
      leaves: failed.leaves.slice(),
      dirtyPadding: undefined,
    });
    return bad;
  }

  /**
   * Reads a block of a verified piece (for seeding).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * const block = await store.readBlock(0, 0, 16384);
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece.
   * @param length Number of bytes.
   * @returns The bytes.
   */
  readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    try {
      checkPieceRange(this.torrent, piece, offset, length, "read block");
      if (!this.#verified.get(piece)) {
        throw new StorageError(
          "not-found",
          "read block",
          `piece ${piece}`,
          "piece is not verified",
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.storage.read(piece, offset, length);
  }

  /**
   * Reads a block of a verified piece into `target` (its length is the block's), without
   * allocating when the back-end has `readInto`.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * const buffer = new Uint8Array(16384);
   * await store.readBlockInto(0, 0, buffer);
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece.
   * @param target Where the bytes go.
   */
  async readBlockInto(piece: number, offset: number, target: Uint8Array): Promise<void> {
    checkPieceRange(this.torrent, piece, offset, target.length, "read block");
    if (!this.#verified.get(piece)) {
      throw new StorageError("not-found", "read block", `piece ${piece}`, "piece is not verified");
    }
    if (this.storage.readInto) return await this.storage.readInto(piece, offset, target);
    target.set(await this.storage.read(piece, offset, target.length));
  }

  /**
   * Verifies every piece against existing data and resets the verified bitfield (pieces
   * whose bytes are missing count as not verified). Blocks of unfinished pieces are
   * forgotten.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * const verified = await store.recheck(({ checked, total }) => console.log(checked, total));
   * ```
   *
   * @param onProgress Called after each piece.
   * @returns The verified bitfield.
   */
  async recheck(onProgress?: (progress: RecheckProgress) => void): Promise<Bitfield> {
    const total = this.torrent.pieceCount;
    const verified = this.#paddingOnlyPieces();
    await this.#settleBatches();
    for (const progress of this.#inProgress.values()) this.#releaseAhead(progress);
    this.#inProgress.clear();
    this.#failed.clear();
    // No file on disk (a fresh download): nothing can verify, and reading each piece would fail.
    if (await this.#nothingStored()) {
      onProgress?.({ checked: total, total, verified: 0 });
      this.#verified = verified;
      this.#recount();
      return verified;
    }
    let next = 0;
    let checked = 0;
    // A few lanes each read then hash one piece at a time, so reading overlaps hashing.
    const lane = async () => {
      while (next < total) {
        const piece = next++;
        if (await this.#verifyPiece(piece)) verified.set(piece);
        checked++;
        onProgress?.({ checked, total, verified: verified.count() });
      }
    };
    this.#rechecking = true;
    try {
      await Promise.all(Array.from({ length: Math.min(this.#readAhead, total) }, lane));
    } finally {
      this.#rechecking = false;
      // The lanes' spares are not needed until the next recheck.
      this.#spareBuffers.length = Math.min(this.#spareBuffers.length, 1);
    }
    this.#verified = verified;
    this.#recount();
    return verified;
  }

  /** Whether the back-end reports that none of the torrent's files exists (padding aside). */
  async #nothingStored(): Promise<boolean> {
    if (!this.storage.fileStats || this.storage.readable === false) return false;
    try {
      const stats = await this.storage.fileStats();
      return stats.every((stat, index) => stat === undefined || this.torrent.files[index].padding);
    } catch {
      return false; // Cannot tell: the piece-by-piece recheck says.
    }
  }

  /**
   * Writes the resume file (when configured and the back-end reports file stats).
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * await store.saveResume();
   * ```
   *
   * @returns Whether a resume file was written.
   */
  async saveResume(): Promise<boolean> {
    if (!this.#resumePath || !this.storage.fileStats || !this.canServe) return false;
    await this.storage.flush();
    const files = await this.storage.fileStats();
    await saveResume(this.#resumePath, this.torrent, { verified: this.#verified, files });
    return true;
  }

  /**
   * Saves the resume file (if configured), flushes and closes storage.
   *
   * @example
   * ```ts
   * import type { PieceStore } from "@bittern/bittern";
   *
   * declare const store: PieceStore;
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#settleBatches();
      await this.saveResume();
    } finally {
      await this.storage.close();
    }
  }

  async #loadResume(): Promise<boolean> {
    if (!this.#resumePath) return false;
    if (!this.storage.fileStats) {
      this.#resumeRejection = "the storage back-end reports no file stats";
      return false;
    }
    const result = await loadResume(this.#resumePath, this.torrent, await this.storage.fileStats());
    if (!result.ok) {
      this.#resumeRejection = result.reason;
      return false;
    }
    // Cheap distrust: spot-check the first and last claimed pieces before believing the rest.
    const claimed = [...result.state.verified.indices()];
    for (const piece of new Set([claimed[0], claimed[claimed.length - 1]])) {
      if (piece !== undefined && !await this.#verifyPiece(piece)) {
        this.#resumeRejection = `piece ${piece} marked verified in the resume file fails its hash`;
        return false;
      }
    }
    this.#verified = result.state.verified;
    this.#recount();
    this.#restoredFrom = "resume-file";
    return true;
  }

  /**
   * Checks piece `piece`: v1 by SHA-1 alone; v2-only by its merkle root alone; hybrid by
   * both, which must agree. A completed piece's leaves were hashed as its blocks came;
   * otherwise (recheck, resume) the piece is read back once for both hashes.
   */
  #verifyPiece(piece: number, progress?: PieceProgress): Promise<boolean> {
    if (!this.#v2) return this.#verifySha1(piece, progress);
    if (!progress?.leaves) return this.#verifications.run(() => this.#readAndHash(piece));
    const v2 = progress.dirtyPadding?.size ? false : this.#v2.matches(piece, progress.leaves);
    if (!this.#hasSha1) return Promise.resolve(v2 === true);
    if (v2 === undefined) return this.#verifySha1(piece, progress);
    return this.#verifySha1(piece, progress).then((sha1) => this.#agree(piece, sha1, v2));
  }

  /**
   * A hybrid piece's verdict when SHA-1 and v2 were both checked: they must agree, or the
   * torrent's two hash sets describe different data (libtorrent stops such a torrent with
   * `torrent_inconsistent_hashes`; so does a session on this storage error).
   */
  #agree(piece: number, sha1: boolean, v2: boolean): boolean {
    if (sha1 === v2) return sha1;
    throw new StorageError(
      "inconsistent-hashes",
      "verify",
      `piece ${piece}`,
      `the piece matches its ${
        sha1 ? "SHA-1 but not its v2 merkle hash" : "v2 merkle hash but not its SHA-1"
      }: ` +
        "the torrent's v1 and v2 hashes describe different data",
    );
  }

  /** Hashes a v2 block's leaves into its piece's, noting padding that is not zero. */
  #hashLeaves(progress: PieceProgress, block: number, offset: number, data: Uint8Array): void {
    const clean = hashLeaves(data, offset, progress.shape!.dataLength, progress.leaves!);
    if (clean) progress.dirtyPadding?.delete(block);
    else (progress.dirtyPadding ??= new Set()).add(block);
  }

  /** Keeps a failed v2 piece's leaves as received, for {@linkcode PieceStore.keepGoodBlocks}. */
  #rememberFailure(piece: number, progress: PieceProgress): void {
    const { shape, leaves } = progress;
    if (!shape?.expected || !leaves) return;
    if (this.#failed.size >= MAX_FAILED_RECORDS) {
      this.#failed.delete(this.#failed.keys().next().value!);
    }
    this.#failed.set(piece, { shape, leaves, dirtyPadding: progress.dirtyPadding });
  }

  /**
   * A fresh verified bitfield: empty, except in a v2-only torrent the pieces of padding
   * only, which hold zeros by definition and are never demanded (as libtorrent has them).
   */
  #paddingOnlyPieces(): Bitfield {
    const bits = new Bitfield(this.torrent.pieceCount);
    if (this.#v2 && !this.#hasSha1) {
      for (let piece = 0; piece < this.torrent.pieceCount; piece++) {
        if (this.#v2.paddingOnly(piece)) bits.set(piece);
      }
    }
    return bits;
  }

  /**
   * Compares piece `piece`'s SHA-1: from the running hash when every block arrived in
   * order, else reading back what the running hash lacks. Missing bytes mean not verified.
   */
  #verifySha1(piece: number, progress?: PieceProgress): Promise<boolean> {
    const expected = pieceHashAt(this.torrent, piece);
    const hash = progress?.hash;
    if (hash && progress.hashed === progress.received.size) {
      return Promise.resolve(bytesEqual(hash.digest(), expected));
    }
    if (hash && progress.hashed > 0) {
      return this.#verifications.run(() => this.#finishHash(piece, hash, progress.hashed));
    }
    return this.#verifications.run(() => this.#readAndHash(piece, false));
  }

  /** Reads back the blocks after the first `hashed` and completes `hash`. */
  async #finishHash(piece: number, hash: IncrementalSha1, hashed: number): Promise<boolean> {
    const start = hashed * this.blockSize;
    const length = pieceLengthAt(this.torrent, piece) - start;
    // A reused buffer: a fresh one costs more (zeroing, page faults) than the read itself.
    const pooled = this.storage.readInto
      ? this.#spareBuffers.pop() ?? new Uint8Array(this.torrent.pieceLength)
      : undefined;
    try {
      if (pooled) {
        const bytes = pooled.subarray(0, length);
        await this.storage.readInto!(piece, start, bytes);
        hash.update(bytes);
      } else {
        hash.update(await this.storage.read(piece, start, length));
      }
    } catch (error) {
      if (error instanceof StorageError && error.kind === "not-found") return false;
      throw error;
    } finally {
      if (pooled) this.#spareBuffer(pooled);
    }
    return bytesEqual(hash.digest(), pieceHashAt(this.torrent, piece));
  }

  /** Keeps a piece-sized read-back buffer for reuse (one per recheck lane, else one). */
  #spareBuffer(buffer: Uint8Array): void {
    const max = this.#rechecking ? this.#maxSpareBuffers : 1;
    if (this.#spareBuffers.length < max) this.#spareBuffers.push(buffer);
  }

  /**
   * Reads piece `piece` back and checks it: by SHA-1 (v1, hybrid) and, with `withV2`, by its
   * merkle root (v2, hybrid), from the one read.
   */
  async #readAndHash(piece: number, withV2 = true): Promise<boolean> {
    const v2 = withV2 ? this.#v2 : undefined;
    // Padding only (v2-only): zeros by definition, nothing to read.
    if (v2 && !this.#hasSha1 && v2.paddingOnly(piece)) return true;
    const length = pieceLengthAt(this.torrent, piece);
    const pooled = this.storage.readInto
      ? this.#spareBuffers.pop() ?? new Uint8Array(this.torrent.pieceLength)
      : undefined;
    try {
      let bytes: Uint8Array;
      if (pooled) {
        bytes = pooled.subarray(0, length);
        await this.storage.readInto!(piece, 0, bytes);
      } else {
        bytes = await this.storage.read(piece, 0, length);
      }
      if (!v2) {
        return bytesEqual(await this.#hasher.sha1(bytes), pieceHashAt(this.torrent, piece));
      }
      // The SHA-1 may run on a Worker while the leaves are hashed here.
      const sha1 = this.#hasSha1 ? this.#hasher.sha1(bytes) : undefined;
      const shape = v2.shape(piece);
      const leaves = new Uint8Array(shape.dataLeaves * MERKLE_HASH_LENGTH);
      const merkle = hashLeaves(bytes, 0, shape.dataLength, leaves)
        ? v2.matches(piece, leaves)
        : false;
      if (!sha1) return merkle === true;
      const good = bytesEqual(await sha1, pieceHashAt(this.torrent, piece));
      return merkle === undefined ? good : this.#agree(piece, good, merkle);
    } catch (error) {
      if (error instanceof StorageError && error.kind === "not-found") return false;
      throw error;
    } finally {
      if (pooled) this.#spareBuffer(pooled);
    }
  }

  /**
   * A running SHA-1 for one piece: the hasher's own, or node:crypto for a hasher written
   * before `Sha1Hasher.incremental` existed (it then only hashes what is read back).
   */
  #incremental(): IncrementalSha1 {
    return this.#hasher.incremental?.() ?? FALLBACK_HASHER.incremental();
  }

  /** Sets piece `piece` verified, keeping the counters. */
  #markVerified(piece: number): void {
    if (this.#verified.get(piece)) return;
    this.#verified.set(piece);
    if (this.#wanted.get(piece)) this.#verifiedWanted++;
    // Done: nothing more arrives to use the pools' idle buffers (they would stay until close).
    if (this.complete && this.#inProgress.size === 0) {
      this.#aheadCopies.dropIdle();
      this.#blockCopies.dropIdle();
      this.#spareBuffers.length = 0;
    }
  }

  /** Recounts `#verifiedWanted` after either bitfield was replaced (O(pieces), rare). */
  #recount(): void {
    let both = 0;
    for (let piece = 0; piece < this.torrent.pieceCount; piece++) {
      if (this.#wanted.get(piece) && this.#verified.get(piece)) both++;
    }
    this.#verifiedWanted = both;
  }

  /** Whether `bits` holds the last (possibly short) piece. */
  #lastIn(bits: Bitfield): boolean {
    const last = this.torrent.pieceCount - 1;
    return last >= 0 && bits.get(last);
  }

  /** Bytes in `count` pieces, the last piece among them when `withLast`. */
  #bytesOf(count: number, withLast: boolean): number {
    if (count === 0) return 0;
    const { torrent } = this;
    return withLast
      ? (count - 1) * torrent.pieceLength + pieceLengthAt(torrent, torrent.pieceCount - 1)
      : count * torrent.pieceLength;
  }

  #checkBlock(piece: number, offset: number, length: number, operation: string): number {
    checkPieceRange(this.torrent, piece, offset, length, operation);
    const pieceLength = pieceLengthAt(this.torrent, piece);
    if (
      offset % this.blockSize !== 0 || length !== Math.min(this.blockSize, pieceLength - offset)
    ) {
      throw new StorageError(
        "out-of-range",
        operation,
        `piece ${piece}`,
        `block ${offset}+${length} is not a ${this.blockSize}-byte aligned block`,
      );
    }
    return offset / this.blockSize;
  }
}

/**
 * The v2 view of a v2 or hybrid torrent (undefined for v1), checked to be verifiable with
 * `blockSize`: leaves are 16 KiB, and a v2-only torrent needs every piece layer.
 */
function v2PiecesOf(torrent: Torrent, blockSize: number): V2Pieces | undefined {
  if (torrent.version !== 2 && torrent.version !== "hybrid") return undefined;
  if (blockSize % MERKLE_BLOCK_SIZE !== 0) {
    throw new StorageError(
      "out-of-range",
      "open",
      torrent.name,
      `bad block size ${blockSize}: v2 pieces are hashed in 16 KiB leaves`,
    );
  }
  const v2 = new V2Pieces(torrent);
  if (torrent.pieceHashes.length === 0) v2.assertVerifiable();
  return v2;
}

/** Throws unless `index` is one of `count` visible files. */
function checkFileIndex(index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new StorageError(
      "out-of-range",
      "select",
      `file ${index}`,
      `the torrent has ${count} files`,
    );
  }
}
