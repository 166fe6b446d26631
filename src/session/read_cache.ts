import { pieceLengthAt } from "../metainfo/torrent.ts";
import { Limiter } from "../storage/limiter.ts";
import type { PieceStore } from "../storage/piece_store.ts";

/** Bytes read from storage at once when serving a request: peers ask for neighbouring blocks. */
export const WINDOW = 256 * 1024;
const EMPTY = new Uint8Array(0);
/** Keys are `store id * STORE_KEYS + window key`: room for 2^32 windows per torrent. */
const STORE_KEYS = 2 ** 32;

/** One cached window: its read, its buffer, and the reads copying out of it right now. */
interface Window {
  read: Promise<void>;
  /** The window's bytes: empty until its read starts, and again once back in the pool. */
  buffer: Uint8Array;
  /** Readers waiting on or copying from the buffer: it is not reused while any remain. */
  pins: number;
  /** Dropped from the cache; the buffer returns to the pool once unpinned. */
  dropped: boolean;
  /** Its read completed: the buffer holds the window's bytes. */
  loaded: boolean;
  /** When a reader last asked for it (ms, the cache's clock). */
  used: number;
}

/** Options of {@linkcode ReadCache}. */
export interface ReadCacheOptions {
  /** Most bytes of windows kept, all torrents together. Default 4 MiB. */
  readonly maxBytes?: number;
  /** Most storage reads running at once. Default 4. */
  readonly maxReads?: number;
  /**
   * A window nobody asked for in this long may make room for a new one; until then a request
   * for a window that does not fit is read directly. Default 1000 ms.
   */
  readonly idleMs?: number;
}

/**
 * The runtime's small LRU of recently read piece windows for uploading, shared
 * by every torrent. Peers request a piece's blocks one after another; reading
 * up to 256 KiB of the piece once and serving the following blocks from
 * memory saves a storage read per block. Concurrent requests for the same
 * window share one read.
 *
 * Memory stays bounded however many peers ask at once: at most `maxReads`
 * storage reads run (a window gets its buffer only when its read starts, and
 * a storage read briefly needs a second buffer of its size), read-ahead runs
 * only while a read slot is free, and window buffers are reused.
 *
 * A window still in use (asked for within `idleMs`, its last block not yet
 * served) is not evicted for a new one: with more peers than windows, evicting
 * the least recently used window re-read it for its peer's next block, up to a
 * 256 KiB read per 16 KiB block (20 leechers on a 1 MiB cache took 3x as long).
 * A block whose window does not fit is read alone instead.
 */
export class ReadCache {
  #maxBytes: number;
  readonly #reads: Limiter;
  readonly #idleMs: number;
  /** Window key -> window, in least-recently-used order. */
  readonly #windows = new Map<number, Window>();
  /** Idle window buffers. */
  readonly #spare: Uint8Array[] = [];
  /** Window buffers held by windows (cached, being read, or dropped but still in use). */
  #held = 0;
  readonly #storeIds = new WeakMap<PieceStore, number>();
  #nextStoreId = 0;

  /** @param options Bounds (4 MiB of windows, 4 reads at once by default). */
  constructor(options: ReadCacheOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.#reads = new Limiter(options.maxReads ?? 4);
    this.#idleMs = options.idleMs ?? 1000;
  }

  /**
   * Most bytes of windows kept, cached and spare together. Lowering it drops spare buffers
   * beyond it now; cached windows beyond it go as new ones are read.
   */
  get maxBytes(): number {
    return this.#maxBytes;
  }
  set maxBytes(maxBytes: number) {
    this.#maxBytes = maxBytes;
    const keep = Math.max(0, Math.floor(maxBytes / WINDOW) - this.#held);
    if (this.#spare.length > keep) this.#spare.length = keep;
  }

  /**
   * A copy of the block `[begin, begin + length)` of `store`'s verified piece
   * `index` (a copy, so that a block waiting for a slow socket pins no window),
   * in `into` when given (`length` bytes). When the block lies in the second
   * half of its window, the next window of the piece is read ahead (one window
   * at most: peers ask for blocks in order).
   */
  async read(
    store: PieceStore,
    index: number,
    begin: number,
    length: number,
    into: Uint8Array = new Uint8Array(length),
  ): Promise<Uint8Array> {
    const windowStart = Math.floor(begin / WINDOW) * WINDOW;
    const window = this.#window(store, index, windowStart, begin + length);
    // Across a window boundary (rare), or no room for its window: the block is read alone.
    if (!window) {
      await this.#reads.run(() => store.readBlockInto(index, begin, into.subarray(0, length)));
      return into;
    }
    window.pins++;
    if (begin - windowStart >= WINDOW / 2 && this.#reads.idle) {
      this.#prefetch(store, index, windowStart + WINDOW);
    }
    try {
      await window.read;
      into.set(window.buffer.subarray(begin - windowStart, begin - windowStart + length));
    } finally {
      window.pins--;
      // Its last block served: peers ask in order, so the window is done; make room at once.
      if (begin + length === windowStart + window.buffer.length) {
        this.#drop(this.#key(store, index, windowStart), window);
      }
      this.#recycle(window);
    }
    return into;
  }

  /**
   * Copies the block `[begin, begin + length)` of `store`'s piece `index` into
   * `into` when its window is in memory already, as {@linkcode ReadCache.read}
   * would (read-ahead included) but with no promise made; returns whether it
   * did (false: nothing copied, call `read`).
   */
  readNow(
    store: PieceStore,
    index: number,
    begin: number,
    length: number,
    into: Uint8Array,
  ): boolean {
    const windowStart = Math.floor(begin / WINDOW) * WINDOW;
    const key = this.#key(store, index, windowStart);
    const window = this.#windows.get(key);
    if (!window?.loaded || begin + length > windowStart + window.buffer.length) return false;
    this.#touch(key, window, performance.now());
    if (begin - windowStart >= WINDOW / 2 && this.#reads.idle) {
      this.#prefetch(store, index, windowStart + WINDOW);
    }
    into.set(window.buffer.subarray(begin - windowStart, begin - windowStart + length));
    if (begin + length === windowStart + window.buffer.length) this.#drop(key, window);
    return true;
  }

  /** Forgets `store`'s windows (its session stopped). */
  forget(store: PieceStore): void {
    const id = this.#storeIds.get(store);
    if (id === undefined) return;
    for (const [key, window] of [...this.#windows]) {
      if (Math.floor(key / STORE_KEYS) === id) this.#drop(key, window);
    }
  }

  /** Forgets everything (e.g. when the runtime closes). */
  clear(): void {
    for (const [key, window] of [...this.#windows]) this.#drop(key, window);
    this.#spare.length = 0;
  }

  /** Starts reading the window at `windowStart` of piece `index`, unless cached or past the end. */
  #prefetch(store: PieceStore, index: number, windowStart: number): void {
    if (windowStart >= pieceLengthAt(store.torrent, index)) return;
    if (this.#windows.has(this.#key(store, index, windowStart))) return;
    this.#window(store, index, windowStart, windowStart);
  }

  #key(store: PieceStore, index: number, windowStart: number): number {
    let id = this.#storeIds.get(store);
    if (id === undefined) this.#storeIds.set(store, id = this.#nextStoreId++);
    const windowsPerPiece = Math.ceil(store.torrent.pieceLength / WINDOW);
    return id * STORE_KEYS + index * windowsPerPiece + windowStart / WINDOW;
  }

  /**
   * The cached (or now started) window; `undefined` when `end` lies past it or it is not
   * cached and no room can be made for it.
   */
  #window(
    store: PieceStore,
    index: number,
    windowStart: number,
    end: number,
  ): Window | undefined {
    const windowLength = Math.min(WINDOW, pieceLengthAt(store.torrent, index) - windowStart);
    if (end > windowStart + windowLength) return undefined;
    const key = this.#key(store, index, windowStart);
    const cached = this.#windows.get(key);
    const now = performance.now();
    if (cached) {
      this.#touch(key, cached, now);
      return cached;
    }
    // Evicting first hands the oldest window's buffer (when read and unused) to this one.
    if (!this.#makeRoom(now)) return undefined;
    const window: Window = {
      read: Promise.resolve(),
      buffer: EMPTY,
      pins: 0,
      dropped: false,
      loaded: false,
      used: now,
    };
    this.#windows.set(key, window);
    const read = this.#reads.run(async () => {
      // Dropped before its turn with nobody waiting (an evicted read-ahead): skip the read.
      if (window.dropped && window.pins === 0) return;
      window.buffer = (this.#spare.pop() ?? new Uint8Array(WINDOW)).subarray(0, windowLength);
      this.#held++;
      await store.readBlockInto(index, windowStart, window.buffer);
      window.loaded = true;
    });
    window.read = read;
    // A failed read is not cached; its readers see the error.
    read.catch(() => this.#drop(key, window));
    return window;
  }

  /** Marks `window` asked for at `now`: the most recently used. */
  #touch(key: number, window: Window, now: number): void {
    this.#windows.delete(key);
    this.#windows.set(key, window);
    window.used = now;
  }

  #drop(key: number, window: Window): void {
    if (this.#windows.get(key) === window) this.#windows.delete(key);
    window.dropped = true;
    this.#recycle(window);
  }

  /** A dropped window's buffer goes back to the pool once no reader uses it. */
  #recycle(window: Window): void {
    if (!window.dropped || window.pins > 0) return;
    if (window.loaded) return this.#release(window); // its read is over: nothing writes into it
    // Only once its read settled: a read still running would write into the next user's data.
    window.read.then(() => this.#release(window), () => this.#release(window));
  }

  #release(window: Window): void {
    if (window.buffer === EMPTY) return; // never read, or already back
    const whole = new Uint8Array(window.buffer.buffer, 0, WINDOW);
    window.buffer = EMPTY;
    window.loaded = false;
    this.#held--;
    // Spares and the buffers windows hold together stay within maxBytes: counted apart, each
    // could reach it (the swarm bench held 9–12 MiB of spares beside 16–20 MiB of windows).
    // Counting windows instead of the buffers they hold threw away the buffer of every window
    // evicted for a new one not yet read (the new one then allocated its own): 24 MiB/s of
    // garbage across the swarm bench's 21 runtimes.
    if ((this.#spare.length + this.#held) * WINDOW < this.#maxBytes) {
      this.#spare.push(whole);
    }
  }

  /**
   * Evicts idle windows, least recently used first, until one more window fits within
   * maxBytes; false when windows still in use leave no room (an empty cache always has room).
   */
  #makeRoom(now: number): boolean {
    let bytes = WINDOW;
    for (const window of this.#windows.values()) bytes += window.buffer.length || WINDOW;
    for (const [key, window] of this.#windows) {
      if (bytes <= this.#maxBytes) return true;
      // In least-recently-used order: once one is in use, so are the rest.
      if (now - window.used < this.#idleMs) return false;
      bytes -= window.buffer.length || WINDOW;
      this.#drop(key, window);
    }
    return true;
  }
}
