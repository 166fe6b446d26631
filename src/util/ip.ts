/**
 * IP address literals: parsed to their bytes here, once, for compact peer lists, the DHT's
 * compact node info, BEP 6's allowed-fast set and the UDP tracker client and server.
 */

/**
 * The four bytes of a dotted-quad IPv4 address, or `undefined` when `host` is not one.
 *
 * @example
 * ```ts
 * import { parseIpv4 } from "@bittern/bittern";
 *
 * console.log(parseIpv4("127.0.0.1")); // Uint8Array(4) [127, 0, 0, 1]
 * ```
 *
 * @param host An address.
 * @returns Four bytes.
 */
export function parseIpv4(host: string): Uint8Array | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return undefined;
  const bytes = match.slice(1).map(Number);
  return bytes.every((byte) => byte <= 255) ? new Uint8Array(bytes) : undefined;
}

/**
 * The sixteen bytes of an IPv6 address literal (`::` shorthand and an IPv4 tail such as
 * `::ffff:1.2.3.4` allowed; no brackets, no zone), or `undefined` when `host` is not one.
 *
 * @param host An address.
 * @returns Sixteen bytes.
 */
export function parseIpv6(host: string): Uint8Array | undefined {
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [
    ...head,
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...tail,
  ];
  return new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

/**
 * 4 or 6 for an IPv4 or IPv6 address literal (an IPv6 one may carry a `%zone`, as
 * `node:net`'s `isIP` allows), else 0: a host name to look up.
 *
 * @param host An address or host name.
 * @returns The address family, or 0.
 */
export function ipVersion(host: string): 0 | 4 | 6 {
  if (parseIpv4(host)) return 4;
  return parseIpv6(host.replace(/%[^%]+$/, "")) ? 6 : 0;
}
