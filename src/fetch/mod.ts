/**
 * Where torrents come from: the {@linkcode MetainfoFetcher} seam, built-in
 * fetchers for paths, `file:` and `http(s):` URLs, and a registry that tries
 * custom fetchers first.
 *
 * @example
 * ```ts
 * import { fetchTorrent } from "@bittern/bittern";
 *
 * const torrent = await fetchTorrent("./x.torrent");
 * console.log(torrent.infoHashHex);
 * ```
 *
 * @module
 */
export { FetchError } from "./errors.ts";
export type { MetainfoFetcher } from "./fetcher.ts";
export { DEFAULT_MAX_METAINFO_BYTES } from "./limits.ts";
export { FileFetcher } from "./file_fetcher.ts";
export type { FileFetcherOptions } from "./file_fetcher.ts";
export { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_REDIRECTS, HttpFetcher } from "./http_fetcher.ts";
export type { HttpFetcherOptions } from "./http_fetcher.ts";
export { fetchTorrent, MetainfoFetchers } from "./registry.ts";
export type { FetchTorrentOptions } from "./registry.ts";
