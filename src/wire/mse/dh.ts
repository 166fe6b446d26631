import { createDiffieHellman, createHash, type DiffieHellman } from "node:crypto";
import { ProtocolError } from "../errors.ts";

/** The MSE prime (768 bits); the generator is 2. */
const PRIME = new Uint8Array(
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563"
    .match(/../g)!.map((hex) => parseInt(hex, 16)),
);

/**
 * Length of an MSE public key and shared secret: 96 bytes, big-endian.
 *
 * @example
 * ```ts
 * import { MSE_KEY_LENGTH } from "@bittern/bittern";
 *
 * console.log(MSE_KEY_LENGTH); // 96
 * ```
 */
export const MSE_KEY_LENGTH = 96;

/**
 * One side of the MSE Diffie-Hellman exchange (768-bit prime, generator 2,
 * through `node:crypto`).
 *
 * @example Both sides agree on the secret
 * ```ts
 * import { MseKeyExchange } from "@bittern/bittern";
 *
 * const a = new MseKeyExchange();
 * const b = new MseKeyExchange();
 * const secret = a.secret(b.publicKey);
 * console.log(secret.length, secret.every((byte, i) => byte === b.secret(a.publicKey)[i])); // 96 true
 * ```
 */
export class MseKeyExchange {
  readonly #dh: DiffieHellman;
  /** Our public key, 96 bytes. */
  readonly publicKey: Uint8Array;

  /** Generates a key pair. */
  constructor() {
    this.#dh = createDiffieHellman(PRIME, 2);
    this.publicKey = leftPad(this.#dh.generateKeys());
  }

  /**
   * The shared secret S.
   *
   * @param remoteKey The peer's 96-byte public key.
   * @returns S, 96 bytes.
   * @throws {ProtocolError} `bad-encryption-key` when the key is not a valid public key.
   */
  secret(remoteKey: Uint8Array): Uint8Array {
    // 0, 1 and p-1 (and anything at or above p) would give a secret an observer can guess.
    if (!validPublicKey(remoteKey)) {
      throw new ProtocolError("bad-encryption-key", "MSE: the peer's public key is out of range");
    }
    try {
      return leftPad(this.#dh.computeSecret(remoteKey));
    } catch (error) {
      throw new ProtocolError("bad-encryption-key", "MSE: the peer's public key is invalid", {}, {
        cause: error,
      });
    }
  }
}

function validPublicKey(key: Uint8Array): boolean {
  if (key.length !== MSE_KEY_LENGTH) return false;
  let small = true; // 0 or 1
  for (let i = 0; i < key.length - 1 && small; i++) small = key[i] === 0;
  if (small && key[key.length - 1] <= 1) return false;
  // Below p - 1: compare big-endian.
  for (let i = 0; i < key.length; i++) {
    const limit = i === key.length - 1 ? PRIME[i] - 1 : PRIME[i];
    if (key[i] !== limit) return key[i] < limit;
  }
  return false;
}

function leftPad(bytes: Uint8Array): Uint8Array {
  if (bytes.length === MSE_KEY_LENGTH) return new Uint8Array(bytes);
  const padded = new Uint8Array(MSE_KEY_LENGTH);
  padded.set(bytes, MSE_KEY_LENGTH - bytes.length);
  return padded;
}

/** SHA-1 of the parts, in order (the spec's HASH). */
export function sha1(...parts: (Uint8Array | string)[]): Uint8Array {
  const hash = createHash("sha1");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}
