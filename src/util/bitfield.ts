/**
 * A fixed-size bit set in BitTorrent's wire order: bit 0 is the high bit of byte 0.
 */

/** Thrown when bytes cannot be a bitfield of the expected size. */
export class BitfieldError extends Error {
  /**
   * Creates a bitfield error.
   *
   * @param message What was wrong, naming the sizes involved.
   */
  constructor(message: string) {
    super(message);
    this.name = "BitfieldError";
  }
}

/**
 * A fixed number of bits, e.g. which pieces of a torrent are verified.
 *
 * @example
 * ```ts
 * import { Bitfield } from "@bittern/bittern";
 *
 * const have = new Bitfield(10);
 * have.set(3);
 * console.log(have.get(3), have.count()); // true 1
 * ```
 */
export class Bitfield {
  /** Number of bits. */
  readonly size: number;
  #bytes: Uint8Array;
  #count = 0;

  /**
   * Creates a bitfield with every bit clear.
   *
   * @param size Number of bits (a non-negative integer).
   */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new BitfieldError(`bitfield size must be a non-negative integer, got ${size}`);
    }
    this.size = size;
    this.#bytes = new Uint8Array(Math.ceil(size / 8));
  }

  /**
   * Reads a bitfield from its wire bytes, refusing a wrong length or set spare bits.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const bits = Bitfield.fromBytes(new Uint8Array([0b1010_0000]), 3);
   * console.log(bits.get(0), bits.get(1)); // true false
   * ```
   *
   * @param bytes Exactly `ceil(size / 8)` bytes.
   * @param size Number of bits.
   * @returns A new bitfield holding a copy of the bytes.
   */
  static fromBytes(bytes: Uint8Array, size: number): Bitfield {
    const bitfield = new Bitfield(size);
    if (bytes.length !== bitfield.#bytes.length) {
      throw new BitfieldError(
        `bitfield of ${size} bits needs ${bitfield.#bytes.length} bytes, got ${bytes.length}`,
      );
    }
    const spare = bitfield.#bytes.length * 8 - size;
    if (spare > 0 && (bytes[bytes.length - 1] & ((1 << spare) - 1)) !== 0) {
      throw new BitfieldError(`bitfield of ${size} bits has spare bits set in its last byte`);
    }
    bitfield.#bytes.set(bytes);
    for (const byte of bytes) bitfield.#count += popCount(byte);
    return bitfield;
  }

  /**
   * Whether bit `index` is set.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * console.log(new Bitfield(8).get(7)); // false
   * ```
   *
   * @param index Bit index in `[0, size)`.
   * @returns Whether the bit is set.
   */
  get(index: number): boolean {
    this.#check(index);
    return (this.#bytes[index >> 3] & (0x80 >> (index & 7))) !== 0;
  }

  /**
   * Sets or clears bit `index`.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const bits = new Bitfield(8);
   * bits.set(2);
   * bits.set(2, false);
   * console.log(bits.count()); // 0
   * ```
   *
   * @param index Bit index in `[0, size)`.
   * @param value `true` to set (default), `false` to clear.
   */
  set(index: number, value = true): void {
    this.#check(index);
    const mask = 0x80 >> (index & 7);
    const byte = this.#bytes[index >> 3];
    const was = (byte & mask) !== 0;
    if (was === value) return;
    this.#bytes[index >> 3] = value ? byte | mask : byte & ~mask;
    this.#count += value ? 1 : -1;
  }

  /**
   * Number of set bits.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * console.log(new Bitfield(4).count()); // 0
   * ```
   *
   * @returns How many bits are set.
   */
  count(): number {
    return this.#count;
  }

  /**
   * Whether every bit is set.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const bits = new Bitfield(1);
   * bits.set(0);
   * console.log(bits.hasAll()); // true
   * ```
   *
   * @returns `true` when all `size` bits are set.
   */
  hasAll(): boolean {
    return this.#count === this.size;
  }

  /**
   * Whether no bit is set.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * console.log(new Bitfield(3).hasNone()); // true
   * ```
   *
   * @returns `true` when no bit is set.
   */
  hasNone(): boolean {
    return this.#count === 0;
  }

  /**
   * The wire bytes (a copy; spare bits are zero).
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const bits = new Bitfield(9);
   * bits.set(0);
   * console.log(bits.toBytes()); // Uint8Array(2) [ 128, 0 ]
   * ```
   *
   * @returns `ceil(size / 8)` bytes.
   */
  toBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /**
   * Indices of the set bits, in order.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const bits = new Bitfield(4);
   * bits.set(1);
   * console.log([...bits.indices()]); // [1]
   * ```
   *
   * @returns An iterator over set bit indices.
   */
  *indices(): IterableIterator<number> {
    for (let i = 0; i < this.size; i++) if (this.get(i)) yield i;
  }

  /**
   * A copy of this bitfield.
   *
   * @example
   * ```ts
   * import { Bitfield } from "@bittern/bittern";
   *
   * const copy = new Bitfield(2).clone();
   * console.log(copy.size); // 2
   * ```
   *
   * @returns An independent bitfield with the same bits.
   */
  clone(): Bitfield {
    return Bitfield.fromBytes(this.#bytes, this.size);
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new BitfieldError(`bit index ${index} is outside a bitfield of ${this.size} bits`);
    }
  }
}

function popCount(byte: number): number {
  let count = 0;
  for (let b = byte; b !== 0; b &= b - 1) count++;
  return count;
}
