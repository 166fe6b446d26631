/**
 * The two ends {@linkcode PeerWire} reads and writes a connection through. By default they
 * are the connection's own streams; a connection layer of this package (MSE) registers its
 * own instead, reading and writing the socket below it directly (deciphering in place), so
 * the wire skips the layer's Web Streams: each stream layer costs several promises and
 * objects per read and per write.
 */
import { concatBytes } from "../util/bytes.ts";
import { directCalls, type DirectConnection } from "../transport/direct.ts";
import type { TransportConnection } from "../transport/types.ts";
import type { ByteSource } from "./message_reader.ts";
import type { ByteSink } from "./message_writer.ts";
import { StreamSink, StreamSource } from "./stream_io.ts";

/** A connection's raw reading end, as {@linkcode StreamSource} (bytes can be put back). */
export interface RawSource extends ByteSource {
  /** As {@linkcode StreamSource.readInto}. */
  readInto(view: Uint8Array): Promise<Uint8Array | null>;
  /** Puts bytes back: the next reads return them first. */
  unread(bytes: Uint8Array): void;
  /** Stops reading (the connection's reading side). */
  cancel(reason?: unknown): void;
}

/** A connection's raw writing end, as {@linkcode StreamSink}. */
export interface RawSink extends ByteSink {
  /** Closes the writing side once what was written has gone. */
  close(): void;
}

/** A connection's reading end (zero-copy reads included) and writing end. */
export interface ConnectionIO {
  /** Bytes from the peer; `readInto` as {@linkcode StreamSource.readInto}. */
  readonly source: ByteSource & Required<Pick<ByteSource, "readInto">>;
  /** Bytes to the peer; each write takes all of its bytes. */
  readonly sink: ByteSink;
}

const layered = new WeakMap<TransportConnection, () => ConnectionIO>();

/**
 * Registers how to read and write `conn` without its streams (for a layer built here).
 * Whoever opens the connection's ends then uses these, and never its streams.
 *
 * @param conn The layer's connection.
 * @param open Makes its ends (called at most once).
 */
export function registerConnectionIO(conn: TransportConnection, open: () => ConnectionIO): void {
  layered.set(conn, open);
}

/**
 * Opens `conn`'s two ends once: the registered direct ones, or its raw ends
 * ({@linkcode openRawIO}).
 *
 * @param conn The connection.
 * @returns Its reading and writing ends.
 */
export function openConnectionIO(conn: TransportConnection): ConnectionIO {
  const open = layered.get(conn);
  if (open) {
    layered.delete(conn);
    return open();
  }
  return openRawIO(conn);
}

/**
 * Opens the ends of `conn` itself: its own `read`/`write` when the transport marked it
 * (TCP), else its streams (locking them).
 *
 * @param conn The connection.
 * @returns Its reading and writing ends.
 */
export function openRawIO(conn: TransportConnection): { source: RawSource; sink: RawSink } {
  const calls = directCalls(conn);
  if (calls) return { source: new CallSource(calls), sink: new CallSink(calls, conn) };
  return { source: new StreamSource(conn.readable), sink: new StreamSink(conn.writable) };
}

/** Reads a connection through its own `read`, straight into the caller's buffer. */
class CallSource implements RawSource {
  readonly #conn: DirectConnection;
  /** Bytes put back. */
  #pending: Uint8Array | undefined;
  #cancelled = false;

  constructor(conn: DirectConnection) {
    this.#conn = conn;
  }

  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // Kept as it is unless earlier unread bytes wait too: those come after.
    this.#pending = this.#pending ? concatBytes([bytes, this.#pending]) : bytes;
  }

  readInto(view: Uint8Array): Promise<Uint8Array | null> {
    if (view.length === 0) return Promise.resolve(view);
    if (this.#pending) {
      const pending = this.#pending;
      const count = Math.min(pending.length, view.length);
      view.set(pending.subarray(0, count));
      this.#pending = count === pending.length ? undefined : pending.subarray(count);
      return Promise.resolve(view.subarray(0, count));
    }
    return this.#read(view).then((count) => count === null ? null : view.subarray(0, count));
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.readInto(buffer).then((filled) => filled === null ? null : filled.length);
  }

  cancel(): void {
    this.#cancelled = true;
  }

  /** One read; a connection closed under it (by us) is its end, as a stream would say. */
  #read(view: Uint8Array): Promise<number | null> {
    if (this.#cancelled) return Promise.resolve(null);
    return this.#conn.read(view).catch((error) => {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
        return null;
      }
      throw error;
    });
  }
}

/** Writes a connection through its own `write`, all of each chunk. */
class CallSink implements RawSink {
  readonly #conn: DirectConnection;
  readonly #closable: TransportConnection;

  constructor(conn: DirectConnection, closable: TransportConnection) {
    this.#conn = conn;
    this.#closable = closable;
  }

  write(bytes: Uint8Array): Promise<number> {
    // Usually one call takes it all; a short write goes on from where it stopped.
    return this.#conn.write(bytes).then((count) =>
      count >= bytes.length ? bytes.length : this.#rest(bytes, count)
    );
  }

  async #rest(bytes: Uint8Array, written: number): Promise<number> {
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
    return bytes.length;
  }

  close(): void {
    // Deno.Conn's closeWrite, when it has one; else the streams' close would do the same.
    const conn = this.#closable as TransportConnection & { closeWrite?: () => Promise<void> };
    conn.closeWrite?.().catch(() => {});
  }
}
