import { ProtocolError } from "./errors.ts";
import {
  encodeFixedFrameInto,
  encodeMessage,
  encodePieceHeader,
  fixedFrameLength,
  type FixedFrameMessage,
  PIECE_HEADER_LENGTH,
} from "./encode.ts";
import type { Message, PieceMessage } from "./messages.ts";
import { sharedWriteBuffers, type WriteBufferPool } from "./write_buffers.ts";

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

/** The smallest coalescing buffer; larger ones (powers of two) while the queue is deep. */
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
   * Largest single socket write when coalescing queued frames. A coalescing
   * buffer is 64 KiB, or larger (up to this) while the queue is that deep.
   * Default 1 MiB.
   */
  readonly maxWriteLength?: number;
  /**
   * Where coalescing buffers come from and go back to after each write.
   * Default: one pool shared by every writer of the process (4 MiB of idle buffers at most).
   */
  readonly buffers?: WriteBufferPool;
}

/**
 * Sends messages on a socket with back-pressure, coalescing frames queued
 * while a write is in flight into one socket write (fewer system calls: on
 * loopback this is worth more than the one copy of each block it costs).
 *
 * `send` resolves once the message is queued and the queue is below the
 * high-water mark. A failed socket write, or {@linkcode MessageWriter.close},
 * drops the queue and rejects every pending and later `send`,
 * {@linkcode MessageWriter.flush} and {@linkcode MessageWriter.drained}: none
 * of them hangs on a dead connection.
 *
 * A coalescing buffer (64 KiB, larger up to `maxWriteLength` while the queue
 * is deep) is taken from a shared {@linkcode WriteBufferPool} for each write
 * and given back when the socket took it, so a connection holds one only
 * while a write of its own is in flight.
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
  /**
   * Frames not yet written, from `#head` on; pieces and fixed-size messages
   * (have, request, cancel) are kept as messages and encoded straight into the
   * write buffer: no frame is allocated for them.
   */
  #queue: Entry[] = [];
  #head = 0;
  /** Bytes in `#queue` from `#head` on: not yet taken for a write. */
  #queuedBytes = 0;
  /** Bytes taken for the write in flight that the sink has not accepted yet. */
  #inFlight = 0;
  #writing = false;
  #failure: Error | undefined;
  readonly #buffers: WriteBufferPool;
  /** The coalescing buffer of the write in flight, if it has one. */
  #inUse: Uint8Array | undefined;
  /** Senders waiting for the queue to drain below the high-water mark. */
  #waiters: Settler[] = [];
  /** `drained`/`flush` calls waiting for the queue to drain to their mark. */
  #drainers: (Settler & { readonly mark: number })[] = [];
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
    this.#buffers = options.buffers ?? sharedWriteBuffers;
  }

  /** Total bytes handed to (accepted by) the socket so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /**
   * Bytes queued and not yet accepted by the socket, the unwritten part of
   * the write in flight included. 0 once closed or failed.
   */
  get queuedBytes(): number {
    return this.#queuedBytes + this.#inFlight;
  }

  /**
   * Diagnostic: the length of the coalescing buffer held now (by the write
   * in flight), 0 when none is: 64 KiB, or up to `maxWriteLength` while the
   * queue is deep.
   */
  get bufferLength(): number {
    return this.#inUse?.length ?? 0;
  }

  /** Whether {@linkcode MessageWriter.close} ran or a write failed. */
  get isClosed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Queues `message`; waits while the queue is above the high-water mark.
   * A piece's block (and a `have`, `request` or `cancel` message) is read when
   * it is written, not copied now: leave it unchanged until
   * {@linkcode MessageWriter.flush} resolves.
   *
   * @param message The message to send.
   * @returns Resolves when the caller may send more; rejects once the writer
   *   is closed or failed.
   */
  send(message: Message): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#enqueue(toEntry(message));
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
    this.#enqueue(toEntry(message));
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
   * Resolves when everything queued has been handed to the socket: the way
   * to know that a given `send` (and every one before it) has been written.
   * Same as `drained(0)`.
   *
   * @returns Resolves when the queue is empty; rejects (at once, or as soon as
   *   it happens) once the writer is closed or a write failed.
   */
  flush(): Promise<void> {
    return this.drained(0);
  }

  /**
   * Resolves once at most `lowWaterMark` bytes are queued (see
   * {@linkcode MessageWriter.queuedBytes}); rejects with the reason once the
   * writer is closed or a write failed, so it never hangs on a dead connection.
   *
   * @example Refilling a send queue in batches
   * ```ts
   * import { MessageWriter } from "@bittern/bittern";
   *
   * declare const writer: MessageWriter;
   * declare const blocks: Uint8Array[];
   * for (const [n, block] of blocks.entries()) {
   *   writer.queue({ type: "piece", index: n, begin: 0, block });
   *   if (writer.queuedBytes > 256 * 1024) await writer.drained(64 * 1024);
   * }
   * ```
   *
   * @param lowWaterMark Bytes that may still be queued. Default 0.
   * @returns Resolves when the queue is at or below the mark.
   */
  drained(lowWaterMark = 0): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.queuedBytes <= lowWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.#drainers.push({ mark: lowWaterMark, resolve, reject })
    );
  }

  /**
   * Stops the writer (idempotent): queued frames are dropped, and pending and
   * later `send`, `flush` and `drained` calls reject with `reason`. The sink
   * itself is not closed (close the socket to end a write in flight).
   *
   * @param reason The rejection; default a `connection-closed` {@linkcode ProtocolError}.
   */
  close(reason?: Error): void {
    if (this.#failure !== undefined) return;
    this.#fail(reason ?? new ProtocolError("connection-closed", "the writer is closed"));
  }

  /** Starts a drain if none is running; resolves now, or once the queue is below the mark. */
  #scheduled(): Promise<void> {
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#drain());
    }
    if (this.#queuedBytes < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #enqueue(entry: Entry): void {
    const length = entryLength(entry);
    if (length === 0) return;
    this.#queue.push(entry);
    this.#queuedBytes += length;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#head < this.#queue.length && this.#failure === undefined) {
        for (const chunk of this.#take()) {
          for (let written = 0; written < chunk.length;) {
            const count = await this.#sink.write(
              written === 0 ? chunk : chunk.subarray(written),
            );
            this.#bytesSent += count;
            if (this.#failure !== undefined) return; // closed while writing
            written += count;
            this.#inFlight -= count;
            if (this.#drainers.length > 0) this.#settleDrainers();
          }
        }
        this.#giveBack();
        this.#release();
      }
    } catch (error) {
      if (this.#failure === undefined) {
        this.#fail(
          error instanceof ProtocolError
            ? error
            : new ProtocolError("connection-closed", "writing to the peer failed", {}, {
              cause: error,
            }),
        );
      }
    } finally {
      this.#writing = false;
      this.#release();
      if (this.#drainers.length > 0) this.#settleDrainers();
    }
  }

  /** Drops the queue and rejects everyone waiting. */
  #fail(error: Error): void {
    this.#failure = error;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#inFlight = 0;
    // A write may still be reading the buffer in use: it is left to the garbage collector.
    if (this.#inUse) this.#buffers.discard(this.#inUse);
    this.#inUse = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    for (const drainer of this.#drainers.splice(0)) drainer.reject(error);
  }

  /**
   * Takes the next write from the queue: queued frames coalesced into one
   * buffer (piece headers written straight into it), or a large frame as is.
   */
  #take(): Uint8Array[] {
    const queue = this.#queue;
    const first = queue[this.#head];
    const firstLength = entryLength(first);
    if (isBytes(first)) {
      if (firstLength >= MIN_COALESCE_LENGTH || this.#head + 1 === queue.length) {
        this.#advance(1, firstLength);
        return [first];
      }
    } else if (first.type === "piece" && firstLength >= MIN_COALESCE_LENGTH) {
      this.#advance(1, firstLength);
      return [encodePieceHeader(first.index, first.begin, first.block.length), first.block];
    }
    let length = MIN_COALESCE_LENGTH;
    while (length < this.#queuedBytes && length < this.#maxWriteLength) length *= 2;
    const buffer = this.#inUse = this.#buffers.take(Math.min(length, this.#maxWriteLength));
    let filled = 0;
    let index = this.#head;
    for (; index < queue.length; index++) {
      const entry = queue[index];
      const length = entryLength(entry);
      if (filled + length > buffer.length) break;
      if (isBytes(entry)) {
        buffer.set(entry, filled);
      } else if (entry.type === "piece") {
        encodePieceHeader(entry.index, entry.begin, entry.block.length, buffer.subarray(filled));
        buffer.set(entry.block, filled + PIECE_HEADER_LENGTH);
      } else {
        encodeFixedFrameInto(entry, buffer, filled);
      }
      filled += length;
    }
    this.#advance(index - this.#head, filled);
    // Only one write is in flight at a time: the buffer goes back once it completed.
    return [buffer.subarray(0, filled)];
  }

  /** Returns the buffer of the write that just completed to the pool. */
  #giveBack(): void {
    if (this.#inUse === undefined) return;
    this.#buffers.give(this.#inUse);
    this.#inUse = undefined;
  }

  /** Moves `count` entries (`bytes` bytes) from the queue to the write in flight. */
  #advance(count: number, bytes: number): void {
    this.#head += count;
    this.#queuedBytes -= bytes;
    this.#inFlight = bytes;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Lets waiting senders go once the queue is below the high-water mark. */
  #release(): void {
    if (this.#queuedBytes >= this.#highWaterMark || this.#waiters.length === 0) return;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #settleDrainers(): void {
    const queued = this.queuedBytes;
    let kept = 0;
    for (const drainer of this.#drainers) {
      if (queued <= drainer.mark) drainer.resolve();
      else this.#drainers[kept++] = drainer;
    }
    this.#drainers.length = kept;
  }
}

interface Settler {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A queued frame: bytes, or a message encoded when written. */
type Entry = Uint8Array | PieceMessage | FixedFrameMessage;

/** State messages are the same bytes every time: one shared frame each (never written to). */
const STATE_FRAMES = {
  choke: encodeMessage({ type: "choke" }),
  unchoke: encodeMessage({ type: "unchoke" }),
  interested: encodeMessage({ type: "interested" }),
  "not-interested": encodeMessage({ type: "not-interested" }),
} as const;

/** The queue entry for `message`; its fields are checked now (a bad one throws here). */
function toEntry(message: Message): Entry {
  switch (message.type) {
    case "piece":
      return message;
    case "have":
    case "request":
    case "cancel":
      fixedFrameLength(message);
      return message;
    case "choke":
    case "unchoke":
    case "interested":
    case "not-interested":
      return STATE_FRAMES[message.type];
    default:
      return encodeMessage(message);
  }
}

function isBytes(entry: Entry): entry is Uint8Array {
  return entry instanceof Uint8Array;
}

function entryLength(entry: Entry): number {
  if (isBytes(entry)) return entry.length;
  return entry.type === "piece"
    ? PIECE_HEADER_LENGTH + entry.block.length
    : entry.type === "have"
    ? 9
    : 17;
}
