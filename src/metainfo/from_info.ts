import { encode } from "../bencode/encode.ts";
import { compareBytes } from "../util/bytes.ts";
import { isWebSeedUrl } from "./web_seeds.ts";

/** Options for {@linkcode metainfoFromInfo}. */
export interface MetainfoFromInfoOptions {
  /** Tracker URLs, one tier each (as a magnet's `tr` parameters are read). */
  readonly trackers?: readonly string[];
  /**
   * Web seeds written as `url-list` (BEP 19; a magnet's `ws` parameters): one as a string,
   * more as a list. Those that are not http(s) URLs are left out.
   */
  readonly webSeeds?: readonly string[];
  /**
   * BEP 52 `piece layers` for a v2 or hybrid info dictionary: each file's 32-byte
   * `pieces root` with its piece layer (one 32-byte hash per piece). Written as given;
   * `parseTorrent` checks them against the roots.
   */
  readonly pieceLayers?: readonly { readonly root: Uint8Array; readonly layer: Uint8Array }[];
}

const utf8 = new TextEncoder();

/**
 * Builds a complete .torrent around an info dictionary received from peers
 * (BEP 9): `announce` and `announce-list` from `trackers`, `url-list` from
 * `webSeeds`, and `info` exactly as given, byte for byte, so the info hash
 * stays the same. The result is
 * what `bittern download --save-torrent` writes, and what `parseTorrent` reads.
 *
 * @example Saving the metadata of a magnet download
 * ```ts
 * import { metainfoFromInfo, parseTorrent } from "@bittern/bittern";
 *
 * declare const info: Uint8Array; // from the `metadata` event's torrent.infoBytes
 * const bytes = metainfoFromInfo(info, { trackers: ["udp://tracker.example:1337"] });
 * console.log(parseTorrent(bytes).announce); // [ [ "udp://tracker.example:1337" ] ]
 * ```
 *
 * @param info The bencoded info dictionary.
 * @param options Trackers to list.
 * @returns The bencoded metainfo.
 */
export function metainfoFromInfo(
  info: Uint8Array,
  options: MetainfoFromInfoOptions = {},
): Uint8Array {
  const trackers = options.trackers ?? [];
  const webSeeds = [...new Set(options.webSeeds ?? [])].filter(isWebSeedUrl);
  // Keys in canonical order: announce, announce-list, info, piece layers, url-list. `info` is spliced in raw.
  const head = trackers.length
    ? encode({ announce: trackers[0], "announce-list": trackers.map((url) => [url]) })
    : encode({});
  const tail = webSeeds.length
    ? encode({ "url-list": webSeeds.length === 1 ? webSeeds[0] : webSeeds })
    : encode({});
  const parts = [head.subarray(0, head.length - 1), utf8.encode("4:info"), info];
  const layers = [...options.pieceLayers ?? []].sort((a, b) => compareBytes(a.root, b.root));
  if (layers.length) {
    // "piece layers" sorts after "info"; its keys are raw 32-byte roots, in byte order.
    parts.push(utf8.encode("12:piece layersd"));
    for (const { root, layer } of layers) {
      parts.push(utf8.encode(`${root.length}:`), root, utf8.encode(`${layer.length}:`), layer);
    }
    parts.push(utf8.encode("e"));
  }
  // The tail dictionary loses its `d`: it closes the whole document.
  parts.push(tail.subarray(1));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
