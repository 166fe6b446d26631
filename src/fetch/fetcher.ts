/**
 * Where torrents come from: the seam a user implements to add a source kind
 * (a database, a magnet resolver, a cache...).
 *
 * @example A fetcher for an in-memory catalogue
 * ```ts
 * import type { MetainfoFetcher } from "@bittern/bittern";
 *
 * const catalogue = new Map<string, Uint8Array>();
 * const fromCatalogue: MetainfoFetcher = {
 *   name: "catalogue",
 *   canFetch: (source) => source.startsWith("catalogue:"),
 *   fetch: (source) => Promise.resolve(catalogue.get(source) ?? new Uint8Array()),
 * };
 * ```
 */
export interface MetainfoFetcher {
  /** Short name for messages, e.g. `http`. */
  readonly name: string;
  /**
   * Whether this fetcher handles `source` (decided from the string alone, without I/O).
   *
   * @param source A path, URL or other identifier.
   */
  canFetch(source: string): boolean;
  /**
   * Fetches the metainfo bytes of `source`.
   *
   * @param source A source this fetcher said it can fetch.
   * @param signal Aborts the fetch; the promise then rejects.
   */
  fetch(source: string, signal: AbortSignal): Promise<Uint8Array>;
}
