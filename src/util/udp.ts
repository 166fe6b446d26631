/**
 * `node:dgram` and `node:net`, loaded on first use (a UDP tracker, the tracker server's UDP
 * port, the DHT): importing them loads Node's socket, stream and event polyfills, a start-up
 * cost every process would pay though a download with neither UDP trackers nor the DHT never
 * needs them. The imports are literal so `deno compile` still bundles them.
 */
import type { RemoteInfo, Socket, SocketType } from "node:dgram";

export type { RemoteInfo as UdpRemoteInfo, Socket as UdpSocket };

/** A new, unbound `node:dgram` socket of `type` (the module loads on the first call). */
export async function createUdpSocket(type: SocketType): Promise<Socket> {
  const { createSocket } = await import("node:dgram");
  return createSocket(type);
}

/** `node:net`'s `isIP`: 4 or 6 for an address literal, else 0 (the module loads on the first call). */
export async function ipVersion(host: string): Promise<number> {
  const { isIP } = await import("node:net");
  return isIP(host);
}
