/**
 * Reusable block-sized buffers for blocks on their way to storage. The socket
 * read buffer is reused for every read, so a received block is copied here
 * once; the copy goes back to the pool when storage is done with it. Keeps
 * memory flat however fast blocks arrive.
 */
export class BlockPool {
  readonly #blockSize: number;
  readonly #maxFree: number;
  readonly #free: Uint8Array[] = [];

  /**
   * @param blockSize Size of pooled buffers; other sizes are allocated as needed.
   * @param maxFree Most idle buffers kept.
   */
  constructor(blockSize: number, maxFree: number) {
    this.#blockSize = blockSize;
    this.#maxFree = maxFree;
  }

  /** A copy of `bytes` in a pooled buffer (when block-sized). */
  copy(bytes: Uint8Array): Uint8Array {
    const buffer = bytes.length === this.#blockSize
      ? this.#free.pop() ?? new Uint8Array(this.#blockSize)
      : new Uint8Array(bytes.length);
    buffer.set(bytes);
    return buffer;
  }

  /** Returns a buffer from {@linkcode BlockPool.copy} once nothing uses it. */
  release(buffer: Uint8Array): void {
    if (buffer.length === this.#blockSize && this.#free.length < this.#maxFree) {
      this.#free.push(buffer);
    }
  }
}
