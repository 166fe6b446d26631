import type { AgentPeer, MessagingAgent } from "../../agents/agent.ts";
import type { SessionCore } from "../core.ts";
import type { Peer } from "../peer.ts";
import { ReadCache } from "../read_cache.ts";

/** Queued requests whose data is fetched ahead of sending. */
const READ_AHEAD = 32;

/**
 * Uploading: queues the requests of peers we unchoked and serves them from
 * storage one at a time per peer, waiting for the socket to accept each
 * block (back-pressure), so a slow peer never makes us buffer its backlog.
 */
export function uploadAgent(core: SessionCore): MessagingAgent {
  const peerOf = (peer: AgentPeer) => peer as Peer;
  const cache = new ReadCache(core.store);

  const serve = async (peer: Peer) => {
    peer.uploading = true;
    try {
      while (peer.uploadQueue.length && !peer.closed && !peer.amChoking && core.running) {
        const { index, begin, length } = peer.uploadQueue.shift()!;
        const reading = cache.read(index, begin, length);
        // Start reading what comes next while this block waits: the socket never waits on disk.
        const ahead = Math.min(peer.uploadQueue.length, READ_AHEAD);
        for (let i = 0; i < ahead; i++) {
          const next = peer.uploadQueue[i];
          if (next.index !== index) cache.prefetch(next.index, next.begin);
        }
        const block = await reading;
        if (peer.closed || peer.amChoking) break;
        await peer.sendAndWait({ type: "piece", index, begin, block });
        peer.upload.add(length);
        core.uploadMeter.add(length);
      }
    } catch (error) {
      peer.close(`upload failed: ${(error as Error).message}`);
    } finally {
      peer.uploading = false;
    }
  };

  return {
    name: "upload",
    detach() {
      cache.clear();
    },
    consumes: {
      interested(agentPeer) {
        peerOf(agentPeer).peerInterested = true;
      },
      "not-interested"(agentPeer) {
        peerOf(agentPeer).peerInterested = false;
      },
      request(agentPeer, message) {
        const peer = peerOf(agentPeer);
        // A choked peer's requests are void (BEP 3); so are requests for pieces we lack.
        if (peer.amChoking || !core.verified.get(message.index)) return;
        if (peer.uploadQueue.length >= core.config.maxUploadQueue) return;
        peer.uploadQueue.push({
          index: message.index,
          begin: message.begin,
          length: message.length,
        });
        if (!peer.uploading) void serve(peer);
      },
      cancel(agentPeer, message) {
        const queue = peerOf(agentPeer).uploadQueue;
        const at = queue.findIndex((request) =>
          request.index === message.index && request.begin === message.begin &&
          request.length === message.length
        );
        if (at >= 0) queue.splice(at, 1);
      },
    },
  };
}
