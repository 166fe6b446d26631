import type { AgentPeer, AgentSession, MessagingAgent } from "../../agents/agent.ts";

/** Options of {@linkcode uploadAgent}. */
export interface UploadAgentOptions {
  /**
   * Most block bytes sent to one peer and not yet taken by its socket; past
   * this the agent waits for the socket before reading more for that peer.
   */
  readonly maxQueuedBytes: number;
}

/**
 * Uploading: answers the requests of peers we unchoked, one peer at a time
 * per loop, reading blocks through the session (copies counted against the
 * runtime's upload memory) and waiting for the socket whenever
 * `maxQueuedBytes` are in flight, so a slow or stalled reader costs at most
 * that much (the connection's write timeout closes a reader that stalls).
 */
export function uploadAgent(options: UploadAgentOptions): MessagingAgent {
  let session!: AgentSession;
  const serving = new WeakSet<AgentPeer>();

  /** Waits for the peer's socket to take what was sent; false when the connection closed. */
  const drained = (peer: AgentPeer) => peer.flushed().then(() => true, () => false);

  const serve = async (peer: AgentPeer) => {
    serving.add(peer);
    const held: (() => void)[] = [];
    let heldBytes = 0;
    const releaseHeld = () => {
      for (const release of held.splice(0)) release();
      heldBytes = 0;
    };
    try {
      while (!peer.closed && !peer.amChoking) {
        const request = peer.nextPeerRequest();
        if (!request) {
          if (!held.length || !await drained(peer)) break;
          releaseHeld();
          // Requests that came while waiting are served by this loop too.
          continue;
        }
        const { bytes, release } = await session.readBlock(request);
        held.push(release);
        if (peer.closed || peer.amChoking) break;
        peer.send({ type: "piece", index: request.index, begin: request.begin, block: bytes });
        peer.countUpload(request.length);
        heldBytes += request.length;
        if (heldBytes >= options.maxQueuedBytes) {
          if (!await drained(peer)) break;
          releaseHeld();
        }
      }
    } catch (error) {
      peer.close(`upload failed: ${(error as Error).message}`);
    } finally {
      releaseHeld();
      serving.delete(peer);
    }
  };

  return {
    name: "upload",
    attach(attached) {
      session = attached;
    },
    consumes: {
      request(peer) {
        if (!serving.has(peer)) void serve(peer);
      },
    },
  };
}
