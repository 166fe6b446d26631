import type { AgentPeer, AgentSession, MessagingAgent } from "../../agents/agent.ts";

/** Options of {@linkcode chokerAgent}. */
export interface ChokerOptions {
  /** Peers unchoked by rate (plus one optimistic). */
  readonly uploadSlots: number;
  /** Milliseconds between choking rounds. */
  readonly chokeIntervalMs: number;
  /** Milliseconds between optimistic unchoke rotations. */
  readonly optimisticIntervalMs: number;
  /** Picks the optimistic unchoke among `count` candidates. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Choking (tit-for-tat): every round, the interested peers that give us the
 * most (while leeching) or take the most (while seeding) are unchoked, up to
 * the upload slots, plus one optimistic unchoke rotated less often so that
 * new peers get a chance. A newly interested peer is unchoked at once when a
 * slot is free. Nothing is unchoked when the session cannot serve (write-only).
 *
 * A peer that stopped reading (bytes wait for its socket and none went out
 * for the rate window) holds no slot: it is choked at the next round, or at
 * once when a newly interested peer needs its slot.
 */
export function chokerAgent(options: ChokerOptions): MessagingAgent {
  const random = options.random ?? Math.random;
  let session!: AgentSession;
  let lastRound = 0;
  let lastOptimistic = 0;
  let optimistic: AgentPeer | undefined;

  /** Not taking what we send: its socket holds our bytes and nothing went out lately. */
  const stalled = (peer: AgentPeer) => peer.queuedBytes > 0 && peer.uploadRate === 0;

  const round = (now: number) => {
    lastRound = now;
    const peers = [...session.peers()];
    const interested = peers.filter((peer) => peer.peerInterested && !stalled(peer));
    const seeding = session.complete;
    interested.sort((a, b) =>
      seeding ? b.uploadRate - a.uploadRate : b.downloadRate - a.downloadRate
    );
    const chosen = new Set(interested.slice(0, options.uploadSlots));
    if (
      now - lastOptimistic >= options.optimisticIntervalMs || !optimistic || optimistic.closed ||
      !optimistic.peerInterested || chosen.has(optimistic)
    ) {
      const others = interested.filter((peer) => !chosen.has(peer));
      optimistic = others.length ? others[Math.floor(random() * others.length)] : undefined;
      lastOptimistic = now;
    }
    if (optimistic) chosen.add(optimistic);
    for (const peer of peers) {
      if (chosen.has(peer) && session.canServe) peer.unchoke();
      else peer.choke();
    }
  };

  const unchokedCount = () => {
    let count = 0;
    for (const peer of session.peers()) if (!peer.amChoking) count++;
    return count;
  };

  return {
    name: "choker",
    attach(attached) {
      session = attached;
    },
    consumes: {
      interested(peer) {
        if (!session.canServe || !peer.amChoking) return;
        if (unchokedCount() >= options.uploadSlots + 1) {
          // A slot held by a peer that stopped reading goes to the newcomer.
          const holder = [...session.peers()].find((other) => !other.amChoking && stalled(other));
          if (!holder) return;
          holder.choke();
        }
        peer.unchoke();
      },
      "not-interested"(peer) {
        peer.choke();
      },
    },
    tick() {
      const now = Date.now();
      if (now - lastRound >= options.chokeIntervalMs) round(now);
    },
  };
}
