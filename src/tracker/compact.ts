/**
 * Compact peer lists: BEP 23 (`peers`, 6 bytes per IPv4 peer) and BEP 7 (`peers6`, 18 bytes).
 */
import { parseIpv4, parseIpv6 } from "../util/ip.ts";
import type { PeerAddress } from "./types.ts";

/** Bytes per compact IPv4 entry: 4 address bytes + 2 port bytes. */
export const COMPACT_IPV4_SIZE = 6;
/** Bytes per compact IPv6 entry: 16 address bytes + 2 port bytes. */
export const COMPACT_IPV6_SIZE = 18;

function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // Collapse the longest run of zero groups (length >= 2) to "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/**
 * Formats a 4- or 16-byte IP address as text (IPv6 without brackets).
 *
 * @param bytes The raw address.
 * @returns Dotted quad or RFC 5952 IPv6 text.
 */
export function formatAddress(bytes: Uint8Array): string {
  return bytes.length === 4 ? bytes.join(".") : formatIpv6(bytes);
}

/**
 * Decodes a compact peer string (IPv4 or IPv6 entries) into addresses. Entries with port 0 are
 * skipped: nobody can connect to them. Returns `undefined` when the length is not a whole
 * number of entries.
 *
 * @param bytes The `peers` (IPv4) or `peers6` (IPv6) byte string.
 * @param family 4 or 6.
 * @returns The peers, or `undefined` when the length is wrong.
 *
 * @example
 * ```ts
 * import { decodeCompactPeers } from "@bittern/bittern";
 *
 * const peers = decodeCompactPeers(new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]), 4);
 * console.log(peers); // [ { host: "127.0.0.1", port: 6881 } ]
 * ```
 */
export function decodeCompactPeers(bytes: Uint8Array, family: 4 | 6): PeerAddress[] | undefined {
  const size = family === 4 ? COMPACT_IPV4_SIZE : COMPACT_IPV6_SIZE;
  if (bytes.length % size !== 0) return undefined;
  const peers: PeerAddress[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const port = (bytes[offset + size - 2] << 8) | bytes[offset + size - 1];
    if (port === 0) continue;
    peers.push({ host: formatAddress(bytes.subarray(offset, offset + size - 2)), port });
  }
  return peers;
}

/**
 * Encodes one peer as a compact entry (6 bytes for IPv4, 18 for IPv6), or `undefined` when the
 * host is not an IP literal or the port is out of range.
 *
 * @param peer The peer address.
 * @returns The compact bytes and the address family, or `undefined`.
 *
 * @example
 * ```ts
 * import { encodeCompactPeer } from "@bittern/bittern";
 *
 * console.log(encodeCompactPeer({ host: "127.0.0.1", port: 6881 })?.bytes.length); // 6
 * ```
 */
export function encodeCompactPeer(
  peer: PeerAddress,
): { family: 4 | 6; bytes: Uint8Array } | undefined {
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) return undefined;
  const v4 = parseIpv4(peer.host);
  const address = v4 ?? parseIpv6(peer.host.replace(/^\[(.*)\]$/, "$1"));
  if (!address) return undefined;
  const bytes = new Uint8Array(address.length + 2);
  bytes.set(address);
  bytes[address.length] = peer.port >> 8;
  bytes[address.length + 1] = peer.port & 0xff;
  return { family: v4 ? 4 : 6, bytes };
}
