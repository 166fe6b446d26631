import type { BlockRef } from "../agents/agent.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import { ByteBudget } from "../util/budget.ts";
import { BlockPool } from "../util/block_pool.ts";
import { ReadCache } from "./read_cache.ts";

/** The usual block size: pooled; other sizes are allocated as asked. */
const BLOCK = 16 * 1024;
/** Blocks on their way out, per open connection (see {@linkcode UploadBuffers.connections}). */
const BLOCK_BYTES_PER_CONNECTION = 64 * 1024;
/** Cached windows per open connection. */
const CACHE_BYTES_PER_CONNECTION = 32 * 1024;
/** The least either bound scales down to: one fast peer still gets a full pipeline. */
const MIN_SCALED_BYTES = 1024 * 1024;
/** Default of {@linkcode UploadBuffersOptions.maxCacheBytes}. */
const MAX_CACHE_BYTES = 4 * 1024 * 1024;

/** Options of {@linkcode UploadBuffers}. */
export interface UploadBuffersOptions {
  /** Most bytes of blocks read for peers and not yet taken by their sockets. */
  readonly maxBlockBytes: number;
  /** Most bytes of cached piece windows. Default 4 MiB. */
  readonly maxCacheBytes?: number;
}

/** `perConnection` bytes for each of `connections`, within `[MIN_SCALED_BYTES, max]`. */
function scaled(connections: number, perConnection: number, max: number): number {
  return Math.min(max, Math.max(MIN_SCALED_BYTES, connections * perConnection));
}

/**
 * Everything uploading holds in memory, shared by every torrent of a runtime
 * and bounded as a whole: blocks on their way to sockets (`maxBlockBytes`,
 * readers wait beyond it, buffers reused) and the read cache they are copied
 * from (`maxCacheBytes`, a few storage reads at a time). However many peers
 * ask, uploads cost at most about the sum of the two. Below those maxima both
 * bounds follow the runtime's open connections (64 KiB of blocks and 32 KiB of
 * windows each, at least 1 MiB of either): a runtime with a few peers keeps a
 * few MiB, not the maxima, and memory per connection stays flat.
 */
export class UploadBuffers {
  readonly #budget: ByteBudget;
  readonly #blocks: BlockPool;
  readonly #cache: ReadCache;
  readonly #maxBlockBytes: number;
  readonly #maxCacheBytes: number;
  #connections = 0;

  /** @param options The bounds. */
  constructor(options: UploadBuffersOptions) {
    this.#maxBlockBytes = options.maxBlockBytes;
    this.#maxCacheBytes = options.maxCacheBytes ?? MAX_CACHE_BYTES;
    const blockBytes = scaled(0, BLOCK_BYTES_PER_CONNECTION, this.#maxBlockBytes);
    this.#budget = new ByteBudget(blockBytes);
    // Idle buffers never exceed the budget (every one was in use under it once), nor what
    // was in use at once in the last 1–2 s: a runtime's budget is sized for every connection
    // uploading at full speed, and keeping it all idle was 10 MiB over the swarm bench's 21
    // runtimes with 1–2 MiB in use.
    this.#blocks = new BlockPool(BLOCK, Math.ceil(blockBytes / BLOCK), { peakPeriodMs: 1000 });
    this.#cache = new ReadCache({
      maxBytes: scaled(0, CACHE_BYTES_PER_CONNECTION, this.#maxCacheBytes),
    });
  }

  /**
   * The runtime's open connections, which the bounds follow (the runtime sets it as
   * connections come and go). Lowering the bounds revokes nothing: later reads wait until
   * enough is released, and idle buffers beyond the new bounds are let go.
   */
  get connections(): number {
    return this.#connections;
  }
  set connections(connections: number) {
    this.#connections = connections;
    const blockBytes = scaled(connections, BLOCK_BYTES_PER_CONNECTION, this.#maxBlockBytes);
    this.#budget.limit = blockBytes;
    this.#blocks.maxFree = Math.ceil(blockBytes / BLOCK);
    this.#cache.maxBytes = scaled(connections, CACHE_BYTES_PER_CONNECTION, this.#maxCacheBytes);
  }

  /** The current bounds: bytes of blocks, and of cached windows. */
  get limits(): { blockBytes: number; cacheBytes: number } {
    return { blockBytes: this.#budget.limit, cacheBytes: this.#cache.maxBytes };
  }

  /** Bytes of blocks handed out and not yet released. */
  get blockBytes(): number {
    return this.#budget.used;
  }

  /**
   * A copy of `block` of `store`'s verified pieces, once the budget has room
   * for it; `release` gives the buffer back (call it once the socket took it).
   */
  async read(
    store: PieceStore,
    block: BlockRef,
  ): Promise<{ bytes: Uint8Array; release(): void }> {
    await this.#budget.acquire(block.length);
    const lease = this.#lease(block.length);
    try {
      await this.#cache.read(store, block.index, block.begin, block.length, lease.bytes);
      return lease;
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  /**
   * The same as {@linkcode UploadBuffers.read} when the block's window is in
   * memory and the budget has room now; `undefined` otherwise (nothing taken).
   */
  readNow(store: PieceStore, block: BlockRef): { bytes: Uint8Array; release(): void } | undefined {
    if (!this.#budget.tryAcquire(block.length)) return undefined;
    const lease = this.#lease(block.length);
    if (this.#cache.readNow(store, block.index, block.begin, block.length, lease.bytes)) {
      return lease;
    }
    lease.release();
    return undefined;
  }

  /** A pooled buffer for `length` bytes already taken from the budget, and its one release. */
  #lease(length: number): { bytes: Uint8Array; release(): void } {
    const bytes = this.#blocks.take(length);
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.#blocks.release(bytes);
        this.#budget.release(length);
      },
    };
  }

  /** Forgets `store`'s cached windows (its session stopped). */
  forget(store: PieceStore): void {
    this.#cache.forget(store);
  }
}
