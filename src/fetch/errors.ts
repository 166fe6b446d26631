/**
 * Thrown when a metainfo source cannot be fetched: an unknown kind of
 * source, a non-200 answer, too many redirects, a body that is too large or
 * not a torrent, a timeout. Names the source.
 *
 * @example
 * ```ts
 * import { FetchError, fetchTorrent } from "@bittern/bittern";
 *
 * try {
 *   await fetchTorrent("http://127.0.0.1:1/missing.torrent");
 * } catch (error) {
 *   if (error instanceof FetchError) console.log(error.source, error.status);
 * }
 * ```
 */
export class FetchError extends Error {
  /** The source (path or URL) that failed. */
  readonly source: string;
  /** The HTTP status, when an HTTP server answered. */
  readonly status?: number;

  /**
   * Creates an error about `source`.
   *
   * @param source The path or URL.
   * @param problem What went wrong, e.g. `answered 404 Not Found`.
   * @param options `status` and the underlying error as `cause`.
   */
  constructor(source: string, problem: string, options?: ErrorOptions & { status?: number }) {
    super(`fetching ${source}: ${problem}`, options);
    this.name = "FetchError";
    this.source = source;
    this.status = options?.status;
  }
}
