/**
 * One reader's claim on the torrent: it reads pieces `position..last` in order.
 * Move `position` as the reader advances or seeks; {@linkcode PiecePriorities}
 * turns every open window into an order of pieces to fetch first.
 */
export interface PriorityWindow {
  /** The piece the reader needs next. */
  readonly position: number;
  /** The last piece the reader will read. */
  readonly last: number;
  /**
   * Whether the reader may read pieces the user did not select (a stream over
   * a skipped file): its pieces are then fetched although not wanted.
   */
  readonly fetchUnwanted: boolean;
}

/** Options of {@linkcode PiecePriorities}. */
export interface PiecePrioritiesOptions {
  /** Pieces from each reader's position fetched before anything else (default 8). */
  readonly windowPieces?: number;
}

/** A handle on one window, from {@linkcode PiecePriorities.open}. */
export interface PriorityHandle {
  /** Moves the window (the reader advanced, or sought). */
  move(position: number, last?: number): void;
  /** Drops the window: its pieces are ordinary again. */
  close(): void;
}

/**
 * Session-level piece priorities for readers (streams): each open window makes
 * the pieces just ahead of its reader urgent. The download agent asks
 * {@linkcode PiecePriorities.urgent} before it asks the piece selector, so any
 * selector (built-in or a user's) still chooses everything else.
 *
 * The first missing piece of each window is *critical* (it may be requested
 * from several peers at once, like endgame); the next ones, up to
 * `windowPieces` from the reader, are *high*, nearest first (a deadline that
 * tightens as the reader gets close). Pieces of several windows interleave by
 * distance from their readers.
 *
 * @example
 * ```ts
 * import { PiecePriorities } from "@bittern/bittern";
 *
 * const priorities = new PiecePriorities(100, { windowPieces: 4 });
 * const reader = priorities.open({ position: 40, last: 99, fetchUnwanted: false });
 * console.log(priorities.urgent(() => true)); // [40, 41, 42, 43]
 * reader.move(10);
 * console.log(priorities.urgent((piece) => piece !== 10)); // [11, 12, 13]
 * reader.close();
 * ```
 */
export class PiecePriorities {
  readonly #pieceCount: number;
  readonly #windowPieces: number;
  readonly #windows = new Set<
    { first: number; position: number; last: number; fetchUnwanted: boolean }
  >();
  readonly #listeners = new Set<(forcedChanged: boolean) => void>();
  /** Bumped on every change, so callers can cache what they derived. */
  #version = 0;

  /**
   * Creates an empty set of windows for a torrent of `pieceCount` pieces.
   *
   * @param pieceCount The torrent's piece count.
   * @param options Window size.
   */
  constructor(pieceCount: number, options: PiecePrioritiesOptions = {}) {
    this.#pieceCount = pieceCount;
    this.#windowPieces = Math.max(1, options.windowPieces ?? 8);
  }

  /** Bumped on every change (a window opened, moved or closed). */
  get version(): number {
    return this.#version;
  }

  /** Whether any window is open. */
  get active(): boolean {
    return this.#windows.size > 0;
  }

  /**
   * Opens a window for a reader.
   *
   * @param window Where the reader is and where it stops.
   * @returns A handle to move or close it.
   */
  open(window: PriorityWindow): PriorityHandle {
    const entry = {
      first: this.#clamp(window.position),
      position: this.#clamp(window.position),
      last: this.#clamp(window.last),
      fetchUnwanted: window.fetchUnwanted,
    };
    this.#windows.add(entry);
    this.#changed(entry.fetchUnwanted);
    return {
      move: (position, last) => {
        if (!this.#windows.has(entry)) return;
        const next = this.#clamp(position);
        const nextLast = last === undefined ? entry.last : this.#clamp(last);
        if (next === entry.position && nextLast === entry.last) return;
        const forcedChanged = entry.fetchUnwanted && nextLast !== entry.last;
        entry.position = next;
        entry.last = nextLast;
        this.#changed(forcedChanged);
      },
      close: () => {
        if (this.#windows.delete(entry)) this.#changed(entry.fetchUnwanted);
      },
    };
  }

  /**
   * Calls `listener` after every change; returns a function removing it.
   *
   * @param listener Told whether {@linkcode PiecePriorities.forced} may answer
   * differently now (a window that fetches unwanted pieces opened or closed).
   */
  onChange(listener: (forcedChanged: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The pieces to fetch first, most urgent first: of each window, the pieces
   * from its reader's position for `windowPieces` pieces (not past its last)
   * for which `missing(index)` is true. Windows interleave by distance.
   *
   * @param missing Whether a piece is still to fetch (not verified).
   * @returns Piece indices, without repeats.
   */
  urgent(missing: (index: number) => boolean): number[] {
    const seen = new Set<number>();
    const order: number[] = [];
    for (let distance = 0; distance < this.#windowPieces; distance++) {
      for (const window of this.#windows) {
        const piece = window.position + distance;
        if (piece > window.last || seen.has(piece)) continue;
        seen.add(piece);
        if (missing(piece)) order.push(piece);
      }
    }
    return order;
  }

  /**
   * The critical pieces: each window's first missing piece within its window.
   *
   * @param missing Whether a piece is still to fetch.
   * @returns Piece indices.
   */
  critical(missing: (index: number) => boolean): Set<number> {
    const critical = new Set<number>();
    for (const window of this.#windows) {
      const stop = Math.min(window.last, window.position + this.#windowPieces - 1);
      for (let piece = window.position; piece <= stop; piece++) {
        if (!missing(piece)) continue;
        critical.add(piece);
        break;
      }
    }
    return critical;
  }

  /**
   * Whether a window that may read unwanted pieces covers `index` (from where
   * its reader started to its last piece): such a piece is fetched although
   * its file is not selected.
   *
   * @param index Piece index.
   */
  forced(index: number): boolean {
    for (const window of this.#windows) {
      if (window.fetchUnwanted && index >= window.first && index <= window.last) return true;
    }
    return false;
  }

  #clamp(piece: number): number {
    return Math.min(Math.max(0, Math.floor(piece)), Math.max(0, this.#pieceCount - 1));
  }

  #changed(forcedChanged: boolean): void {
    this.#version++;
    for (const listener of [...this.#listeners]) listener(forcedChanged);
  }
}
