/**
 * A byte budget shared by many users: `acquire` waits (first come, first
 * served) while the bytes in use would exceed the limit. Bounds memory such
 * as a runtime's blocks on their way to sockets.
 */
export class ByteBudget {
  #limit: number;
  #used = 0;
  readonly #waiters: { readonly bytes: number; readonly resolve: () => void }[] = [];

  /** @param limit Most bytes in use at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * Most bytes in use at once (one acquisition larger than this still goes through alone).
   * Raising it lets waiters in; lowering it makes later acquisitions wait until enough is
   * released (nothing taken is revoked).
   */
  get limit(): number {
    return this.#limit;
  }
  set limit(limit: number) {
    this.#limit = limit;
    this.release(0);
  }

  /** Bytes in use. */
  get used(): number {
    return this.#used;
  }

  /** Callers waiting for bytes. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes `bytes`, waiting until they fit. */
  acquire(bytes: number): Promise<void> {
    if (this.#waiters.length === 0 && this.#fits(bytes)) {
      this.#used += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  /**
   * Takes `bytes` now if they fit and nobody is waiting; never waits.
   *
   * @example
   * ```ts
   * import { ByteBudget } from "./budget.ts";
   *
   * const budget = new ByteBudget(1024);
   * if (budget.tryAcquire(512)) budget.release(512);
   * ```
   *
   * @param bytes How many.
   * @returns Whether they were taken.
   */
  tryAcquire(bytes: number): boolean {
    if (this.#waiters.length > 0 || !this.#fits(bytes)) return false;
    this.#used += bytes;
    return true;
  }

  /** Gives back `bytes` from an earlier {@linkcode ByteBudget.acquire}. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    while (this.#waiters.length && this.#fits(this.#waiters[0].bytes)) {
      const waiter = this.#waiters.shift()!;
      this.#used += waiter.bytes;
      waiter.resolve();
    }
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.#limit;
  }
}
