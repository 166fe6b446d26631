/**
 * BEP 12 multi-tracker tiers: shuffle each tier once, try trackers in order, promote the one
 * that answers to the front of its tier, fall through to the next tier when a tier fails.
 */
import { TrackerError } from "./errors.ts";

/**
 * Returns a shuffled copy of `items` (used once per tier). Injectable for deterministic tests.
 *
 * @example
 * ```ts
 * import type { Shuffle } from "@bittern/bittern";
 *
 * const keepOrder: Shuffle = (items) => [...items];
 * ```
 */
export type Shuffle = <T>(items: readonly T[]) => T[];

/**
 * A uniform random shuffle (Fisher-Yates) returning a new array.
 *
 * @param items What to shuffle.
 * @returns A shuffled copy.
 *
 * @example
 * ```ts
 * import { randomShuffle } from "@bittern/bittern";
 *
 * console.log(randomShuffle([1, 2, 3]).length); // 3
 * ```
 */
export function randomShuffle<T>(items: readonly T[]): T[] {
  const copy = [...items];
  const random = new Uint32Array(copy.length);
  crypto.getRandomValues(random);
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random[i] % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * The tracker list of one torrent, in BEP 12 order.
 *
 * @example
 * ```ts
 * import { announce, TrackerTiers } from "@bittern/bittern";
 *
 * const tiers = new TrackerTiers([["http://a/announce", "http://b/announce"], ["http://c/announce"]]);
 * const { url, value } = await tiers.first((url) =>
 *   announce(url, {
 *     infoHash: new Uint8Array(20),
 *     peerId: new Uint8Array(20),
 *     port: 6881,
 *     uploaded: 0,
 *     downloaded: 0,
 *     left: 0,
 *   })
 * );
 * console.log(url, value.peers.length);
 * ```
 */
export class TrackerTiers {
  readonly #tiers: string[][];

  /**
   * Builds the tier list, shuffling each tier once.
   *
   * @param tiers Announce URL tiers (e.g. `Torrent.announce`); empty tiers and repeated URLs
   * are dropped.
   * @param shuffle Shuffles each tier once (random by default).
   */
  constructor(tiers: readonly (readonly string[])[], shuffle: Shuffle = randomShuffle) {
    const seen = new Set<string>();
    this.#tiers = [];
    for (const tier of tiers) {
      const fresh = tier.filter((url) => !seen.has(url) && seen.add(url));
      if (fresh.length > 0) this.#tiers.push(shuffle(fresh));
    }
  }

  /** The current order: tiers, each with its trackers, first tried first. */
  get tiers(): string[][] {
    return this.#tiers.map((tier) => [...tier]);
  }

  /** Number of trackers over all tiers. */
  get size(): number {
    return this.#tiers.reduce((sum, tier) => sum + tier.length, 0);
  }

  /**
   * Tries trackers in order until `attempt` succeeds, then moves that tracker to the front of
   * its tier. Aborting `signal` stops at once and rejects with its reason.
   *
   * @param attempt Contacts one tracker.
   * @param onFailure Told about each tracker that failed, in order.
   * @param signal Stops the walk.
   * @returns The tracker that answered and its answer.
   * @throws {TrackerError} kind `no-tracker-answered` (the individual errors in `cause`).
   */
  async first<T>(
    attempt: (url: string) => Promise<T>,
    onFailure?: (url: string, error: unknown) => void,
    signal?: AbortSignal,
  ): Promise<{ url: string; value: T }> {
    const errors: unknown[] = [];
    for (const tier of this.#tiers) {
      for (let index = 0; index < tier.length; index++) {
        signal?.throwIfAborted();
        const url = tier[index];
        try {
          const value = await attempt(url);
          tier.splice(index, 1);
          tier.unshift(url);
          return { url, value };
        } catch (error) {
          signal?.throwIfAborted();
          errors.push(error);
          onFailure?.(url, error);
        }
      }
    }
    throw new TrackerError(
      "no-tracker-answered",
      "all tiers",
      `none of ${this.size} trackers answered`,
      { cause: new AggregateError(errors, "tracker failures") },
    );
  }
}
