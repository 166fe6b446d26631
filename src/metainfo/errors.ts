/**
 * One thing wrong with a metainfo document: where, and what was expected there.
 *
 * @example
 * ```ts
 * import type { TorrentProblem } from "@bittern/bittern";
 *
 * const problem: TorrentProblem = { path: "info.pieces", expected: "a multiple of 20 bytes" };
 * ```
 */
export interface TorrentProblem {
  /** Field path, e.g. `info.pieces`, `info.files[3].length` or `info["piece length"]`; `(root)` for the document. */
  readonly path: string;
  /** What the field should have been. */
  readonly expected: string;
  /** What was found instead, when that helps. */
  readonly found?: string;
}

/**
 * Why a well-formed torrent cannot be used, for a program to tell apart:
 * `v2-only-unsupported` — a v2-only torrent lacking a file's `piece layers` was given to a
 * `Runtime` or `PieceStore`, which cannot verify its pieces (parsing and `bittern info` work;
 * a `btmh` magnet link fetches the layers from peers).
 *
 * @example
 * ```ts
 * import type { TorrentErrorCode } from "@bittern/bittern";
 *
 * const code: TorrentErrorCode = "v2-only-unsupported";
 * ```
 */
export type TorrentErrorCode = "v2-only-unsupported";

/** Options of a {@linkcode TorrentError}. */
export interface TorrentErrorOptions extends ErrorOptions {
  /** What kind of refusal this is, when it is not a malformed document. */
  readonly code?: TorrentErrorCode;
}

/**
 * Thrown when a metainfo document is malformed or inconsistent, or a torrent
 * cannot be created or used; names every field that is wrong.
 *
 * @example Reading which field is wrong
 * ```ts
 * import { parseTorrent, TorrentError } from "@bittern/bittern";
 *
 * try {
 *   parseTorrent(new TextEncoder().encode("d4:infodee"));
 * } catch (error) {
 *   if (error instanceof TorrentError) console.log(error.problems[0].path); // info.name
 * }
 * ```
 */
export class TorrentError extends Error {
  /** Every problem found, in document order. */
  readonly problems: readonly TorrentProblem[];
  /** Set when the torrent is well-formed but cannot be used (see {@linkcode TorrentErrorCode}). */
  readonly code?: TorrentErrorCode;

  /**
   * Creates an error listing `problems` (at least one).
   *
   * @param problems The fields that are wrong and what each should be.
   * @param options The underlying error as `cause`, and a `code`.
   */
  constructor(problems: readonly TorrentProblem[], options?: TorrentErrorOptions) {
    const text = problems
      .map((p) => `${p.path}: expected ${p.expected}${p.found ? `, found ${p.found}` : ""}`)
      .join("; ");
    // A coded refusal is not a malformed document: its message says what is refused.
    super(
      options?.code ? problems.map((p) => p.expected).join("; ") : `invalid torrent: ${text}`,
      options,
    );
    this.name = "TorrentError";
    this.problems = problems;
    if (options?.code) this.code = options.code;
  }

  /** The field paths of {@linkcode TorrentError.problems}. */
  get paths(): string[] {
    return this.problems.map((p) => p.path);
  }
}

/**
 * Shorthand for a {@linkcode TorrentError} with one problem.
 *
 * @example
 * ```ts
 * import { torrentError } from "@bittern/bittern";
 *
 * throw torrentError("info.pieces", "a multiple of 20 bytes");
 * ```
 *
 * @param path The field path.
 * @param expected What the field should have been.
 * @param options The underlying error as `cause`.
 * @returns The error, to be thrown.
 */
export function torrentError(path: string, expected: string, options?: ErrorOptions): TorrentError {
  return new TorrentError([{ path, expected }], options);
}

/**
 * Refuses a v2-only torrent or magnet link (version 2: no v1 info hash). Throws a
 * {@linkcode TorrentError} with code `v2-only-unsupported`; v1 and hybrid pass.
 *
 * @deprecated The `Runtime` downloads v2-only torrents and `btmh` magnet links; nothing in
 * Bittern calls this any more. Kept for callers that want to refuse them themselves.
 *
 * @example
 * ```ts
 * import { assertDownloadable, parseMagnet, TorrentError } from "@bittern/bittern";
 *
 * try {
 *   assertDownloadable(parseMagnet(`magnet:?xt=urn:btmh:1220${"ab".repeat(32)}`));
 * } catch (error) {
 *   if (error instanceof TorrentError) console.log(error.code); // v2-only-unsupported
 * }
 * ```
 *
 * @param source A parsed torrent or magnet link.
 * @throws {TorrentError} for a v2-only one.
 */
export function assertDownloadable(source: { readonly version?: 1 | 2 | "hybrid" }): void {
  if (source.version !== 2) return;
  throw new TorrentError([{
    path: "info",
    expected: "downloading v2-only torrents is not supported yet (this BEP 52 torrent has no " +
      "v1 info hash; hybrid torrents work)",
  }], { code: "v2-only-unsupported" });
}

/**
 * Thrown when a magnet link is malformed or unsupported; names the offending
 * parameter (`xt`, `dn`, `tr`, `ws`, `x.pe`, `so`, or `(uri)` for the link as
 * a whole) and what was expected there.
 *
 * @example Reading which parameter is wrong
 * ```ts
 * import { MagnetError, parseMagnet } from "@bittern/bittern";
 *
 * try {
 *   parseMagnet("magnet:?dn=nothing");
 * } catch (error) {
 *   if (error instanceof MagnetError) console.log(error.parameter); // xt
 * }
 * ```
 */
export class MagnetError extends Error {
  /** The offending parameter without an index suffix (`tr`, not `tr.1`), or `(uri)`. */
  readonly parameter: string;
  /** What the parameter should have been. */
  readonly expected: string;

  /**
   * Creates the error.
   *
   * @param parameter The offending parameter, or `(uri)` for the whole link.
   * @param expected What was expected there.
   * @param options The underlying error as `cause`.
   */
  constructor(parameter: string, expected: string, options?: ErrorOptions) {
    super(`invalid magnet link: ${parameter}: expected ${expected}`, options);
    this.name = "MagnetError";
    this.parameter = parameter;
    this.expected = expected;
  }
}
