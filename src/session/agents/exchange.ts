import type { AgentSession, MessagingAgent } from "../../agents/agent.ts";

/**
 * Piece exchange (BEP 3), our side of it: sends our bitfield when a peer
 * connects and `have` to every peer when a piece verifies. (What peers
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
      if (!session.verified.hasNone()) {
        peer.send({ type: "bitfield", bitfield: session.verified.toBytes() });
      }
    },
    pieceVerified(index) {
      for (const peer of session.peers()) peer.send({ type: "have", index });
    },
  };
}
