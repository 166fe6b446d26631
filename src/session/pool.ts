import type { PeerAddress } from "../agents/agent.ts";
import { addressKey } from "./peer.ts";

interface Candidate {
  readonly address: PeerAddress;
  readonly source: string;
  failures: number;
  notBefore: number;
}

/** Options for {@linkcode PeerPool}. */
export interface PeerPoolOptions {
  /** Most addresses remembered. Default 2,000. */
  readonly maxCandidates?: number;
  /** First retry delay after a failed connection, doubled per failure. Default 2 s. */
  readonly retryBaseMs?: number;
  /** Failures after which an address is forgotten. Default 5. */
  readonly maxFailures?: number;
}

/**
 * Addresses the session may connect to, de-duplicated, with back-off for
 * addresses that failed. Our own address and banned addresses are skipped.
 */
export class PeerPool {
  readonly #candidates = new Map<string, Candidate>();
  readonly #excluded = new Set<string>();
  readonly #maxCandidates: number;
  readonly #retryBaseMs: number;
  readonly #maxFailures: number;

  /** @param options Bounds and back-off. */
  constructor(options: PeerPoolOptions = {}) {
    this.#maxCandidates = options.maxCandidates ?? 2000;
    this.#retryBaseMs = options.retryBaseMs ?? 2000;
    this.#maxFailures = options.maxFailures ?? 5;
  }

  /** Number of remembered addresses. */
  get size(): number {
    return this.#candidates.size;
  }

  /** Never offer this address (ourselves, or a banned peer). */
  exclude(key: string): void {
    this.#excluded.add(key);
    this.#candidates.delete(key);
  }

  /** Whether the address is excluded. */
  isExcluded(key: string): boolean {
    return this.#excluded.has(key);
  }

  /** Adds addresses; known ones keep their state. Returns how many were new. */
  add(addresses: readonly PeerAddress[], source: string): number {
    let added = 0;
    for (const address of addresses) {
      if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) continue;
      const key = addressKey(address.host, address.port);
      if (this.#excluded.has(key) || this.#candidates.has(key)) continue;
      if (this.#candidates.size >= this.#maxCandidates) break;
      this.#candidates.set(key, { address, source, failures: 0, notBefore: 0 });
      added++;
    }
    return added;
  }

  /**
   * Up to `count` addresses ready to try now, skipping those `busy` says are
   * connected or being dialled.
   */
  take(count: number, busy: (key: string) => boolean, now = Date.now()): PeerAddress[] {
    const ready: PeerAddress[] = [];
    for (const [key, candidate] of this.#candidates) {
      if (ready.length >= count) break;
      if (candidate.notBefore > now || busy(key)) continue;
      // Until it answers, do not offer it again.
      candidate.notBefore = Number.POSITIVE_INFINITY;
      ready.push(candidate.address);
    }
    return ready;
  }

  /** A connection to `key` succeeded: reset its failures. */
  succeeded(key: string): void {
    const candidate = this.#candidates.get(key);
    if (candidate) {
      candidate.failures = 0;
      candidate.notBefore = Number.POSITIVE_INFINITY; // connected: not a candidate while it lasts
    }
  }

  /** The connection to `key` failed or ended: retry later, or forget it. */
  failed(key: string, now = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    candidate.failures++;
    if (candidate.failures > this.#maxFailures) {
      this.#candidates.delete(key);
      return;
    }
    candidate.notBefore = now + this.#retryBaseMs * 2 ** (candidate.failures - 1);
  }

  /** A connected peer left normally: it may be tried again after the base delay. */
  released(key: string, now = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (candidate) candidate.notBefore = now + this.#retryBaseMs;
  }
}
