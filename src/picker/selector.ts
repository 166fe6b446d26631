import type { Bitfield } from "../util/bitfield.ts";

/**
 * Chooses which piece to start downloading next from a peer.
 *
 * The session tells the selector what the swarm has (bitfields, haves, peers
 * leaving) and which pieces are finished, and asks it for a piece whenever a
 * peer has room for more requests and no partly downloaded piece to continue.
 * Built-ins: {@linkcode SequentialSelector}, {@linkcode RarestFirstSelector}
 * (optionally randomized). Implement this interface for a custom order.
 *
 * @example A selector that downloads the last piece first, then in order
 * ```ts
 * import type { Bitfield, PieceSelector } from "@bittern/bittern";
 *
 * class LastFirst implements PieceSelector {
 *   readonly name = "last-first";
 *   #count = 0;
 *   init(pieceCount: number) {
 *     this.#count = pieceCount;
 *   }
 *   peerAdded() {}
 *   peerHave() {}
 *   peerRemoved() {}
 *   pieceDone() {}
 *   select(peer: Bitfield, eligible: (index: number) => boolean) {
 *     const last = this.#count - 1;
 *     if (peer.get(last) && eligible(last)) return last;
 *     for (let i = 0; i < last; i++) if (peer.get(i) && eligible(i)) return i;
 *     return undefined;
 *   }
 * }
 * ```
 */
export interface PieceSelector {
  /** A short name for logs and events, e.g. `"rarest"`. */
  readonly name: string;
  /** Called once, before anything else, with the torrent's piece count. */
  init(pieceCount: number): void;
  /** A peer connected and told us its pieces (its bitfield, or all pieces for a seed). */
  peerAdded(pieces: Bitfield): void;
  /** A connected peer announced one more piece. */
  peerHave(index: number): void;
  /** A peer left; `pieces` is what it had. */
  peerRemoved(pieces: Bitfield): void;
  /** A piece was verified (or is not wanted any more): never select it again. */
  pieceDone(index: number): void;
  /**
   * The next piece to start from a peer that has `peer`, among pieces for
   * which `eligible(index)` is true (wanted, not verified, not already being
   * downloaded). `undefined` when there is none.
   */
  select(peer: Bitfield, eligible: (index: number) => boolean): number | undefined;
}
