/** What went wrong with a stream. */
export type StreamErrorKind =
  | "bad-file"
  | "bad-range"
  | "unreadable"
  | "stopped";

/**
 * A stream that cannot be opened or cannot go on: a file index or range that
 * does not fit the torrent, storage that cannot be read back, or a session
 * that stopped under it.
 *
 * @example
 * ```ts
 * import { StreamError } from "@bittern/bittern";
 *
 * const error = new StreamError("bad-range", "file 0", "start 900 is past the end (100 bytes)");
 * console.log(error.message); // stream of file 0: start 900 is past the end (100 bytes)
 * console.log(error.kind); // bad-range
 * ```
 */
export class StreamError extends Error {
  /** The class of failure. */
  readonly kind: StreamErrorKind;
  /** What was streamed, e.g. `file 2`. */
  readonly target: string;

  /**
   * Creates the error.
   *
   * @param kind The class of failure.
   * @param target What was streamed, e.g. `file 2`.
   * @param detail What went wrong.
   * @param options The underlying error as `cause`.
   */
  constructor(kind: StreamErrorKind, target: string, detail: string, options?: ErrorOptions) {
    super(`stream of ${target}: ${detail}`, options);
    this.name = "StreamError";
    this.kind = kind;
    this.target = target;
  }
}
