import type { Bitfield } from "../util/bitfield.ts";
import { Availability } from "./availability.ts";
import type { PieceSelector } from "./selector.ts";

/** Options for {@linkcode RarestFirstSelector}. */
export interface RarestFirstOptions {
  /**
   * Pick at random among the equally rarest pieces the peer has, so that
   * leechers in a swarm spread out instead of all fetching the same piece.
   * Default `false`: the first of the rarest in the selector's order, which
   * is index order for pieces whose availability never changed (so one seed
   * gives pieces in index order).
   */
  randomize?: boolean;
  /** Source of randomness in [0, 1), for reproducible tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Rarest first: the piece the fewest connected peers have. Availability is
 * kept incrementally ({@linkcode Availability}) and done pieces leave it, so
 * selecting walks the pieces still in play from rarest up and stops at the
 * first the peer can give: a select costs about the pieces it skips, not the
 * torrent's size.
 *
 * @example Randomized rarest first
 * ```ts
 * import { RarestFirstSelector } from "@bittern/bittern";
 *
 * const selector = new RarestFirstSelector({ randomize: true });
 * console.log(selector.name); // random-rarest
 * ```
 */
export class RarestFirstSelector implements PieceSelector {
  /** `"rarest"` or `"random-rarest"`. */
  readonly name: string;
  readonly #availability = new Availability();
  readonly #randomize: boolean;
  readonly #random: () => number;
  #done = new Uint8Array(0);

  /**
   * Creates the selector.
   *
   * @param options Whether to randomize among the rarest.
   */
  constructor(options: RarestFirstOptions = {}) {
    this.#randomize = options.randomize ?? false;
    this.#random = options.random ?? Math.random;
    this.name = this.#randomize ? "random-rarest" : "rarest";
  }

  /** Prepares for `pieceCount` pieces, none available yet. */
  init(pieceCount: number): void {
    this.#availability.init(pieceCount);
    this.#done = new Uint8Array(pieceCount);
  }

  /** Counts a peer's pieces. */
  peerAdded(pieces: Bitfield): void {
    this.#availability.add(pieces);
  }

  /** Counts one more peer having piece `index`. */
  peerHave(index: number): void {
    this.#availability.increment(index);
  }

  /** Forgets a peer's pieces. */
  peerRemoved(pieces: Bitfield): void {
    this.#availability.remove(pieces);
  }

  /** Never selects piece `index` again. */
  pieceDone(index: number): void {
    this.#done[index] = 1;
    this.#availability.retire(index);
  }

  /** How many connected peers have piece `index`. */
  availability(index: number): number {
    return this.#availability.of(index);
  }

  /** The rarest eligible piece the peer has (random among equals when randomized). */
  select(peer: Bitfield, eligible: (index: number) => boolean): number | undefined {
    const availability = this.#availability;
    const done = this.#done;
    let rank = availability.first;
    while (rank < availability.size) {
      // One bucket of equally rare pieces: the first the peer can give, or one at random.
      const end = availability.bucketEnd(rank);
      let chosen: number | undefined;
      let seen = 0;
      for (; rank < end; rank++) {
        const index = availability.at(rank);
        if (done[index] || !peer.get(index) || !eligible(index)) continue;
        if (!this.#randomize) return index;
        if (this.#random() * ++seen < 1) chosen = index; // reservoir sampling: uniform
      }
      if (chosen !== undefined) return chosen;
    }
    return undefined;
  }
}
