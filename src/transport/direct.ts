/**
 * Connections whose own `read`/`write` (a `Deno.Conn`'s: one call each, straight into the
 * caller's buffer) may be used in place of their Web Streams. The streams stay the seam;
 * the built-in TCP transport marks its connections so the wire can skip a stream layer
 * (each costs several promises and objects per read and per write).
 */

/** The calls a marked connection offers besides its streams. */
export interface DirectConnection {
  /** Reads into `buffer`: the byte count, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`: how many. */
  write(bytes: Uint8Array): Promise<number>;
}

const marked = new WeakSet<object>();

/**
 * Marks `conn` (a `Deno.Conn`) as readable and writable through its own calls.
 *
 * @param conn The connection.
 * @returns `conn`.
 */
export function markDirect<T extends DirectConnection>(conn: T): T {
  marked.add(conn);
  return conn;
}

/**
 * `conn`'s own calls, when it was marked.
 *
 * @param conn Any connection.
 * @returns It, as a {@linkcode DirectConnection}, or `undefined`.
 */
export function directCalls(conn: object): DirectConnection | undefined {
  return marked.has(conn) ? conn as DirectConnection : undefined;
}
