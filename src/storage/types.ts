/**
 * The storage seam: where a torrent's bytes live. The piece layer and the session only
 * ever talk to these interfaces; built-in back-ends implement them like a user would.
 */
import type { Torrent } from "../metainfo/torrent.ts";

/**
 * Size and modification time of one file as a back-end sees it; `undefined` when the
 * file does not exist. Used to decide whether a resume file still describes the data.
 */
export interface StoredFileStat {
  /** Length in bytes. */
  readonly length: number;
  /** Modification time in milliseconds since the epoch (0 when the back-end has none). */
  readonly mtimeMs: number;
}

/**
 * Per-torrent storage: reads and writes byte ranges addressed by piece, hiding how pieces
 * span files. Implementations must accept concurrent calls.
 *
 * @example A tiny back-end that keeps pieces in a Map
 * ```ts
 * import type { TorrentStorage } from "@bittern/bittern";
 *
 * const pieces = new Map<number, Uint8Array>();
 * const storage: TorrentStorage = {
 *   read(piece, offset, length) {
 *     const data = pieces.get(piece);
 *     if (!data) return Promise.reject(new Error(`piece ${piece} missing`));
 *     return Promise.resolve(data.slice(offset, offset + length));
 *   },
 *   write(piece, offset, data) {
 *     const buffer = pieces.get(piece) ?? new Uint8Array(1 << 14);
 *     buffer.set(data, offset);
 *     pieces.set(piece, buffer);
 *     return Promise.resolve();
 *   },
 *   flush: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * ```
 */
export interface TorrentStorage {
  /**
   * Reads `length` bytes of piece `piece` starting at `offset`. Rejects (ideally with a
   * `StorageError` of kind `not-found`) when the bytes were never written.
   */
  read(piece: number, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: like `read`, but fills `target` (its length is the byte count), so callers
   * can reuse buffers; allocating a fresh MiB per piece costs 3x the read itself.
   */
  readInto?(piece: number, offset: number, target: Uint8Array): Promise<void>;
  /**
   * `false` when the back-end can write but not read back (for example the
   * filesystem back-end without `--allow-read`): pieces are then verified
   * as they stream in and never served to peers. Absent means readable.
   */
  readonly readable?: boolean;
  /** Writes `data` into piece `piece` at `offset`. The caller may reuse `data` afterwards. */
  write(piece: number, offset: number, data: Uint8Array): Promise<void>;
  /** Makes written bytes durable as far as the back-end can. */
  flush(): Promise<void>;
  /** Releases resources; later calls may fail. */
  close(): Promise<void>;
  /**
   * Optional: size and mtime of each torrent file, for resume files. Back-ends without
   * files leave it out, and resume files are then not used.
   */
  fileStats?(): Promise<(StoredFileStat | undefined)[]>;
}

/** Options a session passes when opening storage for a torrent. */
export interface StorageOpenOptions {
  /**
   * Files the user wants, as indices into `torrent.files` (padding files included: the
   * piece store translates the user's visible-file indices); back-ends may skip creating
   * the others until a boundary piece writes into them. Default: all.
   */
  readonly wantedFiles?: readonly number[];
}

/**
 * A data back-end: opens per-torrent storage. Pass your own to a session to keep bytes
 * wherever you like.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type Storage } from "@bittern/bittern";
 *
 * const storage: Storage = new MemoryStorage();
 * ```
 */
export interface Storage {
  /** Opens (creating as needed) storage for `torrent`. */
  open(torrent: Torrent, options?: StorageOpenOptions): Promise<TorrentStorage>;
}
