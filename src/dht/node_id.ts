/** Node ids and info hashes are 160-bit numbers compared by XOR distance (BEP 5). */
import { toHex } from "../util/bytes.ts";

/** Bytes in a node id or info hash. */
export const ID_LENGTH = 20;

/**
 * A fresh random 160-bit node id.
 *
 * @example
 * ```ts
 * import { randomNodeId } from "@bittern/bittern";
 *
 * console.log(randomNodeId().length); // 20
 * ```
 *
 * @returns 20 random bytes.
 */
export function randomNodeId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ID_LENGTH));
}

/**
 * Compares the XOR distances of `a` and `b` from `target`: negative when `a` is closer.
 *
 * @example
 * ```ts
 * import { compareDistance } from "@bittern/bittern";
 *
 * const target = new Uint8Array(20);
 * const near = new Uint8Array(20).fill(1);
 * const far = new Uint8Array(20).fill(0xff);
 * console.log(compareDistance(target, near, far) < 0); // true
 * ```
 *
 * @param target The id distances are measured from.
 * @param a One id.
 * @param b Another id.
 * @returns Negative, zero or positive.
 */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * How many leading bits `a` and `b` share (160 when equal).
 *
 * @example
 * ```ts
 * import { commonPrefixLength } from "@bittern/bittern";
 *
 * const a = new Uint8Array(20);
 * const b = new Uint8Array(20);
 * b[0] = 0x10;
 * console.log(commonPrefixLength(a, b)); // 3
 * ```
 *
 * @param a One id.
 * @param b Another id.
 * @returns 0 to 160.
 */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_LENGTH * 8;
}

/**
 * A random id sharing exactly `prefix` leading bits with `id` (bucket refresh targets).
 *
 * @example
 * ```ts
 * import { commonPrefixLength, randomIdWithPrefix, randomNodeId } from "@bittern/bittern";
 *
 * const own = randomNodeId();
 * console.log(commonPrefixLength(own, randomIdWithPrefix(own, 5))); // 5
 * ```
 *
 * @param id The id to share a prefix with.
 * @param prefix Bits shared, 0 to 159.
 * @returns A new id.
 */
export function randomIdWithPrefix(id: Uint8Array, prefix: number): Uint8Array {
  const out = randomNodeId();
  const whole = prefix >> 3;
  out.set(id.subarray(0, whole));
  if (whole < ID_LENGTH) {
    const bit = prefix & 7;
    const keep = (0xff00 >> bit) & 0xff;
    const flip = 0x80 >> bit;
    out[whole] = (id[whole] & keep) | ((~id[whole]) & flip) | (out[whole] & ~(keep | flip) & 0xff);
  }
  return out;
}

/**
 * The id as 40 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { nodeIdHex } from "@bittern/bittern";
 *
 * console.log(nodeIdHex(new Uint8Array(20)).length); // 40
 * ```
 *
 * @param id A node id.
 * @returns Hex digits.
 */
export function nodeIdHex(id: Uint8Array): string {
  return toHex(id);
}
