import type { Torrent } from "../metainfo/torrent.ts";
import type { WebSeed } from "../metainfo/web_seeds.ts";

/**
 * One HTTP request (or run of zeros) that covers part of a span of the torrent's data.
 *
 * - `range`: a BEP 19 `Range` request for bytes `first`..`last` (inclusive) of the file
 *   at `url`, which is `fileLength` bytes long.
 * - `pieces`: a BEP 17 request; `url` carries `info_hash`, `piece` and `ranges`.
 * - `zeros`: a BEP 47 padding file's bytes, which no server holds.
 */
export type WebSeedPart =
  | {
    readonly kind: "range";
    readonly url: string;
    readonly first: number;
    readonly last: number;
    readonly fileLength: number;
    readonly length: number;
  }
  | { readonly kind: "pieces"; readonly url: string; readonly length: number }
  | { readonly kind: "zeros"; readonly length: number };

/**
 * The URL of file `fileIndex` (into `torrent.files`) on a BEP 19 web seed: for a
 * single-file torrent the URL itself, or URL + name when it ends in `/`; for a
 * multi-file torrent URL (+ `/`) + name + path, each segment percent-encoded.
 *
 * @example
 * ```ts
 * import { type Torrent, webSeedFileUrl } from "@bittern/bittern";
 *
 * declare const torrent: Torrent; // multi-file, named "album"
 * webSeedFileUrl("http://m.example/pub", torrent, 0); // "http://m.example/pub/album/01%20intro.ogg"
 * ```
 *
 * @param base The web seed's URL.
 * @param torrent The torrent.
 * @param fileIndex Index into `torrent.files`.
 * @returns The file's URL.
 */
export function webSeedFileUrl(base: string, torrent: Torrent, fileIndex: number): string {
  const file = torrent.files[fileIndex];
  if (!torrent.multiFile) {
    return base.endsWith("/") ? base + encodeURIComponent(torrent.name) : base;
  }
  // `path` is [name, ...path]: the torrent's name is the first segment.
  const prefix = base.endsWith("/") ? base : base + "/";
  return prefix + file.path.map((segment) => encodeURIComponent(segment)).join("/");
}

/**
 * Splits the span `start`..`end` (exclusive) of the torrent's data into the requests a
 * web seed answers: one `Range` per file it touches (BEP 19), one request per piece it
 * touches (BEP 17), zeros for padding files.
 *
 * @example
 * ```ts
 * import { type Torrent, webSeedParts } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const parts = webSeedParts({ url: "http://m.example/", kind: "getright" }, torrent, 0, 1 << 20);
 * ```
 *
 * @param seed The web seed.
 * @param torrent The torrent.
 * @param start First byte, counted in the torrent's concatenated data.
 * @param end One past the last byte.
 * @returns The parts, in order; their lengths add up to `end - start`.
 */
export function webSeedParts(
  seed: WebSeed,
  torrent: Torrent,
  start: number,
  end: number,
): WebSeedPart[] {
  if (seed.kind === "hoffman") return hoffmanParts(seed.url, torrent, start, end);
  const parts: WebSeedPart[] = [];
  const files = torrent.files;
  let index = fileAt(torrent, start);
  let position = start;
  while (position < end && index < files.length) {
    const file = files[index];
    const fileEnd = file.offset + file.length;
    const partEnd = Math.min(end, fileEnd);
    if (partEnd > position) {
      const length = partEnd - position;
      if (file.padding) parts.push({ kind: "zeros", length });
      else {
        parts.push({
          kind: "range",
          url: webSeedFileUrl(seed.url, torrent, index),
          first: position - file.offset,
          last: partEnd - file.offset - 1,
          fileLength: file.length,
          length,
        });
      }
      position = partEnd;
    }
    index++;
  }
  return parts;
}

function hoffmanParts(url: string, torrent: Torrent, start: number, end: number): WebSeedPart[] {
  const parts: WebSeedPart[] = [];
  const hash = [...torrent.infoHash].map((byte) => "%" + byte.toString(16).padStart(2, "0"))
    .join("");
  const separator = url.includes("?") ? "&" : "?";
  let position = start;
  while (position < end) {
    const piece = Math.floor(position / torrent.pieceLength);
    const pieceStart = piece * torrent.pieceLength;
    const partEnd = Math.min(end, pieceStart + torrent.pieceLength);
    const ranges = `${position - pieceStart}-${partEnd - pieceStart - 1}`;
    parts.push({
      kind: "pieces",
      url: `${url}${separator}info_hash=${hash}&piece=${piece}&ranges=${ranges}`,
      length: partEnd - position,
    });
    position = partEnd;
  }
  return parts;
}

/** Index of the file holding byte `offset` (binary search; zero-length files skipped over). */
function fileAt(torrent: Torrent, offset: number): number {
  const files = torrent.files;
  let low = 0;
  let high = files.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (files[middle].offset <= offset) low = middle;
    else high = middle - 1;
  }
  // Several files may start at `offset` (zero-length ones): the first of them.
  while (low > 0 && files[low - 1].offset === files[low].offset) low--;
  return low;
}
