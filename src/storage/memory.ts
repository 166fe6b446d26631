/**
 * The memory back-end: pieces live in RAM. For tests, the swarm kit's no-files mode, and
 * users who stream.
 */
import type { Torrent } from "../metainfo/torrent.ts";
import { pieceLengthAt } from "../metainfo/torrent.ts";
import { StorageError } from "./errors.ts";
import { checkPieceRange } from "./layout.ts";
import type { Storage, TorrentStorage } from "./types.ts";

/** Options for {@linkcode MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Most bytes all torrents together may hold; a write that would need more fails with a
   * `StorageError` of kind `no-space`. Default: unlimited.
   */
  readonly maxBytes?: number;
}

/**
 * Keeps every torrent's pieces in memory, allocating a piece on its first write. Opening
 * the same torrent (by info hash) again returns the same bytes, so a session can be
 * restarted over it.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const storage = await new MemoryStorage({ maxBytes: 64 << 20 }).open(torrent);
 * await storage.write(0, 0, new Uint8Array(16384));
 * ```
 */
export class MemoryStorage implements Storage {
  readonly #maxBytes: number;
  readonly #torrents = new Map<string, Map<number, Uint8Array>>();
  #usedBytes = 0;

  /**
   * Creates an empty in-memory back-end.
   *
   * @param options Limits.
   */
  constructor(options: MemoryStorageOptions = {}) {
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes currently allocated across all torrents. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /**
   * Opens in-memory storage for `torrent`.
   *
   * @example
   * ```ts
   * import { MemoryStorage, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * const storage = await new MemoryStorage().open(torrent);
   * ```
   *
   * @param torrent The torrent.
   * @returns Its storage.
   */
  open(torrent: Torrent): Promise<TorrentStorage> {
    let pieces = this.#torrents.get(torrent.infoHashHex);
    if (!pieces) {
      pieces = new Map();
      this.#torrents.set(torrent.infoHashHex, pieces);
    }
    return Promise.resolve(this.#storageFor(torrent, pieces));
  }

  /**
   * Forgets a torrent's bytes.
   *
   * @example
   * ```ts
   * import { MemoryStorage, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * new MemoryStorage().delete(torrent);
   * ```
   *
   * @param torrent The torrent.
   */
  delete(torrent: Torrent): void {
    const pieces = this.#torrents.get(torrent.infoHashHex);
    if (!pieces) return;
    for (const piece of pieces.values()) this.#usedBytes -= piece.length;
    this.#torrents.delete(torrent.infoHashHex);
  }

  #storageFor(torrent: Torrent, pieces: Map<number, Uint8Array>): TorrentStorage {
    let closed = false;
    const ensureOpen = (operation: string, piece: number) => {
      if (closed) {
        throw new StorageError("closed", operation, `piece ${piece}`, "the storage was closed");
      }
    };
    const stored = (piece: number, offset: number, length: number) => {
      ensureOpen("read", piece);
      checkPieceRange(torrent, piece, offset, length, "read");
      const bytes = pieces.get(piece);
      if (!bytes) throw new StorageError("not-found", "read", `piece ${piece}`, "never written");
      return bytes.subarray(offset, offset + length);
    };
    return {
      read: (piece, offset, length) => {
        try {
          return Promise.resolve(stored(piece, offset, length).slice());
        } catch (error) {
          return Promise.reject(error);
        }
      },
      readInto: (piece, offset, target) => {
        try {
          target.set(stored(piece, offset, target.length));
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      write: (piece, offset, data) => {
        try {
          ensureOpen("write", piece);
          checkPieceRange(torrent, piece, offset, data.length, "write");
          let bytes = pieces.get(piece);
          if (!bytes) {
            const length = pieceLengthAt(torrent, piece);
            if (this.#usedBytes + length > this.#maxBytes) {
              throw new StorageError(
                "no-space",
                "write",
                `piece ${piece}`,
                `memory limit of ${this.#maxBytes} bytes reached`,
              );
            }
            bytes = new Uint8Array(length);
            this.#usedBytes += length;
            pieces.set(piece, bytes);
          }
          bytes.set(data, offset);
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      flush: () => Promise.resolve(),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    };
  }
}
