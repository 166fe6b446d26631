/**
 * The two ends {@linkcode PeerWire} reads and writes a connection through. By default they
 * are the connection's own streams; a connection layer of this package (MSE) registers its
 * own instead, reading and writing the socket below it directly (deciphering in place), so
 * the wire skips the layer's Web Streams: each stream layer costs several promises and
 * objects per read and per write.
 */
import type { TransportConnection } from "../transport/types.ts";
import type { ByteSource } from "./message_reader.ts";
import type { ByteSink } from "./message_writer.ts";
import { StreamSink, StreamSource } from "./stream_io.ts";

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
 * Opens `conn`'s two ends once: the registered direct ones, or over its streams (locking
 * them).
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
  return { source: new StreamSource(conn.readable), sink: new StreamSink(conn.writable) };
}
