import { markDirect } from "./direct.ts";
import type { Transport, TransportConnection, TransportListener } from "./types.ts";

/**
 * The built-in transport: TCP through `Deno.listen` and `Deno.connect`
 * (a `Deno.TcpConn` is a {@linkcode TransportConnection} as it is).
 *
 * @example
 * ```ts
 * import { TcpTransport } from "@bittern/bittern";
 *
 * const tcp = new TcpTransport();
 * const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
 * const dialling = tcp.dial({ hostname: "127.0.0.1", port: listener.addr.port });
 * for await (const incoming of listener) {
 *   incoming.close();
 *   break;
 * }
 * (await dialling).close();
 * listener.close();
 * ```
 */
export class TcpTransport implements Transport {
  /** Always `tcp`. */
  readonly name = "tcp";

  /**
   * Listens on a TCP port.
   *
   * @param address Local host name and port (0: any free port).
   * @returns The listener (over a `Deno.TcpListener`; its connections are `Deno.TcpConn`s).
   */
  listen(address: { readonly hostname: string; readonly port: number }): TransportListener {
    const listener = Deno.listen({
      hostname: address.hostname,
      port: address.port,
      transport: "tcp",
    });
    return {
      addr: listener.addr,
      close: () => listener.close(),
      async *[Symbol.asyncIterator]() {
        for await (const conn of listener) yield prepared(conn);
      },
    };
  }

  /**
   * Connects over TCP.
   *
   * @param address The peer's host and port.
   * @param options `signal` aborts the attempt.
   * @returns The connection (`Deno.TcpConn`).
   */
  dial(
    address: { readonly hostname: string; readonly port: number },
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<TransportConnection> {
    return Deno.connect({ hostname: address.hostname, port: address.port, signal: options.signal })
      .then(prepared);
  }
}

/**
 * Turns Nagle's algorithm off (a request or a short message waits for no ACK: on loopback
 * Nagle held small writes behind delayed ACKs, ~40 ms each) and marks the connection direct.
 */
function prepared(conn: Deno.TcpConn): Deno.TcpConn {
  conn.setNoDelay(true);
  return markDirect(conn);
}
