/**
 * The typed error every storage back-end and the piece layer throw.
 */

/**
 * What went wrong in storage, coarse enough for a session to decide what to do.
 * `inconsistent-hashes`: a hybrid torrent's piece matched its SHA-1 but not its v2 merkle
 * hash or the reverse, so the torrent itself is wrong (libtorrent's
 * `torrent_inconsistent_hashes`); its session stops.
 */
export type StorageErrorKind =
  | "no-space"
  | "read-only"
  | "permission"
  | "outside-root"
  | "not-found"
  | "out-of-range"
  | "closed"
  | "inconsistent-hashes"
  | "io";

/**
 * A storage failure naming the kind, the operation and the path (or piece) involved.
 *
 * @example
 * ```ts
 * import { StorageError } from "@bittern/bittern";
 *
 * // kind, operation, path (or place, e.g. "piece 7"), detail (required), options
 * const error = new StorageError("no-space", "write", "/dl/a.bin", "disk full");
 * console.log(error.message); // storage write /dl/a.bin failed (no-space): disk full
 * const missing = new StorageError("not-found", "read", "piece 7", "never written");
 * console.log(missing.kind); // not-found
 * ```
 */
export class StorageError extends Error {
  /** The class of failure. */
  readonly kind: StorageErrorKind;
  /** The operation, e.g. `write`, `read`, `open`. */
  readonly operation: string;
  /** The file path, or a description such as `piece 7` for non-file back-ends. */
  readonly path: string;

  /**
   * Creates a storage error: `new StorageError(kind, operation, path, detail, options?)`; all
   * four strings are required (the message is built from them).
   *
   * @param kind The class of failure.
   * @param operation The operation that failed.
   * @param path The path or place involved.
   * @param detail A short explanation.
   * @param options The underlying error as `cause`.
   */
  constructor(
    kind: StorageErrorKind,
    operation: string,
    path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`storage ${operation} ${path} failed (${kind}): ${detail}`, options);
    this.name = "StorageError";
    this.kind = kind;
    this.operation = operation;
    this.path = path;
  }
}

const KIND_BY_CODE: Readonly<Record<string, StorageErrorKind>> = {
  ENOSPC: "no-space",
  EDQUOT: "no-space",
  EFBIG: "no-space",
  EROFS: "read-only",
  EACCES: "permission",
  EPERM: "permission",
  ENOENT: "not-found",
  ENOTDIR: "not-found",
};

/**
 * Classifies an operating-system error into a {@linkcode StorageError}. Errors that are
 * already typed (a `StorageError`, or a `PermissionError` naming a Deno flag) pass through.
 *
 * @example
 * ```ts
 * import { toStorageError } from "@bittern/bittern";
 *
 * const error = toStorageError(new Deno.errors.NotFound("gone"), "read", "/dl/a.bin");
 * console.log(error instanceof Error); // true
 * ```
 *
 * @param error What was thrown.
 * @param operation The operation that failed.
 * @param path The path involved.
 * @returns A typed error.
 */
export function toStorageError(error: unknown, operation: string, path: string): Error {
  if (error instanceof StorageError) return error;
  if (error instanceof Error && error.name === "PermissionError") return error;
  const code = errorCode(error);
  const kind = (code === undefined ? undefined : KIND_BY_CODE[code]) ??
    (error instanceof Deno.errors.NotFound ? "not-found" : undefined) ??
    (error instanceof Deno.errors.PermissionDenied ? "permission" : "io");
  const detail = error instanceof Error ? error.message : String(error);
  return new StorageError(kind, operation, path, detail, { cause: error });
}

/** errno values that are the same on Linux and macOS, for errors that carry no `code`. */
const CODE_BY_ERRNO: Readonly<Record<string, string>> = {
  "1": "EPERM",
  "2": "ENOENT",
  "13": "EACCES",
  "27": "EFBIG",
  "28": "ENOSPC",
  "30": "EROFS",
};

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  if ("code" in error && typeof error.code === "string") return error.code;
  // Deno's FsFile read/write errors have no `code`, only "... (os error 28)" in the message.
  const errno = error instanceof Error ? /\(os error (\d+)\)/.exec(error.message)?.[1] : undefined;
  return errno === undefined ? undefined : CODE_BY_ERRNO[errno];
}
