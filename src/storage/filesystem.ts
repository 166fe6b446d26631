/**
 * The filesystem back-end (the default): a single-file torrent is one file in the target
 * directory, a multi-file torrent is `<name>/<path...>`.
 */
import type { Torrent, TorrentFile } from "../metainfo/torrent.ts";
import { explainPermission, type PermissionKind } from "../util/permissions.ts";
import { StorageError, toStorageError } from "./errors.ts";
import { fileSpans } from "./layout.ts";
import { OpenFiles } from "./open_files.ts";
import { SafeRoot } from "./safe_path.ts";
import type { Storage, StorageOpenOptions, StoredFileStat, TorrentStorage } from "./types.ts";

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
 * `--allow-write` for the directory only.
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
   * @param dir The target directory (created when missing).
   * @param options Handle cap.
   */
  constructor(dir: string, options: FileSystemStorageOptions = {}) {
    this.dir = dir;
    this.#maxOpenFiles = options.maxOpenFiles ?? 64;
    this.#readOnly = options.readOnly ?? false;
  }

  /**
   * Opens storage for `torrent`, creating the directory and wanted zero-length files.
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
    const root = await guard(
      readOnly ? "read" : "write",
      this.dir,
      "open",
      () => SafeRoot.open(this.dir, { create: !readOnly }),
    );
    const storage = new FileSystemTorrentFiles(torrent, root, {
      maxOpenFiles: this.#maxOpenFiles,
      readOnly,
      dirForErrors: this.dir,
    });
    if (readOnly) return storage;
    const wanted = options.wantedFiles ? new Set(options.wantedFiles) : undefined;
    for (const [index, file] of torrent.files.entries()) {
      if (file.length === 0 && !file.padding && (!wanted || wanted.has(index))) {
        await storage.createEmptyFile(index);
      }
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
}

/** The implementation behind {@linkcode FileSystemTorrentStorage}. */
class FileSystemTorrentFiles implements FileSystemTorrentStorage {
  readonly #torrent: Torrent;
  readonly #root: SafeRoot;
  readonly #dirForErrors: string;
  readonly #files: OpenFiles;
  readonly #readOnly: boolean;
  readonly #paths = new Map<number, Promise<string>>();
  #closed = false;

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
    options: { maxOpenFiles: number; readOnly: boolean; dirForErrors: string },
  ) {
    this.#torrent = torrent;
    this.#root = root;
    this.#dirForErrors = options.dirForErrors;
    this.#readOnly = options.readOnly;
    this.#files = new OpenFiles(
      options.maxOpenFiles,
      (path, writable) => Deno.open(path, { read: true, write: writable, create: writable }),
    );
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
    this.#ensureOpen("read", piece);
    const out = new Uint8Array(length);
    await Promise.all(
      fileSpans(this.#torrent, piece, offset, length).map(async (span) => {
        const file = this.#torrent.files[span.fileIndex];
        if (file.padding) return; // BEP 47 padding reads as zeros and is never stored.
        const target = out.subarray(span.rangeOffset, span.rangeOffset + span.length);
        await this.#withFile(
          span.fileIndex,
          false,
          "read",
          (handle, path) => readFully(handle, span.fileOffset, target, path),
        );
      }),
    );
    return out;
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
    await Promise.all(
      fileSpans(this.#torrent, piece, offset, data.length).map(async (span) => {
        if (this.#torrent.files[span.fileIndex].padding) return;
        const source = data.subarray(span.rangeOffset, span.rangeOffset + span.length);
        await this.#withFile(
          span.fileIndex,
          true,
          "write",
          (handle) => writeFully(handle, span.fileOffset, source),
        );
      }),
    );
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
      await this.#files.forEachWritable((file) => file.syncData());
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
    const stats: (StoredFileStat | undefined)[] = [];
    for (const [index, file] of this.#torrent.files.entries()) {
      stats.push(file.padding ? { length: file.length, mtimeMs: 0 } : await this.#statFile(index));
    }
    return stats;
  }

  /**
   * Creates zero-length file `index` (used at open; zero-length files are in no piece).
   *
   * @example
   * ```ts
   * import type { FileSystemTorrentStorage } from "@bittern/bittern";
   *
   * declare const storage: FileSystemTorrentStorage;
   * await storage.createEmptyFile(2);
   * ```
   *
   * @param index File index.
   */
  async createEmptyFile(index: number): Promise<void> {
    await this.#withFile(index, true, "create", () => Promise.resolve());
  }

  async #statFile(index: number): Promise<StoredFileStat | undefined> {
    const file = this.#torrent.files[index];
    try {
      const path = await this.#pathOf(index, file, false);
      const info = await Deno.stat(path);
      return { length: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
    } catch (error) {
      if (error instanceof StorageError && error.kind === "not-found") return undefined;
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw explainOrClassify(error, "read", this.#dirForErrors, "stat", file.path.join("/"));
    }
  }

  #withFile<T>(
    index: number,
    writable: boolean,
    operation: string,
    action: (handle: Deno.FsFile, path: string) => Promise<T>,
  ): Promise<T> {
    const file = this.#torrent.files[index];
    const kind: PermissionKind = writable ? "write" : "read";
    return guard(kind, this.#dirForErrors, operation, async () => {
      const path = await this.#pathOf(index, file, writable);
      try {
        return await this.#files.use(path, writable, (handle) => action(handle, path));
      } catch (error) {
        throw explainOrClassify(error, kind, this.#dirForErrors, operation, path);
      }
    });
  }

  /** The checked absolute path of a file; cached once a writable resolution succeeds. */
  #pathOf(index: number, file: TorrentFile, create: boolean): Promise<string> {
    const cached = this.#paths.get(index);
    if (cached) return cached;
    const resolving = this.#root.resolve(file.path, { create });
    if (create) {
      this.#paths.set(index, resolving);
      resolving.catch(() => this.#paths.delete(index));
    }
    return resolving;
  }

  #ensureOpen(operation: string, piece: number): void {
    if (this.#closed) {
      throw new StorageError("closed", operation, `piece ${piece}`, "the storage was closed");
    }
  }
}

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
  const explained = explainPermission(error, kind, dir);
  return explained === error ? toStorageError(error, operation, path) : explained as Error;
}

async function readFully(
  file: Deno.FsFile,
  position: number,
  target: Uint8Array,
  path: string,
): Promise<void> {
  await file.seek(position, Deno.SeekMode.Start);
  let filled = 0;
  // Bounded: each pass either advances or returns.
  while (filled < target.length) {
    const count = await file.read(target.subarray(filled));
    if (count === null || count === 0) {
      throw new StorageError(
        "not-found",
        "read",
        path,
        `file ends before byte ${
          position + target.length
        } (read ${filled} of ${target.length} bytes at ${position})`,
      );
    }
    filled += count;
  }
}

async function writeFully(file: Deno.FsFile, position: number, source: Uint8Array): Promise<void> {
  await file.seek(position, Deno.SeekMode.Start);
  let written = 0;
  while (written < source.length) {
    const count = await file.write(source.subarray(written));
    if (count <= 0) throw new Error(`write made no progress at byte ${position + written}`);
    written += count;
  }
}
