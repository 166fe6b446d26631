import { createHash } from "node:crypto";
import { parseIpv4, parseIpv6 } from "../util/ip.ts";

/**
 * What {@linkcode allowedFastSet} computes a set from.
 *
 * @example
 * ```ts
 * import { allowedFastAddress, type AllowedFastOptions } from "@bittern/bittern";
 *
 * const options: AllowedFastOptions = {
 *   address: allowedFastAddress("80.4.4.200")!,
 *   infoHash: new Uint8Array(20).fill(0xaa),
 *   pieceCount: 1313,
 *   size: 7,
 * };
 * ```
 */
export interface AllowedFastOptions {
  /** The peer's address bytes (4 for IPv4, 16 for IPv6), as from {@linkcode allowedFastAddress}. */
  readonly address: Uint8Array;
  /** The torrent's 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** `k`, how many indexes to draw. Default 10. */
  readonly size?: number;
  /**
   * Pieces not to offer (the peer has them, say). As libtorrent does, a
   * skipped draw still counts towards `size`, so the set only shrinks.
   */
  readonly skip?: (index: number) => boolean;
}

/** Draws of a repeated index after which generation stops (libtorrent's safety net). */
const MAX_LOOPS = 500;

/**
 * The allowed fast set of BEP 6: piece indexes a peer may request while
 * choked. `x = SHA-1(address ‖ infoHash)`, then each 4-byte big-endian word of
 * `x` modulo `pieceCount` is drawn in turn (repeats skipped), `x = SHA-1(x)`
 * for more, until `size` are drawn; with `pieceCount <= size`, every piece.
 * This is libtorrent's generator (`send_allowed_set`); with the address
 * masked to /24 and nothing skipped it is the BEP's reference algorithm and
 * gives its published examples.
 *
 * @example The BEP's example
 * ```ts
 * import { allowedFastAddress, allowedFastSet } from "@bittern/bittern";
 *
 * const set = allowedFastSet({
 *   address: allowedFastAddress("80.4.4.200")!, // masked: 80.4.4.0
 *   infoHash: new Uint8Array(20).fill(0xaa),
 *   pieceCount: 1313,
 *   size: 7,
 * });
 * console.log(set); // [1059, 431, 808, 1217, 287, 376, 1188]
 * ```
 *
 * @param options Address, info hash, piece count, size.
 * @returns The indexes, in the order drawn.
 */
export function allowedFastSet(options: AllowedFastOptions): number[] {
  const { pieceCount, skip } = options;
  const size = options.size ?? 10;
  const set: number[] = [];
  if (pieceCount <= 0 || size <= 0) return set;
  if (size >= pieceCount) {
    for (let index = 0; index < pieceCount; index++) if (!skip?.(index)) set.push(index);
    return set;
  }
  let hash = createHash("sha1").update(options.address).update(options.infoHash).digest();
  let attempts = 0;
  let loops = 0;
  for (;;) {
    for (let word = 0; word < 5; word++) {
      loops++;
      const index = hash.readUInt32BE(word * 4) % pieceCount;
      if (set.includes(index)) {
        if (++loops > MAX_LOOPS) return set;
        continue;
      }
      if (!skip?.(index)) set.push(index);
      if (++attempts >= size) return set;
    }
    hash = createHash("sha1").update(hash).digest();
  }
}

/**
 * The address bytes the allowed fast set of a peer at `host` is drawn from:
 * an IPv4 address (an IPv4-mapped IPv6 one too) as 4 bytes, masked to its /24
 * as BEP 6 says unless `mask` is false (libtorrent 2.0 does not mask), or an
 * IPv6 address as 16 bytes. `undefined` for a host name.
 *
 * @example
 * ```ts
 * import { allowedFastAddress } from "@bittern/bittern";
 *
 * console.log(allowedFastAddress("80.4.4.200")); // Uint8Array(4) [ 80, 4, 4, 0 ]
 * console.log(allowedFastAddress("80.4.4.200", { mask: false })); // Uint8Array(4) [ 80, 4, 4, 200 ]
 * ```
 *
 * @param host An IP address literal.
 * @param options `mask`: keep only the /24 of an IPv4 address (default true).
 * @returns The bytes, or `undefined` when `host` is not an IP address.
 */
export function allowedFastAddress(
  host: string,
  options: { readonly mask?: boolean } = {},
): Uint8Array | undefined {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const v4 = parseIpv4(mapped ? mapped[1] : bare);
  if (v4) {
    if (options.mask ?? true) v4[3] = 0;
    return v4;
  }
  return parseIpv6(bare);
}
