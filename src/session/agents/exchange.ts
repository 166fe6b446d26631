import type { AgentSession, MessagingAgent } from "../../agents/agent.ts";

/**
 * Piece exchange (BEP 3), our side of it: sends our bitfield when a peer
 * connects (with the fast extension, BEP 6: `have-all` or `have-none` when
 * we have every piece or none) and `have` to every peer when a piece verifies. (What peers
 * announce is applied by the peer itself; availability is the download agent's.)
 */
export function pieceExchangeAgent(): MessagingAgent {
  let session!: AgentSession;
  return {
    name: "piece-exchange",
    attach(attached) {
      session = attached;
    },
    opened(peer) {
      const { verified } = session;
      if (peer.fast && verified.hasAll()) peer.send({ type: "have-all" });
      else if (peer.fast && verified.hasNone()) peer.send({ type: "have-none" });
      else if (!verified.hasNone()) peer.send({ type: "bitfield", bitfield: verified.toBytes() });
    },
    pieceVerified(index) {
      for (const peer of session.peers()) peer.send({ type: "have", index });
    },
  };
}
