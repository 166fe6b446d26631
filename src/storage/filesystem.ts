/**
 * The filesystem back-end (the default): a single-file torrent is one file in the target
 * directory, a multi-file torrent is `<name>/<path...>`.
 */
import type { Torrent } from "../metainfo/torrent.ts";
import { explainPermission, PermissionError, type PermissionKind } from "../util/permissions.ts";
import { addExecuteBits, relativeLinkTarget, symlinkPermissionProblem } from "./attributes.ts";
import { StorageError, toStorageError } from "./errors.ts";
import { type FileSpan, fileSpans } from "./layout.ts";
import { read as readAt, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { fileOpener, OpenFiles, writeOnlyFileOpener } from "./open_files.ts";
import { SafeRoot } from "./safe_path.ts";
import type { Storage, StorageOpenOptions, StoredFileStat, TorrentStorage } from "./types.ts";

/** Bytes a session gathers into one file write (see `TorrentStorage.writeBatchBytes`). */
const WRITE_BATCH_BYTES = 128 * 1024;

/** Options for {@linkcode FileSystemStorage}. */
export interface FileSystemStorageOptions {
  /** Most files each torrent keeps open at once (default 64). */
  readonly maxOpenFiles?: number;
  /**
   * Open existing data for reading only (e.g. `bittern verify`): nothing is created and
   * writes fail with kind `read-only`; needs only `--allow-read`. Default false.
   */
  readonly readOnly?: boolean;
}

/**
 * Stores torrents as files under a directory. Files are created on first write (sparse);
 * handles are opened lazily and capped by an LRU. Needs `--allow-read` and
 * `--allow-write` for the directory only. BEP 47: executable (`x`) files are created at
 * open with execute bits; symlink entries become relative symlinks inside the directory
 * when Deno allows it (unscoped `--allow-read --allow-write`), else they are skipped with
 * a warning (`warnings`).
 *
 * @example
 * ```ts
 * import { FileSystemStorage, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const storage = await new FileSystemStorage("./downloads", { maxOpenFiles: 32 }).open(torrent);
 * await storage.close();
 * ```
 */
export class FileSystemStorage implements Storage {
  /** The target directory as given. */
  readonly dir: string;
  readonly #maxOpenFiles: number;
  readonly #readOnly: boolean;

  /**
   * Creates a back-end rooted at `dir`.
   *
   * @param dir The target directory (created when missing).
   * @param options Handle cap.
   */
  constructor(dir: string, options: FileSystemStorageOptions = {}) {
    this.dir = dir;
    this.#maxOpenFiles = options.maxOpenFiles ?? 64;
    this.#readOnly = options.readOnly ?? false;
  }

  /**
   * Opens storage for `torrent`, creating the directory, wanted zero-length and
   * executable files, and symlinks.
   *
   * @example
   * ```ts
   * import { FileSystemStorage, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * const storage = await new FileSystemStorage("./downloads").open(torrent);
   * ```
   *
   * @param torrent The torrent.
   * @param options Which files are wanted (skipped zero-length files are not created).
   * @returns Its storage.
   */
  async open(
    torrent: Torrent,
    options: StorageOpenOptions = {},
  ): Promise<FileSystemTorrentStorage> {
    const readOnly = this.#readOnly;
    // Without read permission the download still works: write-only, nothing trusted that exists.
    const writeOnly = !readOnly &&
      Deno.permissions.querySync({ name: "read", path: this.dir }).state !== "granted";
    const root = await guard(
      readOnly ? "read" : "write",
      this.dir,
      "open",
      () =>
        writeOnly
          ? SafeRoot.openWriteOnly(this.dir)
          : SafeRoot.open(this.dir, { create: !readOnly }),
    );
    const storage = new FileSystemTorrentFiles(torrent, root, {
      maxOpenFiles: this.#maxOpenFiles,
      readOnly,
      writeOnly,
      dirForErrors: this.dir,
    });
    if (readOnly) return storage;
    const wanted = options.wantedFiles ? new Set(options.wantedFiles) : undefined;
    for (const [index, file] of torrent.files.entries()) {
      if (file.padding || (wanted && !wanted.has(index))) continue;
      if (file.symlinkTarget) await storage.createSymlink(index, file.symlinkTarget);
      else if (file.length === 0 || file.executable) await storage.createEmptyFile(index);
    }
    return storage;
  }
}

/**
 * One torrent's files under a {@linkcode FileSystemStorage} directory: a
 * {@linkcode TorrentStorage} that also reports file stats and its open-handle counts.
 *
 * @example
 * ```ts
 * import { FileSystemStorage, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const storage = await new FileSystemStorage("./downloads").open(torrent);
 * const block = await storage.read(0, 0, 16384);
 * console.log(storage.peakOpenFileCount);
 * await storage.close();
 * ```
 */
export interface FileSystemTorrentStorage extends TorrentStorage {
  /** Files currently open (at most the cap, plus any still finishing an operation). */
  readonly openFileCount: number;
  /** Most files that were open at once. */
  readonly peakOpenFileCount: number;
  /** Size and mtime of each file (`undefined` when missing), for resume files. */
  fileStats(): Promise<(StoredFileStat | undefined)[]>;
  /** BEP 47 attributes that could not be applied (a symlink skipped), one line each. */
  readonly warnings: readonly string[];
}

/** The implementation behind {@linkcode FileSystemTorrentStorage}. */
class FileSystemTorrentFiles implements FileSystemTorrentStorage {
  readonly #torrent: Torrent;
  readonly #root: SafeRoot;
  readonly #dirForErrors: string;
  readonly #files: OpenFiles;
  readonly #readOnly: boolean;
  readonly #writeOnly: boolean;
  readonly #paths = new Map<number, string>();
  #closed = false;
  /** @inheritdoc */
  readonly warnings: string[] = [];

  /**
   * Use {@linkcode FileSystemStorage.open} instead.
   *
   * @param torrent The torrent.
   * @param root The checked download root.
   * @param options Handle cap, read-only mode, and the directory as the user gave it
   *   (for permission messages).
   */
  constructor(
    torrent: Torrent,
    root: SafeRoot,
    options: { maxOpenFiles: number; readOnly: boolean; writeOnly?: boolean; dirForErrors: string },
  ) {
    this.#torrent = torrent;
    this.#root = root;
    this.#dirForErrors = options.dirForErrors;
    this.#readOnly = options.readOnly;
    this.#writeOnly = options.writeOnly ?? false;
    this.#files = new OpenFiles(
      options.maxOpenFiles,
      this.#writeOnly ? writeOnlyFileOpener(options.dirForErrors) : fileOpener(!options.readOnly),
    );
  }

  /**
   * 128 KiB: each write is a synchronous `pwrite` on the main thread, and a 64 KiB write
   * costs about half as much per byte as a 16 KiB one.
   */
  readonly writeBatchBytes = WRITE_BATCH_BYTES;

  /** `false` without read permission: blocks can be written but not read back. */
  get readable(): boolean {
    return !this.#writeOnly;
  }

  /** Files currently open (at most the cap, plus any still finishing an operation). */
  get openFileCount(): number {
    return this.#files.openCount;
  }

  /** Most files that were open at once. */
  get peakOpenFileCount(): number {
    return this.#files.peakOpenCount;
  }

  /**
   * Reads bytes of a piece; fails with kind `not-found` when a file is missing or short.
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * const bytes = await storage.read(0, 0, 16384);
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece.
   * @param length Number of bytes.
   * @returns The bytes.
   */
  async read(piece: number, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(piece, offset, out);
    return out;
  }

  /**
   * Fills `target` with bytes of a piece (padding reads as zeros).
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * const buffer = new Uint8Array(16384);
   * await storage.readInto!(0, 0, buffer);
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece.
   * @param target Where the bytes go; its length is the count.
   */
  async readInto(piece: number, offset: number, target: Uint8Array): Promise<void> {
    this.#ensureOpen("read", piece);
    this.#refuseReadIfWriteOnly();
    await this.#eachSpan(piece, offset, target, false, readFully);
  }

  /**
   * Writes bytes of a piece into the files it spans, creating them as needed.
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * await storage.write(0, 0, new Uint8Array(16384));
   * ```
   *
   * @param piece Piece index.
   * @param offset Offset inside the piece.
   * @param data The bytes.
   */
  async write(piece: number, offset: number, data: Uint8Array): Promise<void> {
    this.#ensureOpen("write", piece);
    if (this.#readOnly) {
      throw new StorageError(
        "read-only",
        "write",
        `piece ${piece}`,
        "the storage was opened read-only",
      );
    }
    const spans = fileSpans(this.#torrent, piece, offset, data.length);
    // The usual case (one span, its file already open) skips the general path's layers.
    const only = spans.length === 1 ? spans[0] : undefined;
    const path = only && !this.#torrent.files[only.fileIndex].padding
      ? this.#paths.get(only.fileIndex)
      : undefined;
    const lease = path === undefined ? undefined : this.#files.acquireOpen(path);
    if (!lease) return await this.#eachSpan(piece, offset, data, true, writeFully);
    try {
      await writeFully(lease.handle!, only!.fileOffset, data, path!);
    } catch (error) {
      throw explainOrClassify(error, "write", this.#dirForErrors, "write", path!);
    } finally {
      this.#files.release(lease);
    }
  }

  /**
   * Syncs every open file's data to disk.
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * await storage.flush();
   * ```
   */
  async flush(): Promise<void> {
    try {
      await this.#files.forEachOpen((file) => file.datasync());
    } catch (error) {
      throw toStorageError(error, "flush", this.#root.path);
    }
  }

  /**
   * Waits for pending operations and closes every file.
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * await storage.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#files.closeAll();
  }

  /**
   * Size and mtime of each file (`undefined` when missing), for resume files.
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * const stats = await storage.fileStats();
   * ```
   *
   * @returns One entry per torrent file.
   */
  async fileStats(): Promise<(StoredFileStat | undefined)[]> {
    this.#refuseReadIfWriteOnly();
    const stats: (StoredFileStat | undefined)[] = [];
    for (const [index, file] of this.#torrent.files.entries()) {
      // Symlinks hold no data: their targets' stats are their own files'.
      stats.push(
        file.padding || file.symlinkTarget
          ? { length: file.length, mtimeMs: 0 }
          : await this.#statFile(index),
      );
    }
    return stats;
  }

  /**
   * Creates file `index` when missing, at open: zero-length files are in no piece, and
   * executable ones (BEP 47 `x`) get their execute bits now.
   */
  async createEmptyFile(index: number): Promise<void> {
    const path = this.#paths.get(index) ?? await this.#resolvePath(index, true, "create");
    const executable = this.#torrent.files[index].executable === true;
    try {
      await this.#files.use(path, true, async (handle) => {
        if (!executable) return;
        // A filesystem without modes (FAT) refuses: the data is still good.
        await addExecuteBits(handle).catch((error: Error) =>
          this.warnings.push(`execute bits of ${path} not set: ${error.message}`)
        );
      });
    } catch (error) {
      throw explainOrClassify(error, "write", this.#dirForErrors, "create", path);
    }
  }

  /**
   * Makes symlink entry `index` (BEP 47 `l`) a relative symlink to `target`, inside the
   * root (both are sanitised segments). Anything in the way, or a missing permission, is
   * a warning, not a failure: the link carries no data.
   */
  async createSymlink(index: number, target: readonly string[]): Promise<void> {
    const segments = this.#torrent.files[index].path;
    const shown = segments.join("/");
    const denied = symlinkPermissionProblem(shown);
    if (denied) return void this.warnings.push(`symlink ${shown} skipped: ${denied.message}`);
    const text = relativeLinkTarget(segments, target);
    try {
      const path = await this.#resolvePath(index, true, "create");
      try {
        await Deno.symlink(text, path);
      } catch (error) {
        // Made by an earlier run: the same link is fine; anything else stays untouched.
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        if (await Deno.readLink(path).catch(() => undefined) !== text) {
          throw new StorageError("io", "create", path, "something else is already there");
        }
      }
    } catch (error) {
      // Our own link from an earlier run, dangling until its target arrives, is no problem.
      const existing = await Deno.readLink(`${this.#root.path}/${shown}`).catch(() => undefined);
      if (existing === text) return;
      const reason = error instanceof Error ? error.message : String(error);
      this.warnings.push(`symlink ${shown} -> ${text} skipped: ${reason}`);
    }
  }

  async #statFile(index: number): Promise<StoredFileStat | undefined> {
    const file = this.#torrent.files[index];
    try {
      const path = this.#paths.get(index) ?? await this.#resolvePath(index, false, "stat");
      const info = await Deno.stat(path);
      return { length: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
    } catch (error) {
      if (error instanceof StorageError && error.kind === "not-found") return undefined;
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw explainOrClassify(error, "read", this.#dirForErrors, "stat", file.path.join("/"));
    }
  }

  /** Runs `io` on every file span of a piece range; one span (the usual case) runs inline. */
  async #eachSpan(
    piece: number,
    offset: number,
    bytes: Uint8Array,
    create: boolean,
    io: SpanIO,
  ): Promise<void> {
    const spans = fileSpans(this.#torrent, piece, offset, bytes.length);
    if (spans.length === 1) return await this.#spanIO(spans[0], bytes, create, io);
    await Promise.all(spans.map((span) => this.#spanIO(span, bytes, create, io)));
  }

  async #spanIO(span: FileSpan, bytes: Uint8Array, create: boolean, io: SpanIO): Promise<void> {
    const part = bytes.subarray(span.rangeOffset, span.rangeOffset + span.length);
    if (this.#torrent.files[span.fileIndex].padding) {
      if (!create) part.fill(0); // BEP 47 padding reads as zeros and is never stored.
      return;
    }
    const operation = create ? "write" : "read";
    const path = this.#paths.get(span.fileIndex) ??
      await this.#resolvePath(span.fileIndex, create, operation);
    try {
      await this.#files.use(path, create, (handle) => io(handle, span.fileOffset, part, path));
    } catch (error) {
      throw explainOrClassify(
        error,
        this.#permissionFor(create),
        this.#dirForErrors,
        operation,
        path,
      );
    }
  }

  /** A writable store opens files read-write even to read them (one handle for both). */
  #permissionFor(create: boolean): PermissionKind {
    return create || !this.#readOnly ? "write" : "read";
  }

  /** The checked absolute path of file `index` (cached once resolved). */
  async #resolvePath(index: number, create: boolean, operation: string): Promise<string> {
    try {
      const path = await this.#root.resolve(this.#torrent.files[index].path, { create });
      this.#paths.set(index, path);
      return path;
    } catch (error) {
      throw explainOrClassify(
        error,
        this.#permissionFor(create),
        this.#dirForErrors,
        operation,
        this.#dirForErrors,
      );
    }
  }

  #refuseReadIfWriteOnly(): void {
    if (this.#writeOnly) {
      throw new PermissionError(
        `reading ${this.#dirForErrors}`,
        `--allow-read=${this.#dirForErrors}`,
      );
    }
  }

  #ensureOpen(operation: string, piece: number): void {
    if (this.#closed) {
      throw new StorageError("closed", operation, `piece ${piece}`, "the storage was closed");
    }
  }
}

/** Positional I/O of `part` at `position` in an open file. */
type SpanIO = (
  handle: FileHandle,
  position: number,
  part: Uint8Array,
  path: string,
) => Promise<void>;

/** Runs `action`, turning a missing Deno permission into a PermissionError for `dir`. */
async function guard<T>(
  kind: PermissionKind,
  dir: string,
  operation: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw explainOrClassify(error, kind, dir, operation, dir);
  }
}

function explainOrClassify(
  error: unknown,
  kind: PermissionKind,
  dir: string,
  operation: string,
  path: string,
): Error {
  if (error instanceof PermissionError) return error;
  // Deno names the access it lacked; trust that over our guess.
  const named = error instanceof Error && /requires read access/i.test(error.message)
    ? "read"
    : kind;
  const explained = explainPermission(error, named, dir);
  return explained === error ? toStorageError(error, operation, path) : explained as Error;
}

/**
 * Repeats a positional read until all of `bytes` is done: `step` moves up to
 * `length` bytes at `offset` of `bytes` and returns how many; 0 ends it with `stalled`.
 * Bounded: each pass either advances or throws.
 */
async function untilDone(
  bytes: Uint8Array,
  step: (offset: number, length: number) => Promise<number>,
  stalled: (done: number) => StorageError,
): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const moved = await step(done, bytes.length - done);
    if (moved <= 0) throw stalled(done);
    done += moved;
  }
}

function readFully(
  file: FileHandle,
  position: number,
  target: Uint8Array,
  path: string,
): Promise<void> {
  return untilDone(
    target,
    (offset, length) => positional(readAt, file.fd, target, offset, length, position + offset),
    (filled) =>
      new StorageError(
        "not-found",
        "read",
        path,
        `file ends before byte ${
          position + target.length
        } (read ${filled} of ${target.length} bytes at ${position})`,
      ),
  );
}

/**
 * One `pread` through node:fs's callback form on the handle's descriptor: the promise form
 * (`FileHandle.read`) wraps the same call in several more layers.
 */
function positional(
  operation: typeof readAt,
  fd: number,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    (operation as (
      fd: number,
      bytes: Uint8Array,
      offset: number,
      length: number,
      position: number,
      done: (error: Error | null, count: number) => void,
    ) => void)(fd, bytes, offset, length, position, (error, count) =>
      error ? reject(error) : resolve(count))
  );
}

/**
 * Writes all of `source` at `position` with synchronous `pwrite`s on the main thread. A
 * 128 KiB batch lands in the page cache in tens of microseconds, while node:fs's
 * asynchronous write hands a native copy of each buffer to a blocking thread: a 1 GiB
 * download then held 20 to 40 MiB more resident memory (native copies and external buffers)
 * for no gain in speed. Failures come back as a rejected promise, like the reads.
 */
function writeFully(
  file: FileHandle,
  position: number,
  source: Uint8Array,
  path: string,
): Promise<void> {
  try {
    for (let done = 0; done < source.length;) {
      const moved = writeSync(file.fd, source, done, source.length - done, position + done);
      if (moved <= 0) {
        throw new StorageError("io", "write", path, `no progress at byte ${position + done}`);
      }
      done += moved;
    }
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}
