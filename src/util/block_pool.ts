import { RecentPeak } from "./recent_peak.ts";

/** Options of {@linkcode BlockPool}. */
export interface BlockPoolOptions {
  /**
   * With it, idle buffers are kept only up to the most in use at once during the last one
   * to two such periods (minus those in use now), never above `maxFree`: a burst's buffers
   * are reused by the next burst, and let go once bursts stop needing them. Without it,
   * `maxFree` idle buffers are kept.
   */
  readonly peakPeriodMs?: number;
  /** Clock in milliseconds for `peakPeriodMs` (tests drive it); `performance.now` by default. */
  readonly now?: () => number;
}

/**
 * Reusable block-sized buffers for blocks on their way to storage or to a
 * socket. The socket read buffer is reused for every read, so a received
 * block is copied here once; a block read for uploading is copied here from
 * the read cache. Each goes back to the pool when storage or the socket is
 * done with it. Keeps memory flat (and garbage low) however fast blocks move.
 */
export class BlockPool {
  readonly #blockSize: number;
  #maxFree: number;
  readonly #free: Uint8Array[] = [];
  /** Pooled-size buffers taken and not yet released. */
  #inUse = 0;
  readonly #peak: RecentPeak | undefined;

  /**
   * @param blockSize Size of pooled buffers; other sizes are allocated as needed.
   * @param maxFree Most idle buffers kept.
   * @param options A recent-peak bound on idle buffers.
   */
  constructor(blockSize: number, maxFree: number, options: BlockPoolOptions = {}) {
    this.#blockSize = blockSize;
    this.#maxFree = maxFree;
    this.#peak = options.peakPeriodMs === undefined
      ? undefined
      : new RecentPeak(options.peakPeriodMs, options.now);
  }

  /** Most idle buffers kept; lowering it lets the extra ones go now. */
  get maxFree(): number {
    return this.#maxFree;
  }
  set maxFree(maxFree: number) {
    this.#maxFree = maxFree;
    if (this.#free.length > maxFree) this.#free.length = Math.max(0, maxFree);
  }

  /** Lets every idle buffer go now (nothing will need them soon); pooling goes on. */
  dropIdle(): void {
    this.#free.length = 0;
  }

  /** Idle buffers kept now. */
  get free(): number {
    return this.#free.length;
  }

  /** Pooled-size buffers taken and not yet released. */
  get inUse(): number {
    return this.#inUse;
  }

  /** A copy of `bytes` in a pooled buffer (when block-sized). */
  copy(bytes: Uint8Array): Uint8Array {
    const buffer = this.take(bytes.length);
    buffer.set(bytes);
    return buffer;
  }

  /** A buffer of `length` bytes (pooled when block-sized), contents undefined. */
  take(length: number): Uint8Array {
    if (length !== this.#blockSize) return new Uint8Array(length);
    this.#peak?.note(++this.#inUse);
    return this.#free.pop() ?? new Uint8Array(this.#blockSize);
  }

  /** Returns a buffer from {@linkcode BlockPool.copy} once nothing uses it. */
  release(buffer: Uint8Array): void {
    if (buffer.length !== this.#blockSize) return;
    this.#inUse = Math.max(0, this.#inUse - 1);
    const keep = this.#peak
      ? Math.min(this.#maxFree, this.#peak.note(this.#inUse) - this.#inUse)
      : this.#maxFree;
    if (this.#free.length < keep) this.#free.push(buffer);
    // The recent peak fell: idle buffers beyond it go.
    else if (this.#free.length > keep) this.#free.length = Math.max(0, keep);
  }
}
