import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { PieceStore } from "../storage/piece_store.ts";

/** Bytes read from storage at once when serving a request: peers ask for neighbouring blocks. */
export const WINDOW = 256 * 1024;

/**
 * A small LRU of recently read piece windows for uploading. Peers request a
 * piece's blocks one after another; reading up to 256 KiB of the piece once and
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
   * @param maxBytes Most bytes kept. Default 2 MiB.
   */
  constructor(store: PieceStore, maxBytes = 2 * 1024 * 1024) {
    this.#store = store;
    this.#maxBytes = maxBytes;
  }

  /**
   * A copy of the block `[begin, begin + length)` of verified piece `index`
   * (a copy, so that a block waiting for a slow socket pins no window), in
   * `into` when given (`length` bytes). When the block lies in the second half
   * of its window, the next window of the piece is read ahead (one window at
   * most: peers ask for blocks in order).
   */
  async read(
    index: number,
    begin: number,
    length: number,
    into: Uint8Array = new Uint8Array(length),
  ): Promise<Uint8Array> {
    const windowStart = Math.floor(begin / WINDOW) * WINDOW;
    const window = this.#window(index, windowStart, begin + length);
    if (window && begin - windowStart >= WINDOW / 2) {
      this.#prefetch(index, windowStart + WINDOW);
    }
    const bytes = window
      ? (await window).subarray(begin - windowStart, begin - windowStart + length)
      : await this.#store.readBlock(index, begin, length);
    into.set(bytes);
    return into;
  }

  /** Starts reading the window at `windowStart` of piece `index`, unless cached or past the end. */
  #prefetch(index: number, windowStart: number): void {
    if (windowStart >= pieceLengthAt(this.#store.torrent, index)) return;
    if (this.#windows.has(this.#key(index, windowStart))) return;
    this.#window(index, windowStart, windowStart)?.catch(() => {});
  }

  #key(index: number, windowStart: number): number {
    return index * Math.ceil(this.#store.torrent.pieceLength / WINDOW) + windowStart / WINDOW;
  }

  /** The cached (or now started) read of a window; `undefined` when `end` lies past it. */
  #window(index: number, windowStart: number, end: number): Promise<Uint8Array> | undefined {
    const pieceLength = pieceLengthAt(this.#store.torrent, index);
    const windowLength = Math.min(WINDOW, pieceLength - windowStart);
    // A request across a window boundary is rare: the caller reads it directly.
    if (end > windowStart + windowLength) return undefined;
    const key = this.#key(index, windowStart);
    let window = this.#windows.get(key);
    if (window) {
      this.#windows.delete(key);
      this.#windows.set(key, window);
      return window;
    }
    window = this.#store.readBlock(index, windowStart, windowLength);
    this.#windows.set(key, window);
    this.#sizes.set(key, windowLength);
    this.#bytes += windowLength;
    window.catch(() => this.#drop(key));
    this.#evict();
    return window;
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
