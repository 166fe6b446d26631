import { createHash, type Hash } from "node:crypto";
import { torrentError } from "./errors.ts";

/**
 * SHA-1 of a byte stream cut into fixed-size pieces: feed chunks of any size
 * in order, then take the concatenated 20-byte piece hashes. Holds no data,
 * only the running hash of the current piece.
 *
 * @example
 * ```ts
 * import { PieceHasher } from "@bittern/bittern";
 *
 * const hasher = new PieceHasher(16384);
 * hasher.update(new Uint8Array(40000));
 * console.log(hasher.digest().length); // 60 (three pieces)
 * ```
 */
export class PieceHasher {
  readonly #pieceLength: number;
  readonly #hashes: Uint8Array[] = [];
  #current: Hash = createHash("sha1");
  #filled = 0;
  #total = 0;

  /**
   * Creates a hasher for pieces of `pieceLength` bytes.
   *
   * @param pieceLength Bytes per piece (the last may be shorter).
   */
  constructor(pieceLength: number) {
    if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
      throw torrentError("pieceLength", `a positive integer (got ${pieceLength})`);
    }
    this.#pieceLength = pieceLength;
  }

  /** Bytes fed so far. */
  get length(): number {
    return this.#total;
  }

  /**
   * Feeds the next bytes of the stream. The chunk is not kept.
   *
   * @param chunk The next bytes.
   */
  update(chunk: Uint8Array): void {
    let offset = 0;
    // Each round finishes a piece or consumes the chunk, so this ends.
    while (offset < chunk.length) {
      const take = Math.min(this.#pieceLength - this.#filled, chunk.length - offset);
      this.#current.update(chunk.subarray(offset, offset + take));
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#pieceLength) this.#finishPiece();
    }
    this.#total += chunk.length;
  }

  /**
   * Ends the stream and returns the concatenated piece hashes (the last,
   * partial piece included).
   *
   * @returns 20 bytes per piece.
   */
  digest(): Uint8Array {
    if (this.#filled > 0) this.#finishPiece();
    const out = new Uint8Array(this.#hashes.length * 20);
    this.#hashes.forEach((hash, i) => out.set(hash, i * 20));
    return out;
  }

  #finishPiece(): void {
    this.#hashes.push(new Uint8Array(this.#current.digest()));
    this.#current = createHash("sha1");
    this.#filled = 0;
  }
}
