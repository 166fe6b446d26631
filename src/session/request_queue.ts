import type { BlockRef } from "../agents/agent.ts";

/**
 * A peer's requests waiting to be served, oldest first, kept in typed arrays:
 * a queue of hundreds per peer costs no object per request (a flood of
 * requests makes no garbage for the collector to promote). Look-ups are
 * linear scans of at most `capacity` entries, as libtorrent's are; they run
 * once per request or cancel.
 */
export class RequestQueue {
  readonly #capacity: number;
  readonly #index: Uint32Array;
  readonly #begin: Uint32Array;
  /** 0 marks a cancelled entry, skipped when reached. */
  readonly #length: Uint32Array;
  /** Slot of the oldest entry. */
  #head = 0;
  /** Slots in use from `#head` on, cancelled ones included. */
  #slots = 0;
  /** Entries not cancelled. */
  #size = 0;

  /** @param capacity Most requests queued. */
  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
    this.#index = new Uint32Array(this.#capacity);
    this.#begin = new Uint32Array(this.#capacity);
    this.#length = new Uint32Array(this.#capacity);
  }

  /** Requests queued. */
  get size(): number {
    return this.#size;
  }

  /** Whether no more fit. */
  get full(): boolean {
    return this.#size >= this.#capacity;
  }

  /** Queues a request; false when full, already queued, or of length 0. */
  push(index: number, begin: number, length: number): boolean {
    if (this.full || length === 0 || this.#find(index, begin) >= 0) return false;
    if (this.#slots === this.#capacity) this.#compact();
    const slot = (this.#head + this.#slots) % this.#capacity;
    this.#index[slot] = index;
    this.#begin[slot] = begin;
    this.#length[slot] = length;
    this.#slots++;
    this.#size++;
    return true;
  }

  /** Drops the request for the block at `begin` of piece `index`; false when none. */
  remove(index: number, begin: number): boolean {
    const slot = this.#find(index, begin);
    if (slot < 0) return false;
    this.#length[slot] = 0;
    this.#size--;
    return true;
  }

  /** Takes the oldest request. */
  shift(): BlockRef | undefined {
    while (this.#slots > 0) {
      const slot = this.#head;
      this.#head = (this.#head + 1) % this.#capacity;
      this.#slots--;
      const length = this.#length[slot];
      if (length === 0) continue;
      this.#size--;
      return { index: this.#index[slot], begin: this.#begin[slot], length };
    }
    return undefined;
  }

  /** Drops every request. */
  clear(): void {
    this.#head = 0;
    this.#slots = 0;
    this.#size = 0;
  }

  /** The slot of a queued (not cancelled) request for that block, or -1. */
  #find(index: number, begin: number): number {
    for (let i = 0; i < this.#slots; i++) {
      const slot = (this.#head + i) % this.#capacity;
      if (this.#length[slot] !== 0 && this.#index[slot] === index && this.#begin[slot] === begin) {
        return slot;
      }
    }
    return -1;
  }

  /** Moves the live entries to the front, dropping cancelled ones (all slots were used). */
  #compact(): void {
    let kept = 0;
    const capacity = this.#capacity;
    // Reading runs ahead of writing, so an entry is never overwritten before it is moved.
    for (let i = 0; i < this.#slots; i++) {
      const from = (this.#head + i) % capacity;
      if (this.#length[from] === 0) continue;
      const to = (this.#head + kept) % capacity;
      this.#index[to] = this.#index[from];
      this.#begin[to] = this.#begin[from];
      this.#length[to] = this.#length[from];
      kept++;
    }
    this.#slots = kept;
  }
}
