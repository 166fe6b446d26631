/**
 * A token bucket: `rate` bytes per second refill it, up to `capacity` (the
 * largest burst). Pure arithmetic over times the caller passes in, so it is
 * tested without clocks. Rate 0 means unlimited: every take succeeds.
 */

/** How much the bucket holds, in seconds of its rate: the largest burst after idling. */
export const BURST_SECONDS = 0.1;
/** The least a limited bucket holds, so one 16 KiB block always fits whole. */
export const MIN_BURST_BYTES = 32 * 1024;

/**
 * The capacity of a bucket refilled at `rate` bytes/s: a tenth of a second of
 * it, at least {@linkcode MIN_BURST_BYTES}.
 *
 * @example
 * ```ts
 * import { burstFor } from "./token_bucket.ts";
 *
 * console.log(burstFor(8 * 1024 * 1024)); // 838860.8
 * ```
 */
export function burstFor(rate: number): number {
  return Math.max(rate * BURST_SECONDS, MIN_BURST_BYTES);
}

/**
 * Tokens (bytes) refilled at a rate, capped at a capacity.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 *
 * const bucket = new TokenBucket(1000, 0, 500); // 1000 B/s, holds 500, starts full
 * bucket.tryTake(500, 0); // true
 * bucket.tryTake(100, 0); // false: empty
 * bucket.delayFor(100, 0); // 100 ms until 100 tokens are back
 * ```
 */
export class TokenBucket {
  #rate: number;
  #capacity: number;
  #tokens: number;
  #updatedAt: number;

  /**
   * @param rate Bytes per second; 0 for unlimited.
   * @param now The current time, ms.
   * @param capacity Most tokens held. Default {@linkcode burstFor}(rate).
   */
  constructor(rate: number, now: number, capacity: number = burstFor(rate)) {
    this.#rate = validRate(rate);
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Bytes per second; 0 when unlimited. */
  get rate(): number {
    return this.#rate;
  }

  /** Most tokens held (the largest burst). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens available at `now` (negative while a take larger than the capacity is paid off). */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /**
   * Changes the rate from `now` on: tokens earned so far are kept (capped at
   * the new capacity); from unlimited, the bucket starts full.
   */
  setRate(rate: number, now: number, capacity: number = burstFor(rate)): void {
    this.#refill(now);
    const wasUnlimited = this.#rate === 0;
    this.#rate = validRate(rate);
    this.#capacity = capacity;
    this.#tokens = wasUnlimited ? capacity : Math.min(this.#tokens, capacity);
  }

  /**
   * Takes `bytes` if the bucket holds them (or is full, for a take larger
   * than its capacity, which then leaves it in debt); `false` otherwise.
   */
  tryTake(bytes: number, now: number): boolean {
    if (this.#rate === 0) return true;
    this.#refill(now);
    if (this.#tokens < Math.min(bytes, this.#capacity)) return false;
    this.#tokens -= bytes;
    return true;
  }

  /** Milliseconds from `now` until `tryTake(bytes)` would succeed (0: now). */
  delayFor(bytes: number, now: number): number {
    if (this.#rate === 0) return 0;
    this.#refill(now);
    const missing = Math.min(bytes, this.#capacity) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.#rate) * 1000);
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    this.#updatedAt = now;
    if (elapsed <= 0 || this.#rate === 0) return;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed / 1000) * this.#rate);
  }
}

function validRate(rate: number): number {
  if (!(rate >= 0) || !Number.isFinite(rate)) {
    throw new RangeError(`a rate limit must be a finite number of bytes/s >= 0, not ${rate}`);
  }
  return rate;
}
