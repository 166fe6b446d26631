/**
 * Coalescing buffers for {@linkcode MessageWriter}s, shared so that a
 * connection holds one only while a coalesced write of its own is in flight:
 * an idle or slow-to-refill connection costs no write buffer, and a process
 * with hundreds of connections keeps only as many as write at once. Sizes are
 * powers of two; idle buffers are kept up to a bound and the rest left to the
 * garbage collector.
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
  /** Idle buffers by length. */
  readonly #idle = new Map<number, Uint8Array[]>();

  /**
   * Creates an empty pool.
   *
   * @param maxIdleBytes Most bytes of idle buffers kept. Default 4 MiB.
   */
  constructor(maxIdleBytes: number = 4 * 1024 * 1024) {
    this.#maxIdleBytes = maxIdleBytes;
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
    const buffer = this.#idle.get(length)?.pop();
    if (!buffer) return new Uint8Array(length);
    this.#idleBytes -= length;
    return buffer;
  }

  /**
   * Gives back a buffer from {@linkcode WriteBufferPool.take} that nothing
   * reads from any more (its write completed).
   *
   * @param buffer The buffer, whole.
   */
  give(buffer: Uint8Array): void {
    if (this.#idleBytes + buffer.length > this.#maxIdleBytes) return;
    let list = this.#idle.get(buffer.length);
    if (!list) this.#idle.set(buffer.length, list = []);
    list.push(buffer);
    this.#idleBytes += buffer.length;
  }
}

/** The pool writers use unless given another (internal: not exported from the module). */
export const sharedWriteBuffers: WriteBufferPool = new WriteBufferPool();
