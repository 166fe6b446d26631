import { concatBytes } from "../util/bytes.ts";
import type { ByteSource } from "./message_reader.ts";
import type { ByteSink } from "./message_writer.ts";

/**
 * Reads a `ReadableStream` of bytes into the caller's buffers: with a BYOB
 * reader when the stream is a byte stream (no copy: the bytes land in the
 * caller's memory), else by copying chunks. This is how {@linkcode PeerWire}
 * reads a transport connection, handshake and messages alike.
 *
 * With a byte stream, {@linkcode StreamSource.readInto} transfers the buffer
 * it is given (its `ArrayBuffer` is detached) and returns the filled bytes
 * in the same memory under a new `ArrayBuffer`: keep using that one.
 * {@linkcode StreamSource.read} copies instead, so it keeps the
 * {@linkcode ByteSource} contract.
 *
 * @example
 * ```ts
 * import { StreamSource } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * const source = new StreamSource(conn.readable);
 * let buffer: Uint8Array = new Uint8Array(64 * 1024);
 * const filled = await source.readInto(buffer);
 * if (filled) buffer = new Uint8Array(filled.buffer); // the same memory, now usable again
 * ```
 */
export class StreamSource implements ByteSource {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #chunks: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Bytes read ahead (a chunk larger than asked for, or bytes put back). */
  #pending: Uint8Array | undefined;

  /**
   * Locks `readable` for this source.
   *
   * @param readable The bytes to read.
   */
  constructor(readable: ReadableStream<Uint8Array>) {
    try {
      this.#byob = readable.getReader({ mode: "byob" });
    } catch {
      this.#chunks = readable.getReader();
    }
  }

  /** Whether reads go straight into the caller's buffer (a byte stream). */
  get zeroCopy(): boolean {
    return this.#byob !== undefined;
  }

  /**
   * Puts bytes back: the next reads return them first.
   *
   * @param bytes Bytes read too early (kept, not copied).
   */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // Kept as it is unless earlier unread bytes wait too: those come after.
    this.#pending = this.#pending ? concatBytes([bytes, this.#pending]) : bytes;
  }

  /**
   * Reads at least one byte into a prefix of `view`. With a byte stream
   * `view`'s `ArrayBuffer` is transferred: use the returned view's `buffer`.
   *
   * @param view Where to read (its length bounds the read).
   * @returns The bytes read, or `null` at the end of the stream.
   */
  async readInto(view: Uint8Array): Promise<Uint8Array | null> {
    if (view.length === 0) return view;
    if (this.#pending) return this.#takePending(view);
    if (this.#byob) {
      for (;;) {
        const { value, done } = await this.#byob.read(view);
        if (done || value === undefined) return null;
        if (value.length > 0) return value;
        view = new Uint8Array(value.buffer, value.byteOffset, view.length);
      }
    }
    for (;;) {
      const { value, done } = await this.#chunks!.read();
      if (done) return null;
      if (value.length === 0) continue;
      this.#pending = value;
      return this.#takePending(view);
    }
  }

  /**
   * Reads into `buffer` (copying, so `buffer` stays usable): the
   * {@linkcode ByteSource} contract.
   *
   * @param buffer Where to read.
   * @returns The byte count, or `null` at the end of the stream.
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#pending || !this.#byob) return (await this.readInto(buffer))?.length ?? null;
    const filled = await this.readInto(new Uint8Array(buffer.length));
    if (filled === null) return null;
    buffer.set(filled);
    return filled.length;
  }

  /**
   * Cancels the stream (the connection's reading side).
   *
   * @param reason Why.
   */
  cancel(reason?: unknown): void {
    (this.#byob ?? this.#chunks)!.cancel(reason).catch(() => {});
  }

  #takePending(view: Uint8Array): Uint8Array {
    const pending = this.#pending!;
    const count = Math.min(pending.length, view.length);
    view.set(pending.subarray(0, count));
    this.#pending = count === pending.length ? undefined : pending.subarray(count);
    return view.subarray(0, count);
  }
}

/**
 * Writes to a `WritableStream` of bytes as a {@linkcode ByteSink}: each
 * `write` resolves once the stream's sink has taken the chunk, after which
 * the caller reuses it.
 *
 * @example
 * ```ts
 * import { MessageWriter, StreamSink } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * const writer = new MessageWriter(new StreamSink(conn.writable));
 * await writer.send({ type: "interested" });
 * ```
 */
export class StreamSink implements ByteSink {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  /**
   * Locks `writable` for this sink.
   *
   * @param writable Where bytes go.
   */
  constructor(writable: WritableStream<Uint8Array>) {
    this.#writer = writable.getWriter();
  }

  /**
   * Writes all of `bytes`.
   *
   * @param bytes The bytes; the stream may use them until this resolves.
   * @returns `bytes.length`.
   */
  async write(bytes: Uint8Array): Promise<number> {
    await this.#writer.write(bytes);
    return bytes.length;
  }

  /** Closes the stream once what was written has gone. */
  close(): void {
    this.#writer.close().catch(() => {});
  }
}
