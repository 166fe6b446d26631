/**
 * The transport seam: {@linkcode Transport} makes and accepts
 * {@linkcode TransportConnection}s (a byte stream each way and an address).
 * {@linkcode TcpTransport} is the built-in; {@linkcode MemoryNetwork} runs
 * peers in one process without sockets.
 *
 * @example
 * ```ts
 * import { Runtime, TcpTransport } from "@bittern/bittern";
 *
 * const runtime = new Runtime({ transport: new TcpTransport(), listen: { hostname: "127.0.0.1", port: 0 } });
 * await runtime.close();
 * ```
 *
 * @module
 */
export type {
  Transport,
  TransportAddress,
  TransportConnection,
  TransportListener,
} from "./types.ts";
export { TcpTransport } from "./tcp.ts";
export { MemoryNetwork, MemoryTransport } from "./memory.ts";
