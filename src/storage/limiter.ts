/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in order.
 */

/**
 * Bounds concurrency, e.g. of piece verifications so their buffers stay bounded.
 *
 * @example
 * ```ts
 * import { Limiter } from "./limiter.ts";
 *
 * const limiter = new Limiter(2);
 * const sizes = await Promise.all(["a", "b", "c"].map((name) => limiter.run(async () => name.length)));
 * ```
 */
export class Limiter {
  readonly #limit: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  /**
   * @param limit Most tasks at once (at least 1).
   */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Whether a task given now would start at once. */
  get idle(): boolean {
    return this.#running < this.#limit;
  }

  /**
   * Runs `task` once a slot is free.
   *
   * @example
   * ```ts
   * import { Limiter } from "./limiter.ts";
   *
   * const value = await new Limiter(1).run(() => Promise.resolve(42));
   * ```
   *
   * @param task The work.
   * @returns What `task` returns.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
