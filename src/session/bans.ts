/**
 * Strikes and bans of one torrent, shared by its session and a magnet link's metadata phase.
 */
import type { AgentPeer } from "../agents/agent.ts";
import { addressKey } from "../util/address.ts";
import type { PeerPool } from "./pool.ts";

/** What names a peer for bans and strikes, so that they survive reconnection. */
export type PeerIdentity = (peer: AgentPeer) => string;

/**
 * The identities banned for the rest of a session, and the strikes counted against
 * identities (pieces that failed, bad metadata) on the way to a ban. An identity is the
 * runtime's ban key: an IP address, or IP and listen port where peers share an address.
 */
export class Bans {
  readonly #identity: PeerIdentity;
  readonly #banned = new Set<string>();
  readonly #strikes = new Map<string, number>();

  /** @param identity What a ban is keyed by. */
  constructor(identity: PeerIdentity) {
    this.#identity = identity;
  }

  /** How many identities are banned. */
  get size(): number {
    return this.#banned.size;
  }

  /** Whether `peer`'s identity is banned. */
  has(peer: AgentPeer): boolean {
    return this.#banned.has(this.#identity(peer));
  }

  /** Whether a peer at `host`, or at `key` (its `host:port`), is banned. */
  refuses(host: string, key: string): boolean {
    return this.#banned.has(host) || this.#banned.has(key);
  }

  /** Counts a strike against `peer`'s identity: the strikes it has now. */
  strike(peer: AgentPeer): number {
    const identity = this.#identity(peer);
    const strikes = (this.#strikes.get(identity) ?? 0) + 1;
    this.#strikes.set(identity, strikes);
    return strikes;
  }

  /**
   * Bans `peer`'s identity (calling `announce` the first time): the pool dials it no more,
   * and every connection of that identity among `connected` closes, `peer` last.
   */
  ban(
    peer: AgentPeer,
    reason: string,
    pool: PeerPool,
    connected: Iterable<AgentPeer>,
    announce: () => void,
  ): void {
    const identity = this.#identity(peer);
    if (!this.#banned.has(identity)) {
      this.#banned.add(identity);
      announce();
    }
    pool.exclude(peer.key);
    if (!peer.incoming || peer.listenPort !== undefined) {
      pool.exclude(addressKey(peer.host, peer.listenPort ?? peer.port));
    }
    // Every connection of that identity goes (one peer may hold several).
    for (const other of [...connected]) {
      if (this.#identity(other) === identity) other.close(`banned: ${reason}`);
    }
    if (!peer.closed) peer.close(`banned: ${reason}`);
  }

  /** Bans what `earlier` banned (a magnet link's metadata phase handing over to the download). */
  carryOver(earlier: Bans): void {
    for (const identity of earlier.#banned) this.#banned.add(identity);
  }
}
