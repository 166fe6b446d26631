import { encode } from "../bencode/encode.ts";

/** Options for {@linkcode metainfoFromInfo}. */
export interface MetainfoFromInfoOptions {
  /** Tracker URLs, one tier each (as a magnet's `tr` parameters are read). */
  readonly trackers?: readonly string[];
}

const utf8 = new TextEncoder();

/**
 * Builds a complete .torrent around an info dictionary received from peers
 * (BEP 9): `announce` and `announce-list` from `trackers`, and `info` exactly
 * as given, byte for byte, so the info hash stays the same. The result is
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
  // Keys in canonical order: announce, announce-list, info. `info` is spliced in raw.
  const head = trackers.length
    ? encode({ announce: trackers[0], "announce-list": trackers.map((url) => [url]) })
    : encode({});
  const key = utf8.encode("4:info");
  const out = new Uint8Array(head.length - 1 + key.length + info.length + 1);
  out.set(head.subarray(0, head.length - 1), 0);
  out.set(key, head.length - 1);
  out.set(info, head.length - 1 + key.length);
  out[out.length - 1] = 0x65; // "e"
  return out;
}
