/**
 * What went wrong talking to a tracker:
 * - `failure`: the tracker answered with a `failure reason` (its text is the message);
 * - `bad-response`: the body is not a valid tracker response (the message says what);
 * - `http-status`: an HTTP status other than 200;
 * - `timeout`: no complete answer within the time limit;
 * - `unreachable`: connection refused, DNS failure, reset;
 * - `redirect`: too many redirects, or a redirect to a non-HTTP URL;
 * - `unsupported`: the URL cannot be used (scheme, or no scrape convention);
 * - `no-tracker-answered`: every tracker of every tier failed.
 */
export type TrackerErrorKind =
  | "failure"
  | "bad-response"
  | "http-status"
  | "timeout"
  | "unreachable"
  | "redirect"
  | "unsupported"
  | "no-tracker-answered";

/**
 * A tracker request failed. `kind` classifies it, `url` names the tracker.
 *
 * @example
 * ```ts
 * import { announce, TrackerError } from "@bittern/bittern";
 *
 * try {
 *   await announce("http://127.0.0.1:1/announce", {
 *     infoHash: new Uint8Array(20),
 *     peerId: new Uint8Array(20),
 *     port: 6881,
 *     uploaded: 0,
 *     downloaded: 0,
 *     left: 0,
 *   });
 * } catch (error) {
 *   if (error instanceof TrackerError) console.log(error.kind); // "unreachable"
 * }
 * ```
 */
export class TrackerError extends Error {
  /** The class of failure. */
  readonly kind: TrackerErrorKind;
  /** The tracker URL the request went to. */
  readonly url: string;
  /** The HTTP status, for kind `http-status`. */
  readonly status?: number;
  /** The tracker's own text, for kind `failure`. */
  readonly reason?: string;
  /** BEP 31 `retry in`, in seconds, when a refusing tracker said when to come back. */
  readonly retryInSeconds?: number;

  /**
   * Creates a tracker error.
   *
   * @param kind The class of failure.
   * @param url The tracker URL.
   * @param message What happened.
   * @param options `cause`, the HTTP `status` (kind `http-status`), the tracker's `reason` and
   * `retryInSeconds` (kind `failure`).
   */
  constructor(
    kind: TrackerErrorKind,
    url: string,
    message: string,
    options?: ErrorOptions & { status?: number; reason?: string; retryInSeconds?: number },
  ) {
    super(`tracker ${url}: ${message}`, options);
    this.name = "TrackerError";
    this.kind = kind;
    this.url = url;
    if (options?.status !== undefined) this.status = options.status;
    if (options?.reason !== undefined) this.reason = options.reason;
    if (options?.retryInSeconds !== undefined) this.retryInSeconds = options.retryInSeconds;
  }
}
