import { createHash } from "node:crypto";
import { bytesEqual } from "../util/bytes.ts";

/** How often the secret changes; a token is accepted under the current and the previous one. */
export const TOKEN_ROTATION_MS = 5 * 60_000;

/**
 * `announce_peer` tokens (BEP 5): SHA-1 of the requester's address and a secret that rotates
 * every 5 minutes, truncated to 8 bytes. A token is accepted under the current or previous
 * secret, so for 5 to 10 minutes, and only from the address it was given to. Nothing is
 * stored per requester.
 *
 * @example
 * ```ts
 * import { TokenManager } from "@bittern/bittern";
 *
 * const tokens = new TokenManager();
 * const token = tokens.issue("10.0.0.1");
 * console.log(tokens.verify(token, "10.0.0.1")); // true
 * console.log(tokens.verify(token, "10.0.0.2")); // false
 * ```
 */
export class TokenManager {
  #current: Uint8Array;
  #previous: Uint8Array;
  #rotatedAt: number;
  readonly #now: () => number;

  /**
   * Creates a manager with fresh secrets.
   *
   * @param now The clock (tests pass a fake one).
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#current = crypto.getRandomValues(new Uint8Array(16));
    this.#previous = crypto.getRandomValues(new Uint8Array(16));
    this.#rotatedAt = now();
  }

  #rotate(): void {
    const elapsed = this.#now() - this.#rotatedAt;
    if (elapsed < TOKEN_ROTATION_MS) return;
    // Two or more periods idle: both secrets are stale.
    this.#previous = elapsed >= 2 * TOKEN_ROTATION_MS
      ? crypto.getRandomValues(new Uint8Array(16))
      : this.#current;
    this.#current = crypto.getRandomValues(new Uint8Array(16));
    this.#rotatedAt = this.#now();
  }

  #token(secret: Uint8Array, key: string): Uint8Array {
    const hash = createHash("sha1").update(secret).update(key).digest();
    return new Uint8Array(hash.buffer, hash.byteOffset, 8).slice();
  }

  /**
   * The token for a requester.
   *
   * @param key The requester's IP address (the binding).
   * @returns 8 bytes.
   */
  issue(key: string): Uint8Array {
    this.#rotate();
    return this.#token(this.#current, key);
  }

  /**
   * Whether `token` was issued to `key` within the last 5 to 10 minutes.
   *
   * @param token The token from `announce_peer`.
   * @param key The requester's IP address.
   * @returns `true` when valid.
   */
  verify(token: Uint8Array, key: string): boolean {
    this.#rotate();
    if (token.length !== 8) return false;
    return bytesEqual(token, this.#token(this.#current, key)) ||
      bytesEqual(token, this.#token(this.#previous, key));
  }
}
