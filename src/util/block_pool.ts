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

  /**
   * @param blockSize Size of pooled buffers; other sizes are allocated as needed.
   * @param maxFree Most idle buffers kept.
   */
  constructor(blockSize: number, maxFree: number) {
    this.#blockSize = blockSize;
    this.#maxFree = maxFree;
  }

  /** Most idle buffers kept; lowering it lets the extra ones go now. */
  get maxFree(): number {
    return this.#maxFree;
  }
  set maxFree(maxFree: number) {
    this.#maxFree = maxFree;
    if (this.#free.length > maxFree) this.#free.length = Math.max(0, maxFree);
  }

  /** A copy of `bytes` in a pooled buffer (when block-sized). */
  copy(bytes: Uint8Array): Uint8Array {
    const buffer = this.take(bytes.length);
    buffer.set(bytes);
    return buffer;
  }

  /** A buffer of `length` bytes (pooled when block-sized), contents undefined. */
  take(length: number): Uint8Array {
    return length === this.#blockSize
      ? this.#free.pop() ?? new Uint8Array(this.#blockSize)
      : new Uint8Array(length);
  }

  /** Returns a buffer from {@linkcode BlockPool.copy} once nothing uses it. */
  release(buffer: Uint8Array): void {
    if (buffer.length === this.#blockSize && this.#free.length < this.#maxFree) {
      this.#free.push(buffer);
    }
  }
}
