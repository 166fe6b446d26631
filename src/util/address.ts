/**
 * Peer addresses: the shape every peer source produces and the key a session
 * uses for one.
 */

/**
 * A peer's network address, as a tracker, PEX or the user gives it.
 *
 * @example
 * ```ts
 * import type { PeerAddress } from "@bittern/bittern";
 *
 * const peer: PeerAddress = { host: "::1", port: 6881 }; // IPv6 without brackets
 * ```
 */
export interface PeerAddress {
  /** IPv4 dotted quad, IPv6 text without brackets, or a host name (dictionary peers). */
  readonly host: string;
  /** TCP port, 1-65535. */
  readonly port: number;
  /** The 20-byte peer id, when the tracker sent one (dictionary form only). */
  readonly peerId?: Uint8Array;
  /**
   * Which swarm of a hybrid torrent (BEP 52) the peer was found in: `"v2"` when an
   * announce or lookup under the truncated v2 info hash returned it. It is then
   * dialled with that hash, as libtorrent does; otherwise with the v1 hash.
   */
  readonly swarm?: "v1" | "v2";
}

/**
 * Formats an address as a unique key: `host:port`, `[v6]:port`.
 *
 * @example
 * ```ts
 * import { addressKey } from "@bittern/bittern";
 *
 * console.log(addressKey("::1", 6881)); // "[::1]:6881"
 * ```
 *
 * @param host Address or host name (IPv6 without brackets).
 * @param port Port.
 * @returns The key.
 */
export function addressKey(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
