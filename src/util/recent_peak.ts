/**
 * The highest level of a quantity (bytes or buffers in use) over the last one to two
 * periods. Pools use it to keep as many idle buffers as were recently needed at once:
 * dropping them when use dips for a moment only makes garbage and fresh allocations a few
 * milliseconds later, while keeping a past burst's worth forever pins memory.
 */
export class RecentPeak {
  readonly #periodMs: number;
  readonly #now: () => number;
  #start: number;
  /** Peak of the period that began at `#start`, and of the one before it. */
  #current = 0;
  #previous = 0;
  /** The level last noted: it held since then. */
  #last = 0;

  /**
   * @param periodMs Length of a period; the peak covers the current one and the one before.
   * @param now Clock in milliseconds (tests drive it); `performance.now` by default.
   */
  constructor(periodMs: number, now: () => number = () => performance.now()) {
    this.#periodMs = periodMs;
    this.#now = now;
    this.#start = now();
  }

  /**
   * Records the level now.
   *
   * @param level The quantity's new level.
   * @returns The peak over the last one to two periods, this level included.
   */
  note(level: number): number {
    const now = this.#now();
    const elapsed = now - this.#start;
    if (elapsed >= this.#periodMs) {
      // A period with no notes stayed at the last level noted.
      this.#previous = elapsed >= 2 * this.#periodMs ? this.#last : this.#current;
      this.#current = this.#last;
      this.#start = now;
    }
    this.#last = level;
    this.#current = Math.max(this.#current, level);
    return Math.max(this.#previous, this.#current);
  }
}
