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
 * span files.
 *
 * **Contract: calls overlap.** The session issues `read` and `write` calls concurrently (many
 * blocks are in flight at once, uploads read while downloads write), so each call must touch
 * only its own bytes and never depend on state another call changes meanwhile. In particular,
 * do not `seek` a shared file handle and then `write` (or `read`): another call can move the
 * position between the two awaits and the block lands in the wrong place. Pieces are verified
 * as they stream in, so such a bug is not caught by the download itself; the swarm kit's
 * `verifyPayload` reads every piece back through the storage and does catch it. Use
 * positional I/O (`node:fs/promises` `FileHandle.read`/`write` with an explicit position) or
 * state per call. `read` of bytes never written should reject with a `StorageError` of kind
 * `not-found`: `new StorageError("not-found", "read", \`piece ${piece}\`, "never written")`.
 *
 * @example File-backed: one file per piece, positional writes, safe under concurrent calls
 * ```ts
 * import { constants } from "node:fs";
 * import { open } from "node:fs/promises";
 * import { StorageError, type TorrentStorage } from "@bittern/bittern";
 *
 * const dir = await Deno.makeTempDir();
 * const storage: TorrentStorage = {
 *   async read(piece, offset, length) {
 *     const file = await open(`${dir}/${piece}`, "r").catch((error) => {
 *       throw new StorageError("not-found", "read", `piece ${piece}`, "never written", {
 *         cause: error,
 *       });
 *     });
 *     try {
 *       const bytes = new Uint8Array(length);
 *       // The position is part of the call: no shared cursor another call could move.
 *       const { bytesRead } = await file.read(bytes, 0, length, offset);
 *       return bytes.subarray(0, bytesRead);
 *     } finally {
 *       await file.close();
 *     }
 *   },
 *   async write(piece, offset, data) {
 *     // Read-write, created if missing (not "a+": appends would ignore the position).
 *     const file = await open(`${dir}/${piece}`, constants.O_RDWR | constants.O_CREAT);
 *     try {
 *       await file.write(data, 0, data.length, offset); // not seek() then write()
 *     } finally {
 *       await file.close();
 *     }
 *   },
 *   flush: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * ```
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
   * `StorageError` of kind `not-found`, e.g.
   * `new StorageError("not-found", "read", "piece 7", "never written")`: kind, operation,
   * place and a detail) when the bytes were never written. May run while other calls do.
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
  /**
   * Optional: the write size this back-end handles best, when one large write costs less than
   * several small ones (the filesystem back-end: 128 KiB). A session then gathers each
   * piece's blocks into windows of this many bytes, one write each. Absent: block by block.
   */
  readonly writeBatchBytes?: number;
  /**
   * Writes `data` into piece `piece` at `offset`. The caller may reuse `data` afterwards (copy
   * it if you keep it). May run while other calls do: write at the position given, never
   * through a shared cursor (see the contract above).
   */
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
  /**
   * Optional: what opening could not do but did not stop it (the filesystem back-end: a
   * BEP 47 symlink it could not make), one line each. The session reports each once as a
   * `warning` event (source `storage`) when it starts.
   */
  readonly warnings?: readonly string[];
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
 * wherever you like. The {@linkcode TorrentStorage} it opens must accept concurrent calls
 * (read the contract there before writing a file-backed one).
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
