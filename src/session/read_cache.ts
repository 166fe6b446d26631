import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { PieceStore } from "../storage/piece_store.ts";

/** Bytes read from storage at once when serving a request: peers ask for neighbouring blocks. */
const WINDOW = 1024 * 1024;

/**
 * A small LRU of recently read piece windows for uploading. Peers request a
 * piece's blocks one after another; reading up to 1 MiB of the piece once and
 * serving the following blocks from memory saves a storage read per block.
 * Concurrent requests for the same window share one read.
 */
export class ReadCache {
  readonly #store: PieceStore;
  readonly #maxBytes: number;
  /** Window key -> bytes (or the read in progress), in least-recently-used order. */
  readonly #windows = new Map<number, Promise<Uint8Array>>();
  #bytes = 0;
  readonly #sizes = new Map<number, number>();

  /**
   * @param store Where verified pieces are read from.
   * @param maxBytes Most bytes kept. Default 16 MiB.
   */
  constructor(store: PieceStore, maxBytes = 16 * 1024 * 1024) {
    this.#store = store;
    this.#maxBytes = maxBytes;
  }

  /** The block `[begin, begin + length)` of verified piece `index`. */
  async read(index: number, begin: number, length: number): Promise<Uint8Array> {
    const pieceLength = pieceLengthAt(this.#store.torrent, index);
    const windowStart = Math.floor(begin / WINDOW) * WINDOW;
    const windowLength = Math.min(WINDOW, pieceLength - windowStart);
    if (begin + length > windowStart + windowLength) {
      // A request across a window boundary is rare: read it directly.
      return await this.#store.readBlock(index, begin, length);
    }
    const key = index * Math.ceil(this.#store.torrent.pieceLength / WINDOW) + windowStart / WINDOW;
    let window = this.#windows.get(key);
    if (window) {
      this.#windows.delete(key);
      this.#windows.set(key, window);
    } else {
      window = this.#store.readBlock(index, windowStart, windowLength);
      this.#windows.set(key, window);
      this.#sizes.set(key, windowLength);
      this.#bytes += windowLength;
      window.catch(() => this.#drop(key));
      this.#evict();
    }
    const bytes = await window;
    return bytes.subarray(begin - windowStart, begin - windowStart + length);
  }

  /** Forgets everything (e.g. when the session stops). */
  clear(): void {
    this.#windows.clear();
    this.#sizes.clear();
    this.#bytes = 0;
  }

  #drop(key: number): void {
    if (!this.#windows.delete(key)) return;
    this.#bytes -= this.#sizes.get(key) ?? 0;
    this.#sizes.delete(key);
  }

  #evict(): void {
    for (const key of this.#windows.keys()) {
      if (this.#bytes <= this.#maxBytes || this.#windows.size <= 1) break;
      this.#drop(key);
    }
  }
}
