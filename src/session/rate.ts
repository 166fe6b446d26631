/**
 * Transfer rate over a sliding window, for choking decisions, request
 * pipelining and progress display.
 */
export class RateMeter {
  readonly #windowMs: number;
  /** Byte counts per whole second, newest last. */
  #buckets: number[] = [];
  #bucketSecond = 0;
  #total = 0;

  /** @param windowSeconds How far back the rate looks. Default 5 s. */
  constructor(windowSeconds = 5) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Total bytes ever added. */
  get total(): number {
    return this.#total;
  }

  /** Counts `bytes` transferred at time `now` (ms). */
  add(bytes: number, now = Date.now()): void {
    this.#total += bytes;
    this.#advance(now);
    this.#buckets[this.#buckets.length - 1] += bytes;
  }

  /** Bytes per second over the window, at time `now` (ms). */
  rate(now = Date.now()): number {
    this.#advance(now);
    let sum = 0;
    for (const bytes of this.#buckets) sum += bytes;
    const seconds = Math.max(1, this.#buckets.length - 1 + (now % 1000) / 1000);
    return sum / seconds;
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.#buckets.length === 0) {
      this.#bucketSecond = second;
      this.#buckets.push(0);
      return;
    }
    const maxBuckets = Math.ceil(this.#windowMs / 1000);
    const gap = Math.min(second - this.#bucketSecond, maxBuckets);
    for (let i = 0; i < gap; i++) this.#buckets.push(0);
    this.#bucketSecond = second;
    while (this.#buckets.length > maxBuckets) this.#buckets.shift();
  }
}
