/**
 * `node:dgram`, loaded on first use (a UDP tracker, the tracker server's UDP
 * port, the DHT): importing it loads Node's socket, stream and event polyfills, a start-up
 * cost every process would pay though a download with neither UDP trackers nor the DHT never
 * needs it. The import is literal so `deno compile` still bundles them.
 */
import type { RemoteInfo, Socket, SocketType } from "node:dgram";

export type { RemoteInfo as UdpRemoteInfo, Socket as UdpSocket };

/** A new, unbound `node:dgram` socket of `type` (the module loads on the first call). */
export async function createUdpSocket(type: SocketType): Promise<Socket> {
  const { createSocket } = await import("node:dgram");
  return createSocket(type);
}
