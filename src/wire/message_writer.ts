import { ProtocolError } from "./errors.ts";
import { encodeMessage, encodePieceHeader, PIECE_HEADER_LENGTH } from "./encode.ts";
import type { Message, PieceMessage } from "./messages.ts";

/**
 * Where a {@linkcode MessageWriter} writes: `Deno.Conn` satisfies this.
 *
 * @example
 * ```ts
 * import { type ByteSink, MessageWriter } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const sink: ByteSink = conn;
 * const writer = new MessageWriter(sink);
 * ```
 */
export interface ByteSink {
  /** Writes some of `bytes`, returning how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** The coalescing buffer's first size; it grows while the queue is deep. */
const MIN_COALESCE_LENGTH = 64 * 1024;

/**
 * Options for {@linkcode MessageWriter}.
 *
 * @example
 * ```ts
 * import { MessageWriter, type MessageWriterOptions } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const options: MessageWriterOptions = { highWaterMark: 4 * 1024 * 1024 };
 * const writer = new MessageWriter(conn, options);
 * ```
 */
export interface MessageWriterOptions {
  /**
   * Bytes that may be queued (not yet handed to the socket) before
   * {@linkcode MessageWriter.send} makes callers wait. Default 1 MiB.
   */
  readonly highWaterMark?: number;
  /**
   * Largest single socket write when coalescing queued frames. The coalescing
   * buffer starts at 64 KiB and grows to this only while the queue is that deep.
   * Default 1 MiB.
   */
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
  /** Frames not yet written, from `#head` on; pieces are kept as messages. */
  #queue: (Uint8Array | PieceMessage)[] = [];
  #head = 0;
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
    this.#maxWriteLength = Math.max(options.maxWriteLength ?? 1024 * 1024, MIN_COALESCE_LENGTH);
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
   * A piece's block is read when it is written, not copied now: leave it
   * unchanged until {@linkcode MessageWriter.flush} resolves.
   *
   * @param message The message to send.
   * @returns Resolves when the caller may send more.
   */
  send(message: Message): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    // Pieces stay as messages until written: their headers go straight into the write buffer.
    this.#enqueue(message.type === "piece" ? message : encodeMessage(message));
    return this.#scheduled();
  }

  /**
   * Queues `message` without waiting (no promise is made: the hot path for
   * small messages like requests). Returns whether the queue is still below
   * the high-water mark; a failed connection throws its error.
   *
   * @param message The message to send.
   * @returns `true` while the caller may keep queueing.
   */
  queue(message: Message): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    this.#enqueue(message.type === "piece" ? message : encodeMessage(message));
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#drain());
    }
    return this.#queuedBytes < this.#highWaterMark;
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
    if (!this.#writing && this.#head >= this.#queue.length) return Promise.resolve();
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

  #enqueue(entry: Uint8Array | PieceMessage): void {
    const length = entryLength(entry);
    if (length === 0) return;
    this.#queue.push(entry);
    this.#queuedBytes += length;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#head < this.#queue.length) {
        for (const chunk of this.#take()) {
          for (let written = 0; written < chunk.length;) {
            written += await this.#sink.write(written === 0 ? chunk : chunk.subarray(written));
          }
          this.#bytesSent += chunk.length;
        }
        this.#release();
      }
    } catch (error) {
      this.#failure = error instanceof ProtocolError
        ? error
        : new ProtocolError("connection-closed", "writing to the peer failed", {}, {
          cause: error,
        });
      this.#queue = [];
      this.#head = 0;
      this.#queuedBytes = 0;
    } finally {
      this.#writing = false;
      this.#release();
      if (this.#head >= this.#queue.length) {
        for (const resolve of this.#flushers.splice(0)) resolve();
      }
    }
  }

  /**
   * Takes the next write from the queue: queued frames coalesced into one
   * buffer (piece headers written straight into it), or a large frame as is.
   */
  #take(): Uint8Array[] {
    const queue = this.#queue;
    const first = queue[this.#head];
    const firstLength = entryLength(first);
    if (firstLength >= MIN_COALESCE_LENGTH || (this.#head + 1 === queue.length && isBytes(first))) {
      this.#advance(1, firstLength);
      if (isBytes(first)) return [first];
      return [encodePieceHeader(first.index, first.begin, first.block.length), first.block];
    }
    let buffer = this.#spare;
    if (!buffer || (buffer.length < this.#queuedBytes && buffer.length < this.#maxWriteLength)) {
      let length = MIN_COALESCE_LENGTH;
      while (length < this.#queuedBytes && length < this.#maxWriteLength) length *= 2;
      buffer = this.#spare = new Uint8Array(Math.min(length, this.#maxWriteLength));
    }
    let filled = 0;
    let index = this.#head;
    for (; index < queue.length; index++) {
      const entry = queue[index];
      const length = entryLength(entry);
      if (filled + length > buffer.length) break;
      if (isBytes(entry)) {
        buffer.set(entry, filled);
      } else {
        encodePieceHeader(entry.index, entry.begin, entry.block.length, buffer.subarray(filled));
        buffer.set(entry.block, filled + PIECE_HEADER_LENGTH);
      }
      filled += length;
    }
    this.#advance(index - this.#head, filled);
    // Only one write is in flight at a time, so the buffer is free again when it resolves.
    return [buffer.subarray(0, filled)];
  }

  #advance(count: number, bytes: number): void {
    this.#head += count;
    this.#queuedBytes -= bytes;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #release(): void {
    if (this.#failure === undefined && this.#queuedBytes >= this.#highWaterMark) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

function isBytes(entry: Uint8Array | PieceMessage): entry is Uint8Array {
  return entry instanceof Uint8Array;
}

function entryLength(entry: Uint8Array | PieceMessage): number {
  return isBytes(entry) ? entry.length : PIECE_HEADER_LENGTH + entry.block.length;
}
