import type { BlockRef } from "../agents/agent.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import { ByteBudget } from "../util/budget.ts";
import { BlockPool } from "../util/block_pool.ts";
import { ReadCache } from "./read_cache.ts";

/** The usual block size: pooled; other sizes are allocated as asked. */
const BLOCK = 16 * 1024;

/** Options of {@linkcode UploadBuffers}. */
export interface UploadBuffersOptions {
  /** Most bytes of blocks read for peers and not yet taken by their sockets. */
  readonly maxBlockBytes: number;
  /** Most bytes of cached piece windows. Default 4 MiB. */
  readonly maxCacheBytes?: number;
}

/**
 * Everything uploading holds in memory, shared by every torrent of a runtime
 * and bounded as a whole: blocks on their way to sockets (`maxBlockBytes`,
 * readers wait beyond it, buffers reused) and the read cache they are copied
 * from (`maxCacheBytes`, a few storage reads at a time). However many peers
 * ask, uploads cost at most about the sum of the two.
 */
export class UploadBuffers {
  readonly #budget: ByteBudget;
  readonly #blocks: BlockPool;
  readonly #cache: ReadCache;

  /** @param options The bounds. */
  constructor(options: UploadBuffersOptions) {
    this.#budget = new ByteBudget(options.maxBlockBytes);
    // Idle buffers never exceed the budget: every one was in use under it once.
    this.#blocks = new BlockPool(BLOCK, Math.ceil(options.maxBlockBytes / BLOCK));
    this.#cache = new ReadCache({ maxBytes: options.maxCacheBytes });
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
