/**
 * Streaming a torrent's files while they download: `TorrentSession.createReadStream`
 * reads verified bytes in order (fetching the pieces under its reader first), and
 * {@linkcode serveFile} answers HTTP range requests with it.
 *
 * @example
 * ```ts
 * import { contentTypeFor, parseRange } from "@bittern/bittern";
 *
 * console.log(parseRange("bytes=0-1023", 4096), contentTypeFor("movie.mkv"));
 * ```
 *
 * @module
 */
export { StreamError, type StreamErrorKind } from "./errors.ts";
export { type ByteRange, parseRange } from "./range.ts";
export { contentTypeFor } from "./content_type.ts";
export type { ReadStreamOptions } from "./read_stream.ts";
export { serveFile, type StreamableSession } from "./serve.ts";
