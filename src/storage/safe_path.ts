/**
 * Second line of defence against path escapes: every path is built from checked segments
 * under a root, and no existing symlink on the way may lead outside that root.
 */
import { PermissionError } from "../util/permissions.ts";
import { StorageError } from "./errors.ts";

const FORBIDDEN_SEGMENT = /[/\\\0]/;

/**
 * Resolves torrent file paths under one root directory, refusing anything that would
 * land outside it.
 *
 * @example
 * ```ts
 * import { SafeRoot } from "./safe_path.ts";
 *
 * const root = await SafeRoot.open("/tmp/downloads");
 * const path = await root.resolve(["album", "01.flac"], { create: true });
 * ```
 */
export class SafeRoot {
  /** The root's canonical absolute path (symlinks resolved). */
  readonly path: string;
  /**
   * Directories (relative, `/`-joined) checked, or being checked, to be real directories
   * inside. Promises, so concurrent resolutions under one new directory share one check.
   */
  readonly #checkedDirs = new Map<string, Promise<void>>();
  /** Without read permission: directories are only ever created, never trusted when found. */
  readonly #writeOnly: boolean;

  private constructor(path: string, writeOnly = false) {
    this.path = path;
    this.#writeOnly = writeOnly;
  }

  /**
   * A root usable with write permission alone. Nothing inside can be
   * inspected, so every directory below the root must be created by this
   * root (an existing one could be a symlink leading out); one that already
   * exists is refused with a {@linkcode PermissionError} naming
   * `--allow-read=<dir>`. Paths stay as given (relative paths stay relative).
   *
   * @example
   * ```ts
   * import { SafeRoot } from "./safe_path.ts";
   *
   * const root = await SafeRoot.openWriteOnly("./downloads");
   * ```
   *
   * @param dir The download directory (created when missing).
   * @returns The root.
   */
  static async openWriteOnly(dir: string): Promise<SafeRoot> {
    await Deno.mkdir(dir, { recursive: true });
    return new SafeRoot(dir.replace(/\/+$/, "") || "/", true);
  }

  /**
   * Resolves the root's canonical path, creating the directory first when `create`.
   *
   * @example
   * ```ts
   * import { SafeRoot } from "./safe_path.ts";
   *
   * const root = await SafeRoot.open("./downloads");
   * console.log(root.path);
   * ```
   *
   * @param dir The download directory.
   * @param options `create` (default true): make the directory when missing.
   * @returns The root.
   */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<SafeRoot> {
    if (options.create ?? true) await Deno.mkdir(dir, { recursive: true });
    return new SafeRoot(await Deno.realPath(dir));
  }

  /**
   * The absolute path of `segments` under the root. With `create`, missing parent
   * directories are made. Throws a `StorageError` of kind `outside-root` for a bad
   * segment or a symlink leading out, `not-found` for a missing parent without `create`.
   *
   * @example
   * ```ts
   * import { SafeRoot } from "./safe_path.ts";
   *
   * declare const root: SafeRoot;
   * const path = await root.resolve(["dir", "file.bin"], { create: false });
   * ```
   *
   * @param segments Path segments relative to the root.
   * @param options `create`: make missing parent directories.
   * @returns The absolute path.
   */
  async resolve(segments: readonly string[], options: { create: boolean }): Promise<string> {
    const shown = segments.join("/");
    if (segments.length === 0) {
      throw new StorageError("outside-root", "resolve", shown, "empty path");
    }
    for (const segment of segments) {
      if (
        segment === "" || segment === "." || segment === ".." || FORBIDDEN_SEGMENT.test(segment)
      ) {
        throw new StorageError(
          "outside-root",
          "resolve",
          shown,
          `unsafe path segment ${JSON.stringify(segment)}`,
        );
      }
    }
    let relative = "";
    for (const segment of segments.slice(0, -1)) {
      relative = relative ? `${relative}/${segment}` : segment;
      let check = this.#checkedDirs.get(relative);
      if (!check) {
        check = this.#checkDirectory(relative, options.create);
        this.#checkedDirs.set(relative, check);
        // A failed check is not remembered: a later call may succeed (e.g. with create).
        check.catch(() => this.#checkedDirs.delete(relative));
      }
      await check;
    }
    const absolute = `${this.path}/${segments.join("/")}`;
    // Write-only: files are created exclusively by the opener instead.
    if (!this.#writeOnly) await this.#refuseEscapingLink(absolute, shown);
    return absolute;
  }

  async #checkDirectory(relative: string, create: boolean): Promise<void> {
    const absolute = `${this.path}/${relative}`;
    if (this.#writeOnly) {
      try {
        await Deno.mkdir(absolute);
        return;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        throw new PermissionError(
          `using the existing directory ${absolute}`,
          `--allow-read=${this.path}`,
          {
            cause: error,
          },
        );
      }
    }
    let info = await lstatOrUndefined(absolute);
    if (!info) {
      if (!create) {
        throw new StorageError("not-found", "resolve", absolute, "directory does not exist");
      }
      try {
        await Deno.mkdir(absolute);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
      info = await Deno.lstat(absolute);
    }
    if (info.isSymlink) {
      await this.#refuseEscapingLink(absolute, relative);
      const target = await Deno.stat(absolute);
      if (!target.isDirectory) {
        throw new StorageError("io", "resolve", absolute, "a path component is not a directory");
      }
    } else if (!info.isDirectory) {
      throw new StorageError("io", "resolve", absolute, "a path component is not a directory");
    }
  }

  /** Refuses `absolute` when it is a symlink (dangling or not) resolving outside the root. */
  async #refuseEscapingLink(absolute: string, shown: string): Promise<void> {
    const info = await lstatOrUndefined(absolute);
    if (!info?.isSymlink) return;
    let target: string;
    try {
      target = await Deno.realPath(absolute);
    } catch (error) {
      throw new StorageError("outside-root", "resolve", shown, "dangling symlink", {
        cause: error,
      });
    }
    if (!target.startsWith(`${this.path}/`)) {
      throw new StorageError(
        "outside-root",
        "resolve",
        shown,
        `symlink leads to ${target}, outside ${this.path}`,
      );
    }
  }
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
