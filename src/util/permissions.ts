/**
 * Turning Deno permission failures into errors that name the flag to add.
 */

/** Thrown when an operation needs a Deno permission the process was not given. */
export class PermissionError extends Error {
  /** The flag that would allow the operation, e.g. `--allow-write=./dl`. */
  readonly flag: string;

  /**
   * Creates the error.
   *
   * @param action What was attempted, e.g. `writing to ./dl`.
   * @param flag The flag that grants it.
   * @param options The underlying error as `cause`.
   */
  constructor(action: string, flag: string, options?: ErrorOptions) {
    super(`${action} needs ${flag}`, options);
    this.name = "PermissionError";
    this.flag = flag;
  }
}

/** The kinds of access that map to Deno's `--allow-*` flags. */
export type PermissionKind = "read" | "write" | "net";

/**
 * If `error` is Deno's permission failure, returns a {@linkcode PermissionError}
 * naming the flag for `target`; otherwise returns `error` unchanged.
 */
export function explainPermission(
  error: unknown,
  kind: PermissionKind,
  target: string,
): unknown {
  // Only NotCapable is Deno's sandbox; PermissionDenied is the OS refusing (file modes).
  if (!(error instanceof Deno.errors.NotCapable)) return error;
  const verb = kind === "read" ? "reading" : kind === "write" ? "writing to" : "network access to";
  return new PermissionError(`${verb} ${target}`, `--allow-${kind}=${target}`, { cause: error });
}
