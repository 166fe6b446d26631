import type { AgentPeer, MessagingAgent } from "../../agents/agent.ts";
import { Bitfield } from "../../util/bitfield.ts";
import type { SessionCore } from "../core.ts";
import type { Peer } from "../peer.ts";

/**
 * Piece exchange (BEP 3): sends our bitfield on connect, tracks the peer's
 * pieces from its bitfield and haves, keeps the selector's availability
 * current, and tells every peer `have` when a piece verifies.
 */
export function pieceExchangeAgent(core: SessionCore): MessagingAgent {
  const peerOf = (peer: AgentPeer) => peer as Peer;
  return {
    name: "piece-exchange",
    opened(agentPeer) {
      const peer = peerOf(agentPeer);
      core.selector.peerAdded(peer.pieces);
      if (!core.verified.hasNone()) {
        peer.send({ type: "bitfield", bitfield: core.verified.toBytes() });
      }
    },
    consumes: {
      bitfield(agentPeer, message) {
        const peer = peerOf(agentPeer);
        // BEP 3 puts the bitfield first, but some clients (aria2) send one later: the
        // latest bitfield simply replaces what we knew.
        let pieces: Bitfield;
        try {
          pieces = Bitfield.fromBytes(message.bitfield, core.torrent.pieceCount);
        } catch (error) {
          return peer.close(`bad bitfield: ${(error as Error).message}`);
        }
        core.selector.peerRemoved(peer.pieces);
        peer.pieces = pieces;
        core.selector.peerAdded(pieces);
      },
      have(agentPeer, message) {
        const peer = peerOf(agentPeer);
        if (message.index >= core.torrent.pieceCount) return peer.close("have out of range");
        if (peer.pieces.get(message.index)) return;
        peer.pieces.set(message.index);
        core.selector.peerHave(message.index);
      },
    },
    disconnected(agentPeer) {
      core.selector.peerRemoved(peerOf(agentPeer).pieces);
    },
  };
}
