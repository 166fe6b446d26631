/**
 * Peer ids (BEP 20): an Azureus-style client prefix followed by random characters.
 */

/** Bittern's Azureus-style prefix: client code `BI`, version 0.1.0.0. */
export const DEFAULT_PEER_ID_PREFIX = "-BI0100-";

/**
 * A peer id cannot be made from the given prefix.
 *
 * @example
 * ```ts
 * import { generatePeerId, PeerIdError } from "@bittern/bittern";
 *
 * try {
 *   generatePeerId("x".repeat(21));
 * } catch (error) {
 *   console.log(error instanceof PeerIdError); // true
 * }
 * ```
 */
export class PeerIdError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the prefix.
   */
  constructor(message: string) {
    super(message);
    this.name = "PeerIdError";
  }
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A fresh 20-byte peer id: `prefix` then random letters and digits (printable, so logs and
 * trackers show it plainly).
 *
 * @param prefix ASCII prefix of at most 20 characters (default `-BI0100-`).
 * @returns 20 bytes.
 * @throws {PeerIdError} When the prefix is longer than 20 bytes or not ASCII.
 *
 * @example
 * ```ts
 * import { generatePeerId } from "@bittern/bittern";
 *
 * const id = generatePeerId();
 * console.log(new TextDecoder().decode(id.subarray(0, 8))); // "-BI0100-"
 * ```
 */
export function generatePeerId(prefix: string = DEFAULT_PEER_ID_PREFIX): Uint8Array {
  // deno-lint-ignore no-control-regex
  if (prefix.length > 20 || !/^[\x00-\x7f]*$/.test(prefix)) {
    throw new PeerIdError(
      `peer id prefix ${JSON.stringify(prefix)} must be at most 20 ASCII bytes`,
    );
  }
  const id = new Uint8Array(20);
  for (let i = 0; i < prefix.length; i++) id[i] = prefix.charCodeAt(i);
  const random = crypto.getRandomValues(new Uint8Array(20 - prefix.length));
  for (let i = 0; i < random.length; i++) {
    // The small modulo bias toward early characters is harmless in an id.
    id[prefix.length + i] = ALPHABET.charCodeAt(random[i] % ALPHABET.length);
  }
  return id;
}
