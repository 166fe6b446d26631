/**
 * Magnet links (BEP 9, with BEP 53's `so`): a bounded, strict parser and a
 * canonical formatter.
 *
 * Choices, where the specifications leave room:
 * - The link is trimmed of surrounding whitespace; `magnet:` is matched in any case,
 *   as are parameter names and the `urn:btih:` / `urn:btmh:` prefixes.
 * - Indexed names (`tr.1`, `x.pe.2`, `xt.1`, `ws.3`) count as their base name.
 * - Unknown parameters and `xt` values of other namespaces (`urn:sha1:`, ...) are ignored.
 * - `tr` and `ws` that are not absolute `http:`/`https:` (and, for `tr`, `udp:`) URLs are
 *   ignored, as libtorrent ignores trackers it cannot use; duplicates are dropped, keeping order.
 * - `+` is a space only in `dn` (it is a literal `+` elsewhere); an empty `dn` is no name; the
 *   first `dn` wins.
 * - `x.pe` addresses are IPv4 dotted quads, host names or bracketed IPv6 (kept in the
 *   `URL` parser's canonical form), with a port 1-65535; duplicates are dropped.
 * - `so` lists from several parameters are merged; the result is sorted and de-duplicated. Every
 *   range counts its full width against {@linkcode MAX_SELECT_ONLY}, overlapping or not.
 *
 * @module
 */
import { addressKey, type PeerAddress } from "../util/address.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import { MagnetError } from "./errors.ts";

/**
 * The longest magnet link {@linkcode parseMagnet} reads, in UTF-16 code units: 64 KiB.
 *
 * @example
 * ```ts
 * import { MAX_MAGNET_LENGTH } from "@bittern/bittern";
 *
 * console.log(MAX_MAGNET_LENGTH); // 65536
 * ```
 */
export const MAX_MAGNET_LENGTH = 64 * 1024;
/**
 * The most `&`-separated parameters {@linkcode parseMagnet} reads: 1,000.
 *
 * @example
 * ```ts
 * import { MAX_MAGNET_PARAMETERS } from "@bittern/bittern";
 *
 * console.log(MAX_MAGNET_PARAMETERS); // 1000
 * ```
 */
export const MAX_MAGNET_PARAMETERS = 1000;
/**
 * The most file indices a magnet's `so` may select once ranges are expanded: 100,000.
 *
 * @example
 * ```ts
 * import { MAX_SELECT_ONLY } from "@bittern/bittern";
 *
 * console.log(MAX_SELECT_ONLY); // 100000
 * ```
 */
export const MAX_SELECT_ONLY = 100_000;

/**
 * What a magnet link says: the info hash, and the hints that help fetch the
 * metadata and the data.
 *
 * @example
 * ```ts
 * import { type Magnet, parseMagnet } from "@bittern/bittern";
 *
 * const magnet: Magnet = parseMagnet(
 *   "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=x",
 * );
 * console.log(magnet.name, magnet.trackers.length); // x 0
 * ```
 */
export interface Magnet {
  /**
   * The 20-byte info hash peers and trackers know the torrent by: the v1 info hash
   * (`xt=urn:btih:`), or for a v2-only link the v2 info hash truncated to 20 bytes.
   */
  readonly infoHash: Uint8Array;
  /** {@linkcode Magnet.infoHash} as 40 lowercase hex digits. */
  readonly infoHashHex: string;
  /**
   * `1` (only `btih`), `"hybrid"` (`btih` and `btmh`) or `2` (only `btmh`: a v2-only
   * torrent, which a `Runtime` cannot download yet).
   */
  readonly version: 1 | 2 | "hybrid";
  /** The 32-byte v2 info hash (`xt=urn:btmh:1220...`, SHA-256 multihash), when given. */
  readonly infoHashV2?: Uint8Array;
  /** The display name (`dn`), when given and not empty. */
  readonly name?: string;
  /** Tracker URLs (`tr`): http, https and udp only, de-duplicated, in order. */
  readonly trackers: readonly string[];
  /** Peers to try (`x.pe`), de-duplicated, in order. */
  readonly peers: readonly PeerAddress[];
  /** Web seed URLs (`ws`): http and https only, de-duplicated, in order. */
  readonly webSeeds: readonly string[];
  /** File indices to download (BEP 53 `so`), ascending, without duplicates. */
  readonly selectOnly?: readonly number[];
}

const TRACKER_SCHEMES = new Set(["http:", "https:", "udp:"]);
const WEB_SEED_SCHEMES = new Set(["http:", "https:"]);
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const MAX_INDEX = 0x7fffffff;

/**
 * Parses a magnet link.
 *
 * @example Hex or base32 info hash, trackers, peers and a file selection
 * ```ts
 * import { parseMagnet } from "@bittern/bittern";
 *
 * const magnet = parseMagnet(
 *   "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=Big+Buck+Bunny" +
 *     "&tr=udp%3A%2F%2Ftracker.example%3A1337&x.pe=[::1]:6881&so=0,2-3",
 * );
 * console.log(magnet.infoHashHex); // c12fe1c06bba254a9dc9f519b335aa7c1367a88a
 * console.log(magnet.name); // Big Buck Bunny
 * console.log(magnet.trackers); // [ "udp://tracker.example:1337" ]
 * console.log(magnet.peers); // [ { host: "::1", port: 6881 } ]
 * console.log(magnet.selectOnly); // [ 0, 2, 3 ]
 * ```
 *
 * @param uri The link, `magnet:?...`, at most {@linkcode MAX_MAGNET_LENGTH} long.
 * @returns What the link says.
 * @throws {MagnetError} The link is malformed, has no info hash (or conflicting ones), a bad peer
 * address, file selection or percent escape, or is too long.
 */
export function parseMagnet(uri: string): Magnet {
  if (uri.length > MAX_MAGNET_LENGTH) {
    throw new MagnetError("(uri)", `at most ${MAX_MAGNET_LENGTH} characters`);
  }
  if (!uri.isWellFormed()) throw new MagnetError("(uri)", "well-formed Unicode text");
  const text = uri.trim();
  if (!/^magnet:\?/i.test(text)) throw new MagnetError("(uri)", "a link starting with magnet:?");
  const pairs = text.slice(8).split("&");
  if (pairs.length > MAX_MAGNET_PARAMETERS) {
    throw new MagnetError("(uri)", `at most ${MAX_MAGNET_PARAMETERS} parameters`);
  }

  let infoHash: Uint8Array | undefined;
  let infoHashV2: Uint8Array | undefined;
  let name: string | undefined;
  const trackers: string[] = [];
  const webSeeds: string[] = [];
  const peers: PeerAddress[] = [];
  const peerKeys = new Set<string>();
  let selected: number[] | undefined;

  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals < 0) continue;
    const key = baseName(pair.slice(0, equals).toLowerCase());
    const raw = pair.slice(equals + 1);
    switch (key) {
      case "xt": {
        const value = decode(raw, key, false);
        const lower = value.toLowerCase();
        if (lower.startsWith("urn:btih:")) {
          const hash = parseBtih(value.slice(9));
          if (infoHash && toHex(infoHash) !== toHex(hash)) {
            throw new MagnetError("xt", "one v1 info hash (urn:btih:), found two different ones");
          }
          infoHash = hash;
        } else if (lower.startsWith("urn:btmh:")) {
          const hash = parseBtmh(value.slice(9));
          if (infoHashV2 && toHex(infoHashV2) !== toHex(hash)) {
            throw new MagnetError("xt", "one v2 info hash (urn:btmh:), found two different ones");
          }
          infoHashV2 = hash;
        }
        break;
      }
      case "dn": {
        const value = decode(raw, key, true);
        if (name === undefined && value !== "") name = value;
        break;
      }
      case "tr":
        addUrl(trackers, decode(raw, key, false), TRACKER_SCHEMES);
        break;
      case "ws":
        addUrl(webSeeds, decode(raw, key, false), WEB_SEED_SCHEMES);
        break;
      case "x.pe": {
        const peer = parsePeer(decode(raw, key, false));
        const peerKey = addressKey(peer.host, peer.port);
        if (!peerKeys.has(peerKey)) {
          peerKeys.add(peerKey);
          peers.push(peer);
        }
        break;
      }
      case "so":
        parseSelectOnly(decode(raw, key, false), selected ??= []);
        break;
    }
  }

  const version = infoHash ? (infoHashV2 ? "hybrid" : 1) : 2;
  infoHash ??= infoHashV2?.slice(0, 20);
  if (!infoHash) {
    throw new MagnetError(
      "xt",
      "an info hash (xt=urn:btih:<40 hex or 32 base32 digits> or xt=urn:btmh:1220<64 hex>)",
    );
  }
  const magnet: {
    -readonly [K in keyof Magnet]: Magnet[K];
  } = { infoHash, infoHashHex: toHex(infoHash), version, trackers, peers, webSeeds };
  if (infoHashV2) magnet.infoHashV2 = infoHashV2;
  if (name !== undefined) magnet.name = name;
  if (selected) magnet.selectOnly = [...new Set(selected)].sort((a, b) => a - b);
  return magnet;
}

/**
 * Formats a canonical magnet link that {@linkcode parseMagnet} reads back
 * identically: `xt` (hex `urn:btih:`, then `urn:btmh:1220` when there is a v2 hash; only
 * `urn:btmh:` for a v2-only link: `version` 2, or no `infoHash`),
 * `dn`, every `tr`, `x.pe`, `ws`, then `so` with runs written as ranges.
 * Values are percent-encoded; `infoHashHex` is ignored in favour of `infoHash`.
 * Trackers and web seeds are written as given, so one `parseMagnet` would
 * ignore (a `wss:` tracker, say) is not read back; every magnet `parseMagnet`
 * returns is.
 *
 * @example
 * ```ts
 * import { formatMagnet, fromHex } from "@bittern/bittern";
 *
 * const link = formatMagnet({
 *   infoHash: fromHex("c12fe1c06bba254a9dc9f519b335aa7c1367a88a")!,
 *   name: "Big Buck Bunny",
 *   trackers: ["udp://tracker.example:1337"],
 *   selectOnly: [0, 2, 3, 4],
 * });
 * console.log(link);
 * // magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Big%20Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A1337&so=0,2-4
 * ```
 *
 * @param magnet The info hash and any hints.
 * @returns The link.
 * @throws {MagnetError} A hash of the wrong length, a peer parseMagnet would reject, or a file
 * index that is not a non-negative integer.
 */
export function formatMagnet(
  magnet: Partial<Magnet> & ({ infoHash: Uint8Array } | { infoHashV2: Uint8Array }),
): string {
  const parts: string[] = [];
  const v2Only = magnet.version === 2 || magnet.infoHash === undefined;
  if (v2Only && !magnet.infoHashV2) {
    throw new MagnetError("xt", "a v2 info hash for a v2-only link");
  }
  if (!v2Only) {
    if (magnet.infoHash?.length !== 20) throw new MagnetError("xt", "a 20-byte v1 info hash");
    parts.push(`xt=urn:btih:${toHex(magnet.infoHash)}`);
  }
  if (magnet.infoHashV2) {
    if (magnet.infoHashV2.length !== 32) throw new MagnetError("xt", "a 32-byte v2 info hash");
    parts.push(`xt=urn:btmh:1220${toHex(magnet.infoHashV2)}`);
  }
  if (magnet.name) parts.push(`dn=${encode(magnet.name, "dn")}`);
  for (const tracker of magnet.trackers ?? []) parts.push(`tr=${encode(tracker, "tr")}`);
  for (const peer of magnet.peers ?? []) {
    const key = addressKey(peer.host, peer.port);
    parsePeer(key); // the same checks parseMagnet makes
    parts.push(`x.pe=${key}`);
  }
  for (const seed of magnet.webSeeds ?? []) parts.push(`ws=${encode(seed, "ws")}`);
  if (magnet.selectOnly?.length) parts.push(`so=${formatSelectOnly(magnet.selectOnly)}`);
  return `magnet:?${parts.join("&")}`;
}

/** `tr.1` → `tr`; names without a numeric suffix unchanged. */
function baseName(key: string): string {
  const match = key.match(/^(.+)\.\d{1,6}$/);
  return match ? match[1] : key;
}

/** Percent-encodes `value` as UTF-8. */
function encode(value: string, parameter: string): string {
  try {
    return encodeURIComponent(value);
  } catch (error) {
    throw new MagnetError(parameter, "well-formed Unicode text", { cause: error });
  }
}

/** Percent-decodes `raw` (UTF-8), `+` as a space when `plusIsSpace`. */
function decode(raw: string, parameter: string, plusIsSpace: boolean): string {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) {
    throw new MagnetError(parameter, "percent escapes of two hex digits (%XX)");
  }
  try {
    return decodeURIComponent(plusIsSpace ? raw.replaceAll("+", " ") : raw);
  } catch (error) {
    throw new MagnetError(parameter, "percent escapes that decode to UTF-8", { cause: error });
  }
}

function parseBtih(text: string): Uint8Array {
  if (text.length === 40) {
    const bytes = fromHex(text);
    if (bytes) return bytes;
    throw new MagnetError("xt", "urn:btih: with 40 hex digits");
  }
  if (text.length === 32) return fromBase32(text);
  throw new MagnetError(
    "xt",
    `urn:btih: with 40 hex or 32 base32 digits, found ${Math.min(text.length, 999)} characters`,
  );
}

function fromBase32(text: string): Uint8Array {
  const bytes = new Uint8Array(20);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of text.toUpperCase()) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) throw new MagnetError("xt", "urn:btih: base32 digits A-Z and 2-7");
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >>> bits) & 0xff;
    }
  }
  return bytes;
}

function parseBtmh(text: string): Uint8Array {
  const bytes = text.length === 68 && text.toLowerCase().startsWith("1220")
    ? fromHex(text.slice(4))
    : undefined;
  if (!bytes) throw new MagnetError("xt", "urn:btmh:1220 followed by 64 hex digits (SHA-256)");
  return bytes;
}

function addUrl(list: string[], value: string, schemes: ReadonlySet<string>): void {
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f]/.test(value) || list.includes(value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return;
  }
  if (schemes.has(url.protocol) && url.hostname !== "") list.push(value);
}

function parsePeer(text: string): PeerAddress {
  const expected = "host:port, IPv4:port or [IPv6]:port with a port 1-65535";
  const match = text.match(/^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/) ?? text.match(/^([^:]+):(\d{1,5})$/);
  if (!match) throw new MagnetError("x.pe", expected);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new MagnetError("x.pe", expected);
  let host = match[1];
  if (text.startsWith("[")) {
    try {
      host = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      throw new MagnetError("x.pe", expected);
    }
  } else if (/^[\d.]+$/.test(host) ? !IPV4.test(host) : !HOST_NAME.test(host)) {
    throw new MagnetError("x.pe", expected);
  }
  return { host, port };
}

/**
 * Appends the indices of `text` to `into`. Every range counts its full width
 * against {@linkcode MAX_SELECT_ONLY}, overlapping or not, so the work is bounded.
 */
function parseSelectOnly(text: string, into: number[]): void {
  const expected = `file indices and ranges like 0,2,4-6 selecting at most ${MAX_SELECT_ONLY}`;
  for (const item of text.split(",")) {
    const match = item.match(/^(\d{1,10})(?:-(\d{1,10}))?$/);
    if (!match) throw new MagnetError("so", expected);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > MAX_INDEX || into.length + (last - first + 1) > MAX_SELECT_ONLY) {
      throw new MagnetError("so", expected);
    }
    for (let index = first; index <= last; index++) into.push(index);
  }
}

function formatSelectOnly(indices: readonly number[]): string {
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) {
      throw new MagnetError("so", "file indices that are non-negative integers");
    }
  }
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(",");
}
