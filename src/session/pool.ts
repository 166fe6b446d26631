import { addressKey, type PeerAddress } from "../util/address.ts";

interface Candidate {
  readonly address: PeerAddress;
  readonly source: string;
  /** Failures so far, by reason (`connect`, a protocol error code, ...). */
  readonly failures: Map<string, number>;
  notBefore: number;
  /** Connected or being dialled: not offered until it is released or fails. */
  taken: boolean;
}

/** Options for {@linkcode PeerPool}. */
export interface PeerPoolOptions {
  /** Most addresses remembered. Default 2,000. */
  readonly maxCandidates?: number;
  /**
   * Most addresses one source may hold, by source name; sources not named may
   * fill the pool. Default `{ pex: 500, dht: 500 }`, so that what other peers
   * tell us cannot crowd out tracker and user peers.
   */
  readonly quotas?: Readonly<Record<string, number>>;
  /** First retry delay after a failure, doubled per failure of the same reason. Default 2 s. */
  readonly retryBaseMs?: number;
  /** Longest retry delay. Default 5 min. */
  readonly maxRetryMs?: number;
}

/** What the pool knows, for a `stalled` explanation. */
export interface PoolSummary {
  /** Addresses known. */
  readonly known: number;
  /** Of those, waiting out a back-off. */
  readonly backingOff: number;
  /** Addresses excluded (ourselves, banned peers). */
  readonly excluded: number;
}

/**
 * Addresses the session may connect to: de-duplicated, bounded (with a quota
 * per source), and with exponential back-off per failure reason, so a peer
 * that keeps breaking the protocol the same way is tried ever more rarely
 * (up to `maxRetryMs`) while one that merely went away comes back soon.
 * Excluded addresses (ourselves, banned peers) are never offered.
 */
export class PeerPool {
  readonly #candidates = new Map<string, Candidate>();
  readonly #excluded = new Set<string>();
  readonly #perSource = new Map<string, number>();
  readonly #maxCandidates: number;
  readonly #quotas: Readonly<Record<string, number>>;
  readonly #retryBaseMs: number;
  readonly #maxRetryMs: number;

  /** @param options Bounds and back-off. */
  constructor(options: PeerPoolOptions = {}) {
    this.#maxCandidates = options.maxCandidates ?? 2000;
    this.#quotas = options.quotas ?? { pex: 500, dht: 500 };
    this.#retryBaseMs = options.retryBaseMs ?? 2000;
    this.#maxRetryMs = options.maxRetryMs ?? 5 * 60_000;
  }

  /** Number of remembered addresses. */
  get size(): number {
    return this.#candidates.size;
  }

  /** How many addresses `source` holds. */
  countFrom(source: string): number {
    return this.#perSource.get(source) ?? 0;
  }

  /** Never offer this address (ourselves, or a banned peer). */
  exclude(key: string): void {
    this.#excluded.add(key);
    this.#remove(key);
  }

  /**
   * Forgets every address a source not `kept` gave, connected ones too: they are never
   * dialled again (a private torrent's DHT and custom sources' peers, BEP 27). An address
   * a kept source offers later is new again. Returns how many were forgotten.
   */
  forgetSources(kept: (source: string) => boolean): number {
    let forgotten = 0;
    for (const [key, candidate] of this.#candidates) {
      if (kept(candidate.source)) continue;
      this.#remove(key);
      forgotten++;
    }
    return forgotten;
  }

  /** Whether the address is excluded. */
  isExcluded(key: string): boolean {
    return this.#excluded.has(key);
  }

  /**
   * Adds addresses; known ones keep their state. A full pool makes room by
   * dropping an idle address of the source holding the most. Returns how
   * many were new.
   */
  add(addresses: readonly PeerAddress[], source: string): number {
    let added = 0;
    const quota = this.#quotas[source] ?? Infinity;
    for (const address of addresses) {
      if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) continue;
      const key = addressKey(address.host, address.port);
      if (this.#excluded.has(key) || this.#candidates.has(key)) continue;
      if (this.countFrom(source) >= quota) break;
      if (this.#candidates.size >= this.#maxCandidates && !this.#evictFor(source)) break;
      this.#candidates.set(key, {
        address,
        source,
        failures: new Map(),
        notBefore: 0,
        taken: false,
      });
      this.#perSource.set(source, this.countFrom(source) + 1);
      added++;
    }
    return added;
  }

  /**
   * Up to `count` addresses ready to try now, skipping those `skip` rejects
   * (connected, being dialled, banned). They count as taken until
   * {@linkcode PeerPool.released} or {@linkcode PeerPool.failed}.
   */
  take(count: number, skip: (address: PeerAddress, key: string) => boolean, now = Date.now()) {
    const ready: PeerAddress[] = [];
    for (const [key, candidate] of this.#candidates) {
      if (ready.length >= count) break;
      if (candidate.taken || candidate.notBefore > now || skip(candidate.address, key)) continue;
      candidate.taken = true;
      ready.push(candidate.address);
    }
    return ready;
  }

  /** A connection to `key` came up: keep it taken; earlier failures are forgiven. */
  succeeded(key: string): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    candidate.taken = true;
    candidate.failures.clear();
  }

  /**
   * The connection to `key` failed for `reason`: retry after a delay that
   * doubles with each failure of that reason.
   */
  failed(key: string, reason: string, now = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    const failures = (candidate.failures.get(reason) ?? 0) + 1;
    candidate.failures.set(reason, failures);
    candidate.taken = false;
    candidate.notBefore = now +
      Math.min(this.#maxRetryMs, this.#retryBaseMs * 2 ** Math.min(failures - 1, 20));
  }

  /** A connection ended normally (or was never made): it may be tried again after the base delay. */
  released(key: string, now = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    candidate.taken = false;
    candidate.notBefore = now + this.#retryBaseMs;
  }

  /** Counts for a `stalled` explanation. */
  summary(now = Date.now()): PoolSummary {
    let backingOff = 0;
    for (const candidate of this.#candidates.values()) {
      if (!candidate.taken && candidate.notBefore > now) backingOff++;
    }
    return { known: this.#candidates.size, backingOff, excluded: this.#excluded.size };
  }

  /** When the next address not taken becomes ready (now or past for a fresh one), or `undefined`. */
  nextReadyAt(): number | undefined {
    let next: number | undefined;
    for (const candidate of this.#candidates.values()) {
      if (candidate.taken) continue;
      if (next === undefined || candidate.notBefore < next) next = candidate.notBefore;
    }
    return next;
  }

  /** Drops an idle address of the source holding the most (never of `source`'s betters). */
  #evictFor(source: string): boolean {
    let victimSource: string | undefined;
    let most = 0;
    for (const [name, count] of this.#perSource) {
      if (name !== source && count > most) [victimSource, most] = [name, count];
    }
    // A source may always replace its own oldest idle address.
    if (victimSource === undefined || most <= this.countFrom(source)) victimSource = source;
    for (const [key, candidate] of this.#candidates) {
      if (candidate.source === victimSource && !candidate.taken) {
        this.#remove(key);
        return true;
      }
    }
    return false;
  }

  #remove(key: string): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    this.#candidates.delete(key);
    this.#perSource.set(candidate.source, this.countFrom(candidate.source) - 1);
  }
}

/**
 * Why a torrent with no connection and no dial in progress cannot go on, for its `stalled`
 * event: no source has offered a peer yet, or every known one failed or was banned (`banned`
 * identities). `undefined` while the pool holds an address ready to dial.
 */
export function stallReason(
  pool: PeerPool,
  banned: number,
  sources: readonly string[],
): string | undefined {
  const { known, backingOff } = pool.summary();
  if (known > backingOff) return undefined; // something is ready and will be dialled
  return known === 0 && banned === 0
    ? `no peers: none of the sources (${sources.join(", ") || "none"}) has offered one yet`
    : `no usable peers: all ${known + banned} known peers failed or were banned` +
      ` (${banned} banned); retrying with back-off`;
}
