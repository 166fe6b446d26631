import type { Bitfield } from "../util/bitfield.ts";
import type { PieceSelector } from "./selector.ts";

/**
 * Lowest piece index first: for streaming and previews.
 *
 * Keeps a floor below which every piece is done, so a select costs about the
 * number of pieces in progress, not the torrent's size.
 *
 * @example
 * ```ts
 * import { SequentialSelector } from "@bittern/bittern";
 *
 * const selector = new SequentialSelector();
 * console.log(selector.name); // sequential
 * ```
 */
export class SequentialSelector implements PieceSelector {
  /** `"sequential"`. */
  readonly name = "sequential";
  #done = new Uint8Array(0);
  #floor = 0;

  /** Prepares for `pieceCount` pieces. */
  init(pieceCount: number): void {
    this.#done = new Uint8Array(pieceCount);
    this.#floor = 0;
  }

  /** Availability does not change the order. */
  peerAdded(_pieces: Bitfield): void {}
  /** Availability does not change the order. */
  peerHave(_index: number): void {}
  /** Availability does not change the order. */
  peerRemoved(_pieces: Bitfield): void {}

  /** Never selects piece `index` again. */
  pieceDone(index: number): void {
    this.#done[index] = 1;
    while (this.#floor < this.#done.length && this.#done[this.#floor]) this.#floor++;
  }

  /** The lowest eligible piece the peer has. */
  select(peer: Bitfield, eligible: (index: number) => boolean): number | undefined {
    const done = this.#done;
    for (let i = this.#floor; i < done.length; i++) {
      if (!done[i] && peer.get(i) && eligible(i)) return i;
    }
    return undefined;
  }
}
