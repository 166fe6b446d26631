import type { PeerAddress } from "../util/address.ts";
import { addressKey } from "../util/address.ts";

/**
 * Bounds of a {@linkcode PeerStore}.
 *
 * @example
 * ```ts
 * import type { PeerStoreOptions } from "@bittern/bittern";
 *
 * const options: PeerStoreOptions = { maxInfoHashes: 500, maxPeersPerInfoHash: 50 };
 * ```
 */
export interface PeerStoreOptions {
  /** Info hashes kept at most; the least recently announced goes first. Default 2 000. */
  readonly maxInfoHashes?: number;
  /** Peers per info hash at most; the least recently announced goes first. Default 100. */
  readonly maxPeersPerInfoHash?: number;
  /** A peer is dropped this long after its last announce. Default 30 minutes (BEP 5 clients re-announce every 15). */
  readonly maxAgeMs?: number;
}

/**
 * Peers announced to us (`announce_peer`), per info hash, bounded in count and age: at most
 * `maxInfoHashes × maxPeersPerInfoHash` entries whatever the announcers do.
 *
 * @example
 * ```ts
 * import { PeerStore } from "@bittern/bittern";
 *
 * const store = new PeerStore();
 * store.add("00".repeat(20), { host: "10.0.0.1", port: 6881 });
 * console.log(store.get("00".repeat(20), 50)); // [{ host: "10.0.0.1", port: 6881 }]
 * ```
 */
export class PeerStore {
  readonly #maxInfoHashes: number;
  readonly #maxPeers: number;
  readonly #maxAge: number;
  readonly #now: () => number;
  /** Insertion order is recency: an announce moves its entry to the end. */
  readonly #swarms = new Map<string, Map<string, { peer: PeerAddress; at: number }>>();

  /**
   * Creates an empty store.
   *
   * @param options Bounds.
   * @param now The clock (tests pass a fake one).
   */
  constructor(options: PeerStoreOptions = {}, now: () => number = Date.now) {
    this.#maxInfoHashes = options.maxInfoHashes ?? 2000;
    this.#maxPeers = options.maxPeersPerInfoHash ?? 100;
    this.#maxAge = options.maxAgeMs ?? 30 * 60_000;
    this.#now = now;
  }

  /** Info hashes held. */
  get infoHashes(): number {
    return this.#swarms.size;
  }

  /**
   * Records an announce.
   *
   * @param infoHashHex The info hash, hex.
   * @param peer The announcing peer's address.
   */
  add(infoHashHex: string, peer: PeerAddress): void {
    let swarm = this.#swarms.get(infoHashHex);
    if (swarm) this.#swarms.delete(infoHashHex);
    else swarm = new Map();
    this.#swarms.set(infoHashHex, swarm);
    const key = addressKey(peer.host, peer.port);
    swarm.delete(key);
    swarm.set(key, { peer: { host: peer.host, port: peer.port }, at: this.#now() });
    if (swarm.size > this.#maxPeers) swarm.delete(swarm.keys().next().value!);
    if (this.#swarms.size > this.#maxInfoHashes) {
      this.#swarms.delete(this.#swarms.keys().next().value!);
    }
  }

  /**
   * Up to `count` fresh peers of an info hash, a random choice when there are more.
   *
   * @param infoHashHex The info hash, hex.
   * @param count How many at most.
   * @returns The peers.
   */
  get(infoHashHex: string, count: number): PeerAddress[] {
    const swarm = this.#swarms.get(infoHashHex);
    if (!swarm) return [];
    const cutoff = this.#now() - this.#maxAge;
    const peers: PeerAddress[] = [];
    for (const [key, entry] of swarm) {
      if (entry.at < cutoff) swarm.delete(key);
      else peers.push(entry.peer);
    }
    if (!swarm.size) this.#swarms.delete(infoHashHex);
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [peers[i], peers[j]] = [peers[j], peers[i]];
    }
    return peers.slice(0, count);
  }

  /** Drops peers older than the age limit everywhere. */
  expire(): void {
    const cutoff = this.#now() - this.#maxAge;
    for (const [hash, swarm] of this.#swarms) {
      for (const [key, entry] of swarm) if (entry.at < cutoff) swarm.delete(key);
      if (!swarm.size) this.#swarms.delete(hash);
    }
  }
}
