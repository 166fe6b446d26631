/**
 * Rate limits: a {@linkcode TokenBucket} with a first-come-first-served queue
 * of waiting takers, and an optional parent whose limit applies too (a
 * torrent's limiter under the runtime's).
 */
import { TokenBucket } from "./token_bucket.ts";

/**
 * Time and timers for {@linkcode BandwidthLimiter}: the system's by default;
 * tests pass one they advance by hand.
 *
 * @example A clock that only moves when told
 * ```ts
 * import type { BandwidthClock } from "@bittern/bittern";
 *
 * let now = 0;
 * const timers = new Map<number, { at: number; run: () => void }>();
 * let nextId = 1;
 * const clock: BandwidthClock = {
 *   now: () => now,
 *   setTimer: (run, ms) => {
 *     const id = nextId++;
 *     timers.set(id, { at: now + ms, run });
 *     return () => timers.delete(id);
 *   },
 * };
 * ```
 */
export interface BandwidthClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds; returns what cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/** The system clock: `performance.now()` and `setTimeout`. */
export const SYSTEM_CLOCK: BandwidthClock = Object.freeze({
  now: () => performance.now(),
  setTimer: (callback: () => void, ms: number) => {
    const id = setTimeout(callback, ms);
    return () => clearTimeout(id);
  },
});

/**
 * The shortest wait before tokens are handed out again: waking every 10 ms
 * at most, each wake serves every waiter the bucket has refilled for (the
 * bucket holds 100 ms of its rate, so nothing is lost by waking late).
 */
const MIN_WAKE_MS = 10;

/** Options of a {@linkcode BandwidthLimiter}. */
export interface BandwidthLimiterOptions {
  /** Bytes per second; 0 or absent for unlimited. */
  readonly limit?: number;
  /** A limiter whose limit applies too: every take here also takes from it. */
  readonly parent?: BandwidthLimiter;
  /** Time and timers. Default: the parent's, else {@linkcode SYSTEM_CLOCK}. */
  readonly clock?: BandwidthClock;
  /** What the limit is called in errors, e.g. `downloadLimit`. Default `limit`. */
  readonly name?: string;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
}

/**
 * A rate limit that transfers wait on: `take(bytes)` resolves once `bytes`
 * may go (at once, without a promise, when they may go now). Takers wait in
 * one queue, first come first served: a peer that asks again queues behind
 * the others, so one fast peer cannot take the whole rate. The bucket holds
 * a tenth of a second of the rate (at least 32 KiB): bursts stay small.
 *
 * Bittern's peers take download tokens for each `piece` block they read
 * (before reading the next message, so a limited peer's socket is not read
 * and TCP slows the sender down) and upload tokens before each block they
 * send; other messages never wait. Code that moves payload some other way
 * (a web seed's HTTP bodies) takes from the session's limiter likewise:
 * {@linkcode AgentSession.downloadLimiter}.
 *
 * @example Taking tokens for each chunk of a body
 * ```ts
 * import { BandwidthLimiter } from "@bittern/bittern";
 *
 * const limiter = new BandwidthLimiter({ limit: 8 * 1024 * 1024 });
 * declare const body: ReadableStream<Uint8Array>;
 * for await (const chunk of body) {
 *   await limiter.take(chunk.length);
 * }
 * limiter.close();
 * ```
 */
export class BandwidthLimiter {
  readonly #bucket: TokenBucket;
  readonly #parent: BandwidthLimiter | undefined;
  readonly #clock: BandwidthClock;
  readonly #name: string;
  #queue: Waiter[] = [];
  #cancelTimer: (() => void) | undefined;
  #closed = false;
  #taken = 0;

  /**
   * Creates a limiter, its bucket full.
   *
   * @param options The limit, a parent limiter, a clock.
   */
  constructor(options: BandwidthLimiterOptions = {}) {
    this.#parent = options.parent;
    this.#clock = options.clock ?? options.parent?.clock ?? SYSTEM_CLOCK;
    this.#name = options.name ?? "limit";
    this.#bucket = new TokenBucket(this.#valid(options.limit), this.#clock.now());
  }

  /** The clock this limiter (and its children, by default) runs on. */
  get clock(): BandwidthClock {
    return this.#clock;
  }

  /** Bytes per second; 0 when unlimited (the parent may still limit). */
  get limit(): number {
    return this.#bucket.rate;
  }

  /** Takers waiting for this limiter's own tokens. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Bytes granted so far here (a parent's wait may follow). */
  get taken(): number {
    return this.#taken;
  }

  /**
   * Changes the limit at once: waiters are served at the new rate (all of
   * them now when it becomes unlimited).
   *
   * @param bytesPerSecond The new limit; 0 or `undefined` for unlimited.
   * @throws {RangeError} naming the limit when it is negative, NaN or infinite.
   */
  setLimit(bytesPerSecond: number | undefined): void {
    this.#bucket.setRate(this.#valid(bytesPerSecond), this.#clock.now());
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#serve();
  }

  /**
   * Waits until `bytes` may be transferred under this limit and the
   * parent's. Returns `undefined` (nothing to await) when they may go now.
   *
   * @param bytes Payload bytes about to be (or just) transferred.
   */
  take(bytes: number): Promise<void> | undefined {
    if (this.#closed) return undefined;
    if (this.#queue.length === 0 && this.#bucket.tryTake(bytes, this.#clock.now())) {
      this.#taken += bytes;
      return this.#parent?.take(bytes);
    }
    return new Promise((resolve) => {
      this.#queue.push({ bytes, resolve });
      this.#schedule();
    });
  }

  /** Lets every waiter go and stops limiting (its session or runtime is closing). */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const queue = this.#queue;
    this.#queue = [];
    for (const waiter of queue) waiter.resolve();
  }

  #valid(limit: number | undefined): number {
    if (limit === undefined) return 0;
    if (typeof limit !== "number" || !(limit >= 0) || !Number.isFinite(limit)) {
      throw new RangeError(
        `${this.#name} must be a finite number of bytes per second >= 0 (0: unlimited), ` +
          `not ${limit}`,
      );
    }
    return limit;
  }

  /** Grants waiters, oldest first, while the bucket has tokens; then waits for more. */
  #serve(): void {
    this.#cancelTimer = undefined;
    const now = this.#clock.now();
    let served = 0;
    while (served < this.#queue.length) {
      const waiter = this.#queue[served];
      if (!this.#bucket.tryTake(waiter.bytes, now)) break;
      served++;
      this.#taken += waiter.bytes;
      const parentWait = this.#closed ? undefined : this.#parent?.take(waiter.bytes);
      if (parentWait) parentWait.then(waiter.resolve);
      else waiter.resolve();
    }
    if (served) this.#queue.splice(0, served);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#cancelTimer || this.#queue.length === 0 || this.#closed) return;
    const delay = this.#bucket.delayFor(this.#queue[0].bytes, this.#clock.now());
    this.#cancelTimer = this.#clock.setTimer(() => this.#serve(), Math.max(MIN_WAKE_MS, delay));
  }
}
