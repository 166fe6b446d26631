/**
 * The transport seam: how peer connections are made and accepted. TCP is the
 * built-in; anything that can give a byte stream both ways (uTP, WebSocket, an
 * encryption layer, an in-memory pipe for tests) fits.
 */

/**
 * Where a connection leads. `Deno.NetAddr` has this shape.
 *
 * @example
 * ```ts
 * import type { TransportAddress } from "@bittern/bittern";
 *
 * const address: TransportAddress = { transport: "tcp", hostname: "127.0.0.1", port: 6881 };
 * ```
 */
export interface TransportAddress {
  /** The transport's name, e.g. `tcp`. Peers are told apart by transport and address. */
  readonly transport: string;
  /** IPv4 dotted quad, IPv6 text without brackets, or the transport's own host name. */
  readonly hostname: string;
  /** Port (or the transport's equivalent). */
  readonly port: number;
}

/**
 * One connection: a byte stream each way, the remote address, and `close`.
 * A `Deno.TcpConn` is one as it is.
 *
 * Contract for implementers: `readable` should be a byte stream
 * (`type: "bytes"`) so readers can read into their own buffers (BYOB) without
 * a copy; other streams work too, with a copy. A chunk given to `writable`
 * belongs to the writer again once its `write` resolves (the writer reuses
 * its buffers): copy it if it must live longer. `close` ends both streams.
 *
 * @example Wrapping a WebSocketStream-like pair
 * ```ts
 * import type { TransportConnection } from "@bittern/bittern";
 *
 * declare const readable: ReadableStream<Uint8Array>;
 * declare const writable: WritableStream<Uint8Array>;
 * const connection: TransportConnection = {
 *   readable,
 *   writable,
 *   remoteAddr: { transport: "ws", hostname: "peer.example", port: 443 },
 *   close: () => void readable.cancel().catch(() => {}),
 * };
 * ```
 */
export interface TransportConnection {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** The peer's address. */
  readonly remoteAddr: TransportAddress;
  /** Closes the connection (idempotent as far as callers are concerned: they catch). */
  close(): void;
}

/**
 * Incoming connections on one local address. A `Deno.TcpListener` is one.
 *
 * @example
 * ```ts
 * import type { TransportListener } from "@bittern/bittern";
 *
 * declare const listener: TransportListener;
 * for await (const connection of listener) connection.close();
 * ```
 */
export interface TransportListener extends AsyncIterable<TransportConnection> {
  /** The local address (with the port picked when 0 was asked). */
  readonly addr: TransportAddress;
  /** Stops listening; the iteration ends. */
  close(): void;
}

/**
 * Makes and accepts connections. The runtime uses nothing else to reach peers
 * (`RuntimeOptions.transport`); the built-in is {@linkcode TcpTransport}.
 *
 * @example A transport that logs each dial
 * ```ts
 * import { TcpTransport, type Transport } from "@bittern/bittern";
 *
 * const tcp = new TcpTransport();
 * const logged: Transport = {
 *   name: "tcp",
 *   listen: (address) => tcp.listen(address),
 *   dial: (address, options) => {
 *     console.log("dialling", address.hostname, address.port);
 *     return tcp.dial(address, options);
 *   },
 * };
 * ```
 */
export interface Transport {
  /** The name every address of this transport carries, e.g. `tcp`. */
  readonly name: string;
  /**
   * Starts listening.
   *
   * @param address Local host name and port (0: any free port).
   * @returns The listener.
   */
  listen(
    address: { readonly hostname: string; readonly port: number },
  ): TransportListener | Promise<TransportListener>;
  /**
   * Connects to a peer.
   *
   * @param address The peer's host and port.
   * @param options `signal` aborts the attempt.
   * @returns The open connection.
   */
  dial(
    address: { readonly hostname: string; readonly port: number },
    options?: { readonly signal?: AbortSignal },
  ): Promise<TransportConnection>;
}
