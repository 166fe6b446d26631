import type { AgentPeer } from "../agents/agent.ts";
import type { BlockOrigin } from "./blocks.ts";

/** What a failed piece tells about its senders. */
export interface FailureVerdict {
  /** Peers to strike now: the only sender of the failed piece. */
  readonly strike: readonly AgentPeer[];
}

/** Most failed pieces whose block hashes are remembered at once. */
const MAX_RECORDS = 256;
/** Most suspect identities remembered (the oldest are forgotten first). */
const MAX_SUSPECTS = 1024;

/**
 * Smart ban (after libtorrent's): when a piece that several peers sent fails
 * its hash check, nobody is blamed yet. What each sender sent for each block
 * is remembered (as a SHA-1 of the block), the piece is fetched again, and
 * when it verifies, exactly the peers whose blocks differ from the good ones
 * are proven to have sent corrupt data. A piece with one sender blames that
 * sender at once.
 *
 * Hashing every block would cost a quarter of a core at full speed, so a
 * block is hashed only when it matters: its piece failed before, or its
 * sender was among the senders of a failed piece whose blocks had no hashes
 * (a suspect).
 */
export class SmartBan {
  /** Failed piece -> block -> sender -> hash of what it sent. */
  readonly #records = new Map<number, Map<number, Map<AgentPeer, string>>>();
  readonly #suspects = new WeakSet<AgentPeer>();
  /** Suspects by identity, so a reconnecting peer stays one. */
  readonly #suspectKeys = new Set<string>();
  readonly #identity: (peer: AgentPeer) => string;

  /** @param identity What names a peer across reconnections (the ban key). */
  constructor(identity: (peer: AgentPeer) => string) {
    this.#identity = identity;
  }

  /** Whether a block of `piece` from `sender` should be hashed on arrival. */
  shouldHash(piece: number, sender: AgentPeer): boolean {
    return this.#records.has(piece) || this.isSuspect(sender);
  }

  /** Whether `peer` is under suspicion (itself, or another connection of its identity). */
  isSuspect(peer: AgentPeer): boolean {
    if (this.#suspects.has(peer)) return true;
    // Called for every block: no identity string is built while nobody is suspect.
    if (this.#suspectKeys.size === 0 || !this.#suspectKeys.has(this.#identity(peer))) return false;
    this.#suspects.add(peer);
    return true;
  }

  /**
   * Piece `piece` failed with these block origins. A single sender is to be
   * struck; several are remembered (or become suspects where unhashed).
   */
  failed(piece: number, origins: readonly (BlockOrigin | undefined)[]): FailureVerdict {
    const senders = new Set<AgentPeer>();
    for (const origin of origins) if (origin) senders.add(origin.sender);
    if (senders.size === 1) return { strike: [...senders] };
    let record = this.#records.get(piece);
    if (!record) {
      if (this.#records.size >= MAX_RECORDS) {
        this.#records.delete(this.#records.keys().next().value!);
      }
      this.#records.set(piece, record = new Map());
    }
    origins.forEach((origin, block) => {
      if (!origin) return;
      if (origin.hash === undefined) {
        this.#suspects.add(origin.sender);
        if (this.#suspectKeys.size >= MAX_SUSPECTS) {
          this.#suspectKeys.delete(this.#suspectKeys.values().next().value!);
        }
        this.#suspectKeys.add(this.#identity(origin.sender));
        return;
      }
      let senders = record.get(block);
      if (!senders) record.set(block, senders = new Map());
      senders.set(origin.sender, origin.hash);
    });
    return { strike: [] };
  }

  /**
   * Piece `piece` verified with these block origins (hashed, since the piece
   * was recorded). Returns the peers proven to have sent corrupt blocks of it.
   */
  verified(piece: number, origins: readonly (BlockOrigin | undefined)[]): AgentPeer[] {
    const record = this.#records.get(piece);
    if (!record) return [];
    this.#records.delete(piece);
    const proven = new Set<AgentPeer>();
    for (const [block, senders] of record) {
      const good = origins[block]?.hash;
      if (good === undefined) continue;
      for (const [sender, hash] of senders) if (hash !== good) proven.add(sender);
    }
    return [...proven];
  }
}
