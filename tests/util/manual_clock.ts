/** A {@linkcode BandwidthClock} for tests: time moves only when `advance` is called. */
import type { BandwidthClock } from "../../src/util/bandwidth.ts";

/** A clock whose time and timers move only on `advance`; `timerSet` tells when one is armed. */
export class ManualClock implements BandwidthClock {
  #now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; run: () => void }>();
  #armed: (() => void)[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, run: callback });
    const armed = this.#armed;
    this.#armed = [];
    for (const resolve of armed) resolve();
    return () => this.#timers.delete(id);
  }

  /** Timers armed and not yet run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Resolves once a timer is armed (at once if one is). */
  timerSet(): Promise<void> {
    if (this.#timers.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#armed.push(resolve));
  }

  /** Moves time on by `ms`, running each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].run();
    }
    this.#now = end;
  }
}
