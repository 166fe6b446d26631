/**
 * What went wrong with a web seed:
 * `status` (an HTTP status other than the expected one: 4xx, 5xx, 416),
 * `ignored-range` (`200` with the whole file for a partial range),
 * `content-range` (a `Content-Range` or `Content-Length` naming other bytes),
 * `short-body`/`long-body` (fewer or more bytes than asked),
 * `connection` (refused, reset, a redirect loop), `timeout` (no bytes for too long),
 * `corrupt` (data that failed the piece hash), `url` (not an http(s) URL).
 */
export type WebSeedErrorCode =
  | "status"
  | "ignored-range"
  | "content-range"
  | "short-body"
  | "long-body"
  | "connection"
  | "timeout"
  | "corrupt"
  | "url";

/**
 * A web seed answered wrongly or not at all. Names the URL and what was wrong; a
 * server that asked us to come back later (`503` with `Retry-After`, or BEP 17's
 * `503` body) sets `retryAfterMs`.
 *
 * @example
 * ```ts
 * import { WebSeedError } from "@bittern/bittern";
 *
 * const error = new WebSeedError("status", "http://m.example/f", "HTTP 416");
 * console.log(error.message); // web seed http://m.example/f: HTTP 416
 * ```
 */
export class WebSeedError extends Error {
  /** What kind of failure. */
  readonly code: WebSeedErrorCode;
  /** The URL requested. */
  readonly url: string;
  /** How long the server asked us to wait, when it did. */
  readonly retryAfterMs: number | undefined;

  /**
   * Names the failure and the URL.
   *
   * @param code What kind of failure.
   * @param url The URL requested.
   * @param detail What happened.
   * @param options `retryAfterMs`, and the `cause`.
   */
  constructor(
    code: WebSeedErrorCode,
    url: string,
    detail: string,
    options: ErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super(`web seed ${url}: ${detail}`, options);
    this.name = "WebSeedError";
    this.code = code;
    this.url = url;
    this.retryAfterMs = options.retryAfterMs;
  }
}
