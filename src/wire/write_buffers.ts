import { RecentPeak } from "../util/recent_peak.ts";

/**
 * Coalescing buffers for {@linkcode MessageWriter}s, shared so that a
 * connection holds one only while a coalesced write of its own is in flight:
 * an idle or slow-to-refill connection costs no write buffer, and a process
 * with hundreds of connections keeps only as many as write at once. Sizes are
 * powers of two. Idle buffers are kept up to `maxIdleBytes`, or, when more,
 * up to the most bytes in use at once during the last one to two
 * `peakPeriodMs` minus those in use now (hundreds of connections writing at
 * once reuse their buffers instead of dropping them to the garbage collector
 * and allocating new ones a moment later; keeping only as many as were in use
 * at each give dropped buffers whenever writes dipped, 152–204 MiB of new
 * buffers over a swarm bench run); the rest are let go.
 *
 * @example
 * ```ts
 * import { MessageWriter, WriteBufferPool } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * // A pool of its own for one writer (the default is one shared by every writer).
 * const writer = new MessageWriter(conn, { buffers: new WriteBufferPool(1024 * 1024) });
 * ```
 */
export class WriteBufferPool {
  readonly #maxIdleBytes: number;
  #idleBytes = 0;
  /** Bytes taken and not yet given back or discarded. */
  #inUseBytes = 0;
  /** Idle buffers by length. */
  readonly #idle = new Map<number, Uint8Array[]>();
  readonly #peak: RecentPeak;

  /**
   * Creates an empty pool.
   *
   * @param maxIdleBytes Idle bytes kept however little was in use lately. Default 1 MiB.
   * @param peakPeriodMs Period of the recent peak of bytes in use, up to which idle buffers
   *   are kept beyond `maxIdleBytes` (it covers the last one to two periods). Default 1000.
   * @param now Clock in milliseconds (tests drive it). Default `performance.now`.
   */
  constructor(
    maxIdleBytes: number = 1024 * 1024,
    peakPeriodMs: number = 1000,
    now: () => number = () => performance.now(),
  ) {
    this.#maxIdleBytes = maxIdleBytes;
    this.#peak = new RecentPeak(peakPeriodMs, now);
  }

  /** Bytes of idle buffers kept now. */
  get idleBytes(): number {
    return this.#idleBytes;
  }

  /**
   * A buffer of exactly `length` bytes (contents undefined): an idle one when
   * there is one.
   *
   * @param length Its size; pooled writers ask for powers of two.
   * @returns The buffer, to give back once nothing reads from it.
   */
  take(length: number): Uint8Array {
    this.#inUseBytes += length;
    this.#peak.note(this.#inUseBytes);
    const buffer = this.#idle.get(length)?.pop();
    if (!buffer) return new Uint8Array(length);
    this.#idleBytes -= length;
    return buffer;
  }

  /** Bytes of buffers taken and not yet given back (or discarded). */
  get inUseBytes(): number {
    return this.#inUseBytes;
  }

  /**
   * Forgets a buffer from {@linkcode WriteBufferPool.take} that will not come back (a
   * write still reading it was abandoned): it no longer counts as in use.
   *
   * @example
   * ```ts
   * import { WriteBufferPool } from "@bittern/bittern";
   *
   * const pool = new WriteBufferPool();
   * const buffer = pool.take(65536);
   * pool.discard(buffer);
   * ```
   *
   * @param buffer The buffer, whole.
   */
  discard(buffer: Uint8Array): void {
    this.#release(buffer);
  }

  /** Counts `buffer` as no longer in use; returns the recent peak of bytes in use. */
  #release(buffer: Uint8Array): number {
    this.#inUseBytes = Math.max(0, this.#inUseBytes - buffer.length);
    return this.#peak.note(this.#inUseBytes);
  }

  /**
   * Gives back a buffer from {@linkcode WriteBufferPool.take} that nothing
   * reads from any more (its write completed).
   *
   * @param buffer The buffer, whole.
   */
  give(buffer: Uint8Array): void {
    const peak = this.#release(buffer);
    const keep = Math.max(this.#maxIdleBytes, peak - this.#inUseBytes);
    if (this.#idleBytes + buffer.length <= keep) {
      let list = this.#idle.get(buffer.length);
      if (!list) this.#idle.set(buffer.length, list = []);
      list.push(buffer);
      this.#idleBytes += buffer.length;
    }
    // Less in use than lately: the burst is over, the extra ones go.
    if (this.#idleBytes <= keep) return;
    for (const [length, list] of this.#idle) {
      while (this.#idleBytes > keep && list.length) {
        list.pop();
        this.#idleBytes -= length;
      }
    }
  }
}

/** The pool writers use unless given another (internal: not exported from the module). */
export const sharedWriteBuffers: WriteBufferPool = new WriteBufferPool();
