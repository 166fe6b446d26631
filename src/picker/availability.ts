import type { Bitfield } from "../util/bitfield.ts";

/**
 * How many connected peers have each piece, kept ordered by that count.
 *
 * Pieces sit in one array sorted by availability, in buckets of equal count;
 * a `have` moves one piece to the next bucket with a single swap, so updates
 * are O(1) and the rarest pieces are always at the front. Seeds are counted
 * once in {@linkcode Availability.seeds} rather than per piece, since they
 * shift every count alike.
 */
export class Availability {
  #count = new Uint32Array(0);
  /** Piece indices ordered by count. */
  #order = new Uint32Array(0);
  /** Where each piece sits in `#order`. */
  #position = new Uint32Array(0);
  /** `#bucketStart[c]`: first position in `#order` of pieces with count `c`. */
  #bucketStart: number[] = [0];
  /** Pieces taken out of the order for good (done), which sit before `#first`. */
  #retired = new Uint8Array(0);
  /** The first rank of a piece still in play: ranks before it are retired pieces. */
  #first = 0;
  /** Peers that have every piece. */
  seeds = 0;
  /** The bitfields counted in `seeds`, so removing them undoes exactly what adding did. */
  #seedPeers = new WeakSet<Bitfield>();

  /** Resets for a torrent of `pieceCount` pieces, all with count 0. */
  init(pieceCount: number): void {
    this.#count = new Uint32Array(pieceCount);
    this.#order = new Uint32Array(pieceCount);
    this.#position = new Uint32Array(pieceCount);
    for (let i = 0; i < pieceCount; i++) this.#order[i] = this.#position[i] = i;
    this.#bucketStart = [0, pieceCount];
    this.#retired = new Uint8Array(pieceCount);
    this.#first = 0;
    this.seeds = 0;
  }

  /** The rank of the rarest piece still in play (retired pieces come before it). */
  get first(): number {
    return this.#first;
  }

  /**
   * Takes piece `index` out of the order for good (it is done): scans that
   * start at {@linkcode Availability.first} never see it again, and counting
   * peers' pieces skips it. Its count is then meaningless.
   */
  retire(index: number): void {
    if (this.#retired[index]) return;
    while (this.#count[index] > 0) this.decrement(index);
    // Now in bucket 0, which starts at `#first`: swap it there and close the bucket over it.
    this.#swap(this.#position[index], this.#first);
    this.#first++;
    this.#bucketStart[0] = this.#first;
    this.#retired[index] = 1;
  }

  /** Number of pieces tracked. */
  get size(): number {
    return this.#order.length;
  }

  /** How many connected peers have piece `index`. */
  of(index: number): number {
    return this.#count[index] + this.seeds;
  }

  /** The piece at `rank` in rarest-first order (0 is the rarest). */
  at(rank: number): number {
    return this.#order[rank];
  }

  /** The first rank of the pieces whose count is higher than that of the piece at `rank`. */
  bucketEnd(rank: number): number {
    return this.#bucketStart[this.#count[this.#order[rank]] + 1];
  }

  /** Adds a peer's pieces. */
  add(pieces: Bitfield): void {
    if (pieces.hasAll()) {
      this.seeds++;
      this.#seedPeers.add(pieces);
      return;
    }
    for (let i = 0; i < pieces.size; i++) if (pieces.get(i)) this.increment(i);
  }

  /** Removes a peer's pieces. */
  remove(pieces: Bitfield): void {
    if (this.#seedPeers.delete(pieces)) {
      this.seeds--;
      return;
    }
    for (let i = 0; i < pieces.size; i++) if (pieces.get(i)) this.decrement(i);
  }

  /** One more peer has piece `index`. */
  increment(index: number): void {
    if (this.#retired[index]) return;
    const count = this.#count[index];
    if (this.#bucketStart.length <= count + 2) this.#bucketStart.push(this.#order.length);
    // Swap the piece with the last one of its bucket, then shrink the bucket by one.
    const last = this.#bucketStart[count + 1] - 1;
    this.#swap(this.#position[index], last);
    this.#bucketStart[count + 1] = last;
    this.#count[index] = count + 1;
  }

  /** One fewer peer has piece `index`. */
  decrement(index: number): void {
    const count = this.#count[index];
    if (count === 0) return;
    if (this.#retired[index]) return;
    // Swap the piece with the first one of its bucket, then grow the bucket below.
    const first = this.#bucketStart[count];
    this.#swap(this.#position[index], first);
    this.#bucketStart[count] = first + 1;
    this.#count[index] = count - 1;
  }

  #swap(a: number, b: number): void {
    const order = this.#order;
    const pieceA = order[a];
    const pieceB = order[b];
    order[a] = pieceB;
    order[b] = pieceA;
    this.#position[pieceB] = a;
    this.#position[pieceA] = b;
  }
}
