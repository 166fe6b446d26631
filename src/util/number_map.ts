/**
 * A map from non-negative integer keys (below 2^53) to numbers, kept in typed arrays: for a
 * map that takes and drops entries all the time, such as a peer's outstanding requests. A
 * `Map` with that churn rehashes into a fresh hash table every few hundred operations, and
 * a table live across two scavenges is promoted to V8's old space: in a 1 GiB download
 * that was the largest source of memory surviving young collections. Here entries live in
 * a dense insertion-ordered array (as in V8's own maps) whose deleted slots are reclaimed in
 * place; the arrays grow only when live entries fill half of them, and their memory is not
 * V8 heap. Keys above 2^31 (block keys are `index * 2^32 + begin`) are not boxed either.
 *
 * @example
 * ```ts
 * import { NumberMap } from "./number_map.ts";
 *
 * const lengths = new NumberMap();
 * lengths.set(3 * 2 ** 32 + 16384, 16384);
 * console.log(lengths.get(3 * 2 ** 32 + 16384), lengths.size); // 16384 1
 * lengths.delete(3 * 2 ** 32 + 16384);
 * ```
 */
export class NumberMap {
  /** Entry keys in insertion order; `EMPTY` marks a deleted entry. */
  #keys: Float64Array;
  #values: Float64Array;
  /** The next entry in the same bucket, or -1. */
  #chain: Int32Array;
  /** The first entry of each bucket, or -1. */
  #buckets: Int32Array;
  /** Entry slots used, deleted ones included. */
  #used = 0;
  #size = 0;

  /** @param capacity Entries held before the first growth (rounded up to a power of two). */
  constructor(capacity = 16) {
    let slots = 8;
    while (slots < capacity) slots *= 2;
    this.#keys = new Float64Array(slots);
    this.#values = new Float64Array(slots);
    this.#chain = new Int32Array(slots);
    this.#buckets = new Int32Array(slots).fill(-1);
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Whether `key` has an entry. */
  has(key: number): boolean {
    return this.#find(key) >= 0;
  }

  /** The value of `key`, or `undefined`. */
  get(key: number): number | undefined {
    const entry = this.#find(key);
    return entry < 0 ? undefined : this.#values[entry];
  }

  /** Sets `key` to `value`; a new key goes last in iteration order. */
  set(key: number, value: number): this {
    const found = this.#find(key);
    if (found >= 0) {
      this.#values[found] = value;
      return this;
    }
    if (this.#used === this.#keys.length) this.#rebuild();
    const entry = this.#used++;
    const bucket = this.#bucket(key);
    this.#keys[entry] = key;
    this.#values[entry] = value;
    this.#chain[entry] = this.#buckets[bucket];
    this.#buckets[bucket] = entry;
    this.#size++;
    return this;
  }

  /** Removes `key`; whether it had an entry. */
  delete(key: number): boolean {
    const bucket = this.#bucket(key);
    let previous = -1;
    for (let entry = this.#buckets[bucket]; entry >= 0; entry = this.#chain[entry]) {
      if (this.#keys[entry] !== key) {
        previous = entry;
        continue;
      }
      if (previous < 0) this.#buckets[bucket] = this.#chain[entry];
      else this.#chain[previous] = this.#chain[entry];
      this.#keys[entry] = EMPTY;
      this.#size--;
      // Empty: start over at slot 0 (the usual way a drained pipeline refills).
      if (this.#size === 0) this.clear();
      return true;
    }
    return false;
  }

  /** Removes every entry (keeps the arrays). */
  clear(): void {
    this.#buckets.fill(-1);
    this.#used = 0;
    this.#size = 0;
  }

  /**
   * The keys in insertion order, as a new array: a snapshot, so the map may change while
   * the caller walks it (check each key with {@linkcode NumberMap.get}).
   */
  keys(): number[] {
    const keys: number[] = [];
    for (let entry = 0; entry < this.#used; entry++) {
      const key = this.#keys[entry];
      if (key !== EMPTY) keys.push(key);
    }
    return keys;
  }

  #find(key: number): number {
    for (let entry = this.#buckets[this.#bucket(key)]; entry >= 0; entry = this.#chain[entry]) {
      if (this.#keys[entry] === key) return entry;
    }
    return -1;
  }

  /** Bucket of `key`: its high and low 32 bits mixed (buckets are as many as entry slots). */
  #bucket(key: number): number {
    const high = (key / 0x1_0000_0000) >>> 0;
    const low = key >>> 0;
    return (Math.imul(high ^ Math.imul(low, 0x9e3779b1), 0x85ebca6b) >>> 0) &
      (this.#buckets.length - 1);
  }

  /** Full: squeezes out deleted entries in place, or doubles when over half are live. */
  #rebuild(): void {
    const grow = this.#size * 2 > this.#keys.length;
    const keys = grow ? new Float64Array(this.#keys.length * 2) : this.#keys;
    const values = grow ? new Float64Array(keys.length) : this.#values;
    let live = 0;
    for (let entry = 0; entry < this.#used; entry++) {
      const key = this.#keys[entry];
      if (key === EMPTY) continue;
      keys[live] = key;
      values[live] = this.#values[entry];
      live++;
    }
    if (grow) {
      this.#keys = keys;
      this.#values = values;
      this.#chain = new Int32Array(keys.length);
      this.#buckets = new Int32Array(keys.length);
    }
    this.#buckets.fill(-1);
    for (let entry = 0; entry < live; entry++) {
      const bucket = this.#bucket(keys[entry]);
      this.#chain[entry] = this.#buckets[bucket];
      this.#buckets[bucket] = entry;
    }
    this.#used = live;
  }
}

/** Marks a deleted entry (keys are never negative). */
const EMPTY = -1;
