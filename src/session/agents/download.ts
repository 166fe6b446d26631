import type { AgentPeer, MessagingAgent } from "../../agents/agent.ts";
import type { PieceMessage } from "../../wire/messages.ts";
import type { SessionCore } from "../core.ts";
import type { Peer } from "../peer.ts";

/**
 * Downloading: interest, request pipelining, receiving blocks, endgame.
 *
 * Keeps each unchoking peer's pipeline full: first blocks of pieces already
 * in progress, then a new piece from the selector, and in endgame (nothing
 * left to start) blocks already requested elsewhere, cancelled on arrival.
 * The queue depth grows by one per block received (slow start) up to the
 * peer's `reqq` and our cap; a snubbing peer drops back to one request.
 */
export function downloadAgent(
  core: SessionCore,
  onBlock: (peer: Peer, message: PieceMessage) => void,
): MessagingAgent {
  const peerOf = (peer: AgentPeer) => peer as Peer;
  const updateInterest = (peer: Peer) => updateInterestIn(core, peer);

  return {
    name: "download",
    consumes: {
      bitfield(agentPeer) {
        const peer = peerOf(agentPeer);
        updateInterest(peer);
        fillRequests(core, peer);
      },
      have(agentPeer, message) {
        const peer = peerOf(agentPeer);
        if (!peer.amInterested && core.needs(message.index)) updateInterest(peer);
        fillRequests(core, peer);
      },
      unchoke(agentPeer) {
        const peer = peerOf(agentPeer);
        peer.peerChoking = false;
        peer.lastBlockAt = Date.now();
        fillRequests(core, peer);
      },
      choke(agentPeer) {
        const peer = peerOf(agentPeer);
        peer.peerChoking = true;
        releaseAll(core, peer);
      },
      piece(agentPeer, message) {
        onBlock(peerOf(agentPeer), message);
      },
    },
    produce(agentPeer) {
      const peer = peerOf(agentPeer);
      if (peer.amInterested && !core.needsAnyOf(peer.pieces)) updateInterest(peer);
      fillRequests(core, peer);
    },
    disconnected(agentPeer) {
      releaseAll(core, peerOf(agentPeer));
    },
  };
}

/** Tells `peer` whether we are interested, when that changed: it has a piece we still need. */
export function updateInterestIn(core: SessionCore, peer: Peer): void {
  const interested = core.needsAnyOf(peer.pieces);
  if (interested === peer.amInterested) return;
  peer.amInterested = interested;
  peer.send({ type: interested ? "interested" : "not-interested" });
}

/** Gives every outstanding request of `peer` back to the pool. */
export function releaseAll(core: SessionCore, peer: Peer): void {
  for (const key of peer.outstanding.keys()) core.blocks.release(key);
  peer.outstanding.clear();
}

/** Sends requests to `peer` until its pipeline is full or nothing is left to ask. */
export function fillRequests(core: SessionCore, peer: Peer): void {
  if (peer.peerChoking || !peer.amInterested || peer.closed || !core.running) return;
  const { blocks, selector } = core;
  const limit = Math.min(peer.queueDepth, peer.maxRequests);
  const eligible = (index: number) => core.needs(index) && !blocks.downloads.has(index);
  const askedOfPeer = (key: number) => peer.outstanding.has(key);
  const now = Date.now();
  while (peer.outstanding.size < limit) {
    let key = blocks.claimFree(peer.pieces);
    if (key === undefined) {
      const piece = selector.select(peer.pieces, eligible);
      if (piece !== undefined) key = blocks.claimIn(blocks.start(piece));
    }
    key ??= blocks.claimDuplicate(peer.pieces, askedOfPeer);
    if (key === undefined) break;
    peer.outstanding.set(key, now);
    const { piece, offset, length } = blocks.refOf(key);
    peer.send({ type: "request", index: piece, begin: offset, length });
  }
}
