import { type BandwidthClock, SYSTEM_CLOCK } from "../util/bandwidth.ts";
import { type DhtState, saveDhtState } from "./state.ts";

/**
 * Default period between saves of the DHT state: 20 minutes, rtorrent's default `session_save`
 * schedule (which writes its DHT cache). The table changes slowly (a node turns questionable
 * only after 15 quiet minutes), a warm start needs only some of the nodes to still answer, and
 * the file is small (at most 500 nodes), so a crash costs little and the disk sees ~3 writes an
 * hour. libtorrent leaves saving to the application; Transmission saves only at exit.
 */
export const DHT_STATE_SAVE_INTERVAL_MS = 20 * 60_000;

/**
 * Writes a DHT node's state file every `intervalMs` while running and once more at `close`,
 * each write atomic (`saveDhtState`: a temporary file in the same directory, then a rename) and
 * one at a time, so the last state taken is the one left on disk. Nothing is written while
 * `snapshot` gives `undefined` (an empty table must not overwrite a useful file).
 */
export class DhtStateSaver {
  readonly #path: string;
  readonly #snapshot: () => DhtState | undefined;
  readonly #intervalMs: number;
  readonly #clock: BandwidthClock;
  #cancel: (() => void) | undefined;
  #closed = false;
  /** The save in progress (saves run one after another). */
  #last: Promise<void> = Promise.resolve();
  /** The last periodic save's failure, if any (the next one may succeed; `close` reports its own). */
  lastError: Error | undefined;

  /**
   * @param path The state file.
   * @param snapshot The state to write now, or `undefined` to skip this time.
   * @param options `intervalMs` (default {@linkcode DHT_STATE_SAVE_INTERVAL_MS}), `clock`
   * (default the system's; tests pass a fake).
   */
  constructor(
    path: string,
    snapshot: () => DhtState | undefined,
    options: { readonly intervalMs?: number; readonly clock?: BandwidthClock } = {},
  ) {
    const intervalMs = options.intervalMs ?? DHT_STATE_SAVE_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`DhtOptions.stateSaveIntervalMs must be positive, got ${intervalMs}`);
    }
    this.#path = path;
    this.#snapshot = snapshot;
    this.#intervalMs = intervalMs;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Starts the periodic saves (no-op when started or closed). */
  start(): void {
    if (this.#cancel || this.#closed) return;
    this.#schedule();
  }

  /**
   * Writes the state now (after any save in progress).
   *
   * @returns When it is on disk; rejects with the write's error (`PermissionError`, ...).
   */
  save(): Promise<void> {
    const next = this.#last.catch(() => {}).then(async () => {
      const state = this.#snapshot();
      if (state) await saveDhtState(this.#path, state);
    });
    this.#last = next;
    return next;
  }

  /** Stops the periodic saves and writes the state a last time. */
  close(): Promise<void> {
    if (this.#closed) return this.#last;
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
    return this.save();
  }

  #schedule(): void {
    this.#cancel = this.#clock.setTimer(() => {
      if (this.#closed) return;
      this.save().then(
        () => this.lastError = undefined,
        (error: Error) => this.lastError = error,
      );
      this.#schedule();
    }, this.#intervalMs);
  }
}
