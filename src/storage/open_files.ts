/**
 * A capped, least-recently-used set of open files. Operations on one file run one at a
 * time (a file position is shared state: seek then read/write must not interleave), and
 * no more than the cap of descriptors is ever open: a caller needing one more waits for
 * an idle file to be closed.
 */

interface Entry {
  file: Promise<Deno.FsFile>;
  writable: boolean;
  tail: Promise<unknown>;
  /** Operations queued or running; an entry with none is idle and may be evicted. */
  busy: number;
}

/** Opens `path` for reading, or for reading and writing (creating it) when `writable`. */
export type FileOpener = (path: string, writable: boolean) => Promise<Deno.FsFile>;

/**
 * Least-recently-used cache of open files with a hard cap on descriptors.
 *
 * @example
 * ```ts
 * import { OpenFiles } from "./open_files.ts";
 *
 * const files = new OpenFiles(16, (path, writable) =>
 *   Deno.open(path, { read: true, write: writable, create: writable }));
 * await files.closeAll();
 * ```
 */
export class OpenFiles {
  readonly #maxOpen: number;
  readonly #opener: FileOpener;
  readonly #entries = new Map<string, Entry>();
  readonly #closing = new Set<Promise<void>>();
  #waiters: (() => void)[] = [];
  #descriptors = 0;
  #peakDescriptors = 0;

  /**
   * @param maxOpen Most files open at once (at least 1).
   * @param opener How to open a file.
   */
  constructor(maxOpen: number, opener: FileOpener) {
    this.#maxOpen = Math.max(1, Math.floor(maxOpen));
    this.#opener = async (path, writable) => {
      const file = await opener(path, writable);
      this.#descriptors++;
      this.#peakDescriptors = Math.max(this.#peakDescriptors, this.#descriptors);
      return file;
    };
  }

  /** Number of file descriptors currently open. */
  get openCount(): number {
    return this.#descriptors;
  }

  /** Highest {@linkcode OpenFiles.openCount} seen. */
  get peakOpenCount(): number {
    return this.#peakDescriptors;
  }

  /**
   * Runs `action` on the open file at `path`, after earlier actions on the same file.
   *
   * @example
   * ```ts
   * import { OpenFiles } from "./open_files.ts";
   *
   * declare const files: OpenFiles;
   * const size = await files.use("/tmp/a.bin", false, (file) => file.stat().then((s) => s.size));
   * ```
   *
   * @param path Absolute file path (the cache key).
   * @param writable Whether the action writes.
   * @param action What to do with the file.
   * @returns What `action` returns.
   */
  use<T>(path: string, writable: boolean, action: (file: Deno.FsFile) => Promise<T>): Promise<T> {
    const entry = this.#entries.get(path);
    if (entry) {
      this.#touch(path, entry, writable);
      entry.busy++;
      return this.#run(entry, action);
    }
    return this.#admit(path, writable).then((admitted) => this.#run(admitted, action));
  }

  /**
   * Calls `action` for every open writable file (e.g. to sync it), in turn with its queue.
   *
   * @example
   * ```ts
   * import { OpenFiles } from "./open_files.ts";
   *
   * declare const files: OpenFiles;
   * await files.forEachWritable((file) => file.syncData());
   * ```
   *
   * @param action What to do with each file.
   */
  async forEachWritable(action: (file: Deno.FsFile) => Promise<void>): Promise<void> {
    const runs: Promise<void>[] = [];
    // A snapshot: use() re-inserts the entry it touches, which a live iteration would revisit.
    const writable = [...this.#entries].filter(([, entry]) => entry.writable);
    for (const [path] of writable) runs.push(this.use(path, true, action));
    await Promise.all(runs);
  }

  /**
   * Waits for pending actions and closes every file.
   *
   * @example
   * ```ts
   * import { OpenFiles } from "./open_files.ts";
   *
   * declare const files: OpenFiles;
   * await files.closeAll();
   * ```
   */
  async closeAll(): Promise<void> {
    for (const path of [...this.#entries.keys()]) this.#close(path);
    await Promise.all(this.#closing);
  }

  /** An entry for a path not yet open, once a descriptor slot is free (reserved: busy 1). */
  async #admit(path: string, writable: boolean): Promise<Entry> {
    // Ends because every queued action settles, which makes its entry idle and wakes us.
    for (;;) {
      const existing = this.#entries.get(path);
      if (existing) {
        this.#touch(path, existing, writable);
        existing.busy++;
        return existing;
      }
      // Files still closing hold their descriptor, so they count against the cap.
      if (this.#entries.size + this.#closing.size < this.#maxOpen) {
        const entry: Entry = {
          file: this.#opener(path, writable),
          writable,
          tail: Promise.resolve(),
          busy: 1,
        };
        this.#entries.set(path, entry);
        entry.file.catch(() => {
          if (this.#entries.get(path) === entry) this.#entries.delete(path);
          this.#wake();
        });
        return entry;
      }
      this.#evictIdle();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #run<T>(entry: Entry, action: (file: Deno.FsFile) => Promise<T>): Promise<T> {
    const file = entry.file;
    const result = entry.tail.then(() => file).then(action);
    entry.tail = result.then(() => undefined, () => undefined).finally(() => {
      entry.busy--;
      if (entry.busy === 0) this.#wake();
    });
    return result;
  }

  /** Marks `path` most recently used, reopening it for writing when needed. */
  #touch(path: string, entry: Entry, writable: boolean): void {
    this.#entries.delete(path);
    this.#entries.set(path, entry);
    if (!writable || entry.writable) return;
    const old = entry.file;
    entry.writable = true;
    entry.file = entry.tail
      .then(() => old)
      .then((file) => this.#closeFile(file), () => undefined)
      .then(() => this.#opener(path, true));
    entry.file.catch(() => {
      if (this.#entries.get(path) === entry) this.#entries.delete(path);
      this.#wake();
    });
  }

  /** Starts closing the least recently used idle file, if any. */
  #evictIdle(): void {
    for (const [path, entry] of this.#entries) {
      if (entry.busy === 0) {
        this.#close(path);
        return;
      }
    }
  }

  #close(path: string): void {
    const entry = this.#entries.get(path);
    if (!entry) return;
    this.#entries.delete(path);
    const closing = entry.tail
      .then(() => entry.file)
      .then((file) => this.#closeFile(file), () => undefined);
    this.#closing.add(closing);
    closing.finally(() => {
      this.#closing.delete(closing);
      this.#wake();
    });
  }

  #closeFile(file: Deno.FsFile): void {
    this.#descriptors--;
    try {
      file.close();
    } catch {
      // Already closed: nothing left to release.
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
