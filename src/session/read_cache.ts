import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { PieceStore } from "../storage/piece_store.ts";

/** Bytes read from storage at once when serving a request: peers ask for neighbouring blocks. */
export const WINDOW = 256 * 1024;
const EMPTY = new Uint8Array(0);

/** One cached window: its read, its buffer, and the reads copying out of it right now. */
interface Window {
  readonly read: Promise<void>;
  /** The window's bytes; emptied once the buffer went back to the pool. */
  buffer: Uint8Array;
  /** Readers waiting on or copying from the buffer: it is not reused while any remain. */
  pins: number;
  /** Dropped from the cache; the buffer returns to the pool once unpinned. */
  dropped: boolean;
}

/**
 * A small LRU of recently read piece windows for uploading. Peers request a
 * piece's blocks one after another; reading up to 256 KiB of the piece once
 * and serving the following blocks from memory saves a storage read per
 * block. Concurrent requests for the same window share one read. Window
 * buffers are reused (read into with `readBlockInto`), so serving at full
 * speed makes no garbage.
 */
export class ReadCache {
  readonly #store: PieceStore;
  readonly #maxBytes: number;
  /** Window key -> window, in least-recently-used order. */
  readonly #windows = new Map<number, Window>();
  /** Idle window buffers. */
  readonly #spare: Uint8Array[] = [];

  /**
   * @param store Where verified pieces are read from.
   * @param maxBytes Most bytes kept. Default 4 MiB.
   */
  constructor(store: PieceStore, maxBytes = 4 * 1024 * 1024) {
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
    // A request across a window boundary is rare: it is read directly.
    if (!window) {
      await this.#store.readBlockInto(index, begin, into.subarray(0, length));
      return into;
    }
    window.pins++;
    if (begin - windowStart >= WINDOW / 2) this.#prefetch(index, windowStart + WINDOW);
    try {
      await window.read;
      into.set(window.buffer.subarray(begin - windowStart, begin - windowStart + length));
    } finally {
      window.pins--;
      // Its last block served: peers ask in order, so the window is done; make room at once.
      if (begin + length === windowStart + window.buffer.length) {
        this.#drop(this.#key(index, windowStart), window);
      }
      this.#recycle(window);
    }
    return into;
  }

  /** Starts reading the window at `windowStart` of piece `index`, unless cached or past the end. */
  #prefetch(index: number, windowStart: number): void {
    if (windowStart >= pieceLengthAt(this.#store.torrent, index)) return;
    if (this.#windows.has(this.#key(index, windowStart))) return;
    this.#window(index, windowStart, windowStart);
  }

  #key(index: number, windowStart: number): number {
    return index * Math.ceil(this.#store.torrent.pieceLength / WINDOW) + windowStart / WINDOW;
  }

  /** The cached (or now started) window; `undefined` when `end` lies past it. */
  #window(index: number, windowStart: number, end: number): Window | undefined {
    const pieceLength = pieceLengthAt(this.#store.torrent, index);
    const windowLength = Math.min(WINDOW, pieceLength - windowStart);
    if (end > windowStart + windowLength) return undefined;
    const key = this.#key(index, windowStart);
    const cached = this.#windows.get(key);
    if (cached) {
      this.#windows.delete(key);
      this.#windows.set(key, cached);
      return cached;
    }
    const buffer = (this.#spare.pop() ?? new Uint8Array(WINDOW)).subarray(0, windowLength);
    const read = this.#store.readBlockInto(index, windowStart, buffer);
    const window: Window = { read, buffer, pins: 0, dropped: false };
    // A failed read is not cached; its readers see the error.
    read.catch(() => this.#drop(key, window));
    this.#windows.set(key, window);
    this.#evict();
    return window;
  }

  /** Forgets everything (e.g. when the session stops). */
  clear(): void {
    for (const [key, window] of [...this.#windows]) this.#drop(key, window);
    this.#spare.length = 0;
  }

  #drop(key: number, window: Window): void {
    if (this.#windows.get(key) === window) this.#windows.delete(key);
    window.dropped = true;
    this.#recycle(window);
  }

  /** A dropped window's buffer goes back to the pool once no reader uses it. */
  #recycle(window: Window): void {
    if (!window.dropped || window.pins > 0 || window.buffer === EMPTY) return;
    const whole = new Uint8Array(window.buffer.buffer, 0, WINDOW);
    if (whole.byteLength === WINDOW && this.#spare.length * WINDOW < this.#maxBytes) {
      // Only once its read settled: a read still running would write into the next user's data.
      window.read.then(() => this.#spare.push(whole), () => this.#spare.push(whole));
    }
    window.buffer = EMPTY; // never recycled twice
  }

  #evict(): void {
    let bytes = 0;
    for (const window of this.#windows.values()) bytes += window.buffer.length;
    for (const [key, window] of this.#windows) {
      if (bytes <= this.#maxBytes || this.#windows.size <= 1) break;
      bytes -= window.buffer.length;
      this.#drop(key, window);
    }
  }
}
