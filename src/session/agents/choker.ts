import type { AgentPeer, AgentSession, MessagingAgent } from "../../agents/agent.ts";

/** An unchoked peer that took nothing for this long since its unchoke gives its slot up. */
export const IDLE_AFTER_MS = 10_000;

/** Options of {@linkcode chokerAgent}. */
export interface ChokerOptions {
  /** Peers unchoked by rate (plus one optimistic) while downloading. */
  readonly uploadSlots: number;
  /**
   * Peers unchoked by rate (plus one optimistic) while seeding, when tit-for-tat has nothing
   * to reward: every peer that uses its slot is served, up to this. Default `4 * uploadSlots`.
   */
  readonly seedSlots?: number;
  /** Milliseconds between choking rounds. */
  readonly chokeIntervalMs: number;
  /** Milliseconds between optimistic unchoke rotations. */
  readonly optimisticIntervalMs: number;
  /** Picks the optimistic unchoke among `count` candidates. Default `Math.random`. */
  readonly random?: () => number;
  /** The time in ms. Default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * Choking (tit-for-tat): every round, the interested peers that give us the
 * most (while leeching, up to `uploadSlots`) or take the most (while seeding,
 * up to `seedSlots`: nothing to reward then, so more peers are served) are unchoked, plus one optimistic unchoke rotated less often so that
 * new peers get a chance. A newly interested peer is unchoked at once when a
 * slot is free. Nothing is unchoked when the session cannot serve (write-only).
 *
 * A slot is for a peer that uses it. One that stopped reading (bytes wait for
 * its socket and none went out for the rate window), or that took nothing
 * for {@linkcode IDLE_AFTER_MS} since it was unchoked, is choked at the next
 * round, or at once when a newly interested peer needs its slot. Among peers
 * with equal rates, the one unchoked longest ago goes first, so idle slots
 * rotate through everyone.
 */
export function chokerAgent(options: ChokerOptions): MessagingAgent {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  let session!: AgentSession;
  let lastRound = 0;
  let lastOptimistic = 0;
  let optimistic: AgentPeer | undefined;
  /** When we last unchoked each peer. */
  const unchokedAt = new WeakMap<AgentPeer, number>();

  /** Not using its slot: it stopped reading, or took nothing for a while since its unchoke. */
  const wasting = (peer: AgentPeer, now: number) =>
    peer.uploadRate === 0 &&
    (peer.queuedBytes > 0 ||
      !peer.amChoking && now - (unchokedAt.get(peer) ?? now) >= IDLE_AFTER_MS);

  /** Regular slots now: seeding has no tit-for-tat to reward, so it serves more peers. */
  const slots = () =>
    session.complete ? options.seedSlots ?? 4 * options.uploadSlots : options.uploadSlots;

  const unchoke = (peer: AgentPeer, now: number) => {
    if (!peer.amChoking) return;
    unchokedAt.set(peer, now);
    peer.unchoke();
  };

  const round = (now: number) => {
    lastRound = now;
    const peers = [...session.peers()];
    const interested = peers.filter((peer) => peer.peerInterested && !wasting(peer, now));
    const seeding = session.complete;
    const rate = (peer: AgentPeer) => seeding ? peer.uploadRate : peer.downloadRate;
    interested.sort((a, b) =>
      rate(b) - rate(a) || (unchokedAt.get(a) ?? 0) - (unchokedAt.get(b) ?? 0)
    );
    const chosen = new Set(interested.slice(0, slots()));
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
      if (chosen.has(peer) && session.canServe) unchoke(peer, now);
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
        const now = clock();
        if (unchokedCount() >= slots() + 1) {
          // A slot held by a peer that does not use it goes to the newcomer.
          const holder = [...session.peers()].find((other) =>
            !other.amChoking && wasting(other, now)
          );
          if (!holder) return;
          holder.choke();
        }
        unchoke(peer, now);
      },
      "not-interested"(peer) {
        peer.choke();
      },
    },
    tick() {
      const now = clock();
      if (now - lastRound >= options.chokeIntervalMs) round(now);
    },
  };
}
