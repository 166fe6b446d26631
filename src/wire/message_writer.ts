import { ProtocolError } from "./errors.ts";
import { encodeMessage, encodePieceHeader } from "./encode.ts";
import type { Message } from "./messages.ts";

/** Where a {@linkcode MessageWriter} writes: `Deno.Conn` satisfies this. */
export interface ByteSink {
  /** Writes some of `bytes`, returning how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for {@linkcode MessageWriter}. */
export interface MessageWriterOptions {
  /**
   * Bytes that may be queued (not yet handed to the socket) before
   * {@linkcode MessageWriter.send} makes callers wait. Default 1 MiB.
   */
  readonly highWaterMark?: number;
  /** Largest single socket write when coalescing queued frames. Default 256 KiB. */
  readonly maxWriteLength?: number;
}

/**
 * Sends messages on a socket with back-pressure, coalescing frames queued
 * while a write is in flight into one socket write (fewer system calls: on
 * loopback this is worth more than the one copy of each block it costs).
 *
 * `send` resolves once the message is queued and the queue is below the
 * high-water mark; a failed socket write rejects every later `send` and
 * {@linkcode MessageWriter.flush}.
 *
 * @example
 * ```ts
 * import { MessageWriter } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn; // after the handshake
 * const writer = new MessageWriter(conn);
 * await writer.send({ type: "interested" });
 * await writer.flush();
 * ```
 */
export class MessageWriter {
  readonly #sink: ByteSink;
  readonly #highWaterMark: number;
  readonly #maxWriteLength: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #failure: unknown;
  #spare: Uint8Array | undefined;
  /** Resolvers of senders waiting for the queue to drain below the high-water mark. */
  #waiters: (() => void)[] = [];
  /** Resolvers of `flush` calls waiting for the queue to empty. */
  #flushers: (() => void)[] = [];
  #bytesSent = 0;

  /**
   * Creates a writer with an empty queue.
   *
   * @param sink The socket (or anything with `write`).
   * @param options Queue bounds.
   */
  constructor(sink: ByteSink, options: MessageWriterOptions = {}) {
    this.#sink = sink;
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#maxWriteLength = options.maxWriteLength ?? 256 * 1024;
  }

  /** Total bytes handed to the socket so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues `message`; waits while the queue is above the high-water mark.
   *
   * @param message The message to send.
   * @returns Resolves when the caller may send more.
   */
  send(message: Message): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (message.type === "piece") {
      this.#enqueue(encodePieceHeader(message.index, message.begin, message.block.length));
      this.#enqueue(message.block);
    } else {
      this.#enqueue(encodeMessage(message));
    }
    return this.#scheduled();
  }

  /**
   * Queues raw bytes (a handshake, or frames encoded elsewhere).
   *
   * @param bytes Bytes to send as they are; not copied until written.
   * @returns Resolves when the caller may send more.
   */
  sendBytes(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#enqueue(bytes);
    return this.#scheduled();
  }

  /**
   * Resolves when everything queued has been handed to the socket.
   *
   * @returns Resolves when the queue is empty; rejects if a write failed.
   */
  flush(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#writing && this.#queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#flushers.push(resolve));
  }

  /** Starts a drain if none is running; resolves now, or once the queue is below the mark. */
  #scheduled(): Promise<void> {
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#drain());
    }
    if (this.#queuedBytes < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #enqueue(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const chunk = this.#take();
        for (let written = 0; written < chunk.length;) {
          written += await this.#sink.write(written === 0 ? chunk : chunk.subarray(written));
        }
        this.#bytesSent += chunk.length;
        this.#release();
      }
    } catch (error) {
      this.#failure = error instanceof ProtocolError
        ? error
        : new ProtocolError("connection-closed", "writing to the peer failed", {}, {
          cause: error,
        });
      this.#queue = [];
      this.#queuedBytes = 0;
    } finally {
      this.#writing = false;
      this.#release();
      if (this.#queue.length === 0) { for (const resolve of this.#flushers.splice(0)) resolve(); }
    }
  }

  /** Takes the next write: one big part as is, or small parts coalesced into one buffer. */
  #take(): Uint8Array {
    const queue = this.#queue;
    if (queue.length === 1 || queue[0].length >= this.#maxWriteLength) {
      const first = queue.shift()!;
      this.#queuedBytes -= first.length;
      return first;
    }
    const buffer = this.#spare ??= new Uint8Array(this.#maxWriteLength);
    let filled = 0;
    let count = 0;
    while (count < queue.length && filled + queue[count].length <= buffer.length) {
      buffer.set(queue[count], filled);
      filled += queue[count].length;
      count++;
    }
    if (count === 0) {
      const first = queue.shift()!;
      this.#queuedBytes -= first.length;
      return first;
    }
    queue.splice(0, count);
    this.#queuedBytes -= filled;
    // The spare buffer is in flight until the write resolves; a second one is never needed
    // because only one write is in flight at a time.
    return buffer.subarray(0, filled);
  }

  #release(): void {
    if (this.#failure === undefined && this.#queuedBytes >= this.#highWaterMark) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
