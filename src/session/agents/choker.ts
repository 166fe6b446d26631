import type { AgentSession, MessagingAgent } from "../../agents/agent.ts";
import type { SessionCore } from "../core.ts";
import type { Peer } from "../peer.ts";

/**
 * Choking (tit-for-tat): every round, the interested peers that give us the
 * most (while leeching) or take the most (while seeding) are unchoked, up to
 * the upload slots, plus one optimistic unchoke rotated less often so that
 * new peers get a chance. A newly interested peer is unchoked at once when a
 * slot is free.
 */
export function chokerAgent(core: SessionCore): MessagingAgent {
  let lastRound = 0;
  let lastOptimistic = 0;
  let optimistic: Peer | undefined;

  const setChoked = (peer: Peer, choked: boolean) => {
    // Storage we cannot read from has nothing to serve: never unchoke.
    if (!choked && !core.store.canServe) return;
    if (peer.amChoking === choked) return;
    peer.amChoking = choked;
    if (choked) peer.uploadQueue.length = 0;
    peer.send({ type: choked ? "choke" : "unchoke" });
  };

  const round = (now: number) => {
    lastRound = now;
    const interested = [...core.peerMap.values()].filter((peer) => peer.peerInterested);
    const seeding = core.completed;
    interested.sort((a, b) =>
      seeding
        ? b.upload.rate(now) - a.upload.rate(now)
        : b.download.rate(now) - a.download.rate(now)
    );
    const chosen = new Set(interested.slice(0, core.config.uploadSlots));
    if (
      now - lastOptimistic >= core.config.optimisticIntervalMs || !optimistic || optimistic.closed
    ) {
      const others = interested.filter((peer) => !chosen.has(peer));
      optimistic = others.length ? others[Math.floor(Math.random() * others.length)] : undefined;
      lastOptimistic = now;
    }
    if (optimistic) chosen.add(optimistic);
    for (const peer of core.peerMap.values()) setChoked(peer, !chosen.has(peer));
  };

  const unchokedCount = () => {
    let count = 0;
    for (const peer of core.peerMap.values()) if (!peer.amChoking) count++;
    return count;
  };

  return {
    name: "choker",
    consumes: {
      interested(agentPeer) {
        const peer = agentPeer as Peer;
        if (peer.amChoking && unchokedCount() < core.config.uploadSlots + 1) setChoked(peer, false);
      },
      "not-interested"(agentPeer) {
        const peer = agentPeer as Peer;
        if (!peer.amChoking) setChoked(peer, true);
      },
    },
    tick(_session: AgentSession) {
      const now = Date.now();
      if (now - lastRound >= core.config.chokeIntervalMs) round(now);
    },
  };
}
