/**
 * Per-requester limits on incoming queries: a token bucket per key (an IP address, or
 * IP:port where many nodes share one address, as on loopback), in a map of bounded size.
 *
 * @example
 * ```ts
 * import { QueryRateLimiter } from "@bittern/bittern";
 *
 * const limiter = new QueryRateLimiter({ perSecond: 1, burst: 2 });
 * console.log(limiter.allow("10.0.0.1"), limiter.allow("10.0.0.1"), limiter.allow("10.0.0.1"));
 * // true true false
 * ```
 */
export class QueryRateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * Creates a limiter.
   *
   * @param options Queries per second and burst per key, and how many keys are tracked (the
   * oldest is forgotten first: a flood of spoofed sources costs a bounded map).
   * @param now The clock (tests pass a fake one).
   */
  constructor(
    options: { perSecond?: number; burst?: number; maxKeys?: number } = {},
    now: () => number = Date.now,
  ) {
    this.#perSecond = options.perSecond ?? 20;
    this.#burst = options.burst ?? 50;
    this.#maxKeys = options.maxKeys ?? 4096;
    this.#now = now;
  }

  /**
   * Takes one query's token for `key`.
   *
   * @param key The requester.
   * @returns `false` when it is over its rate: drop the query.
   */
  allow(key: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(
        this.#burst,
        bucket.tokens + (now - bucket.at) * this.#perSecond / 1000,
      );
      bucket.at = now;
    } else {
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
      if (this.#buckets.size > this.#maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
