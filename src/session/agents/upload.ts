import type { AgentPeer, AgentSession, MessagingAgent } from "../../agents/agent.ts";

/** Bytes of a `piece` frame besides its block: length prefix, id, index, begin. */
const PIECE_FRAME_OVERHEAD = 13;

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
 * Each block first takes its length from the session's `uploadLimiter`.
 */
export function uploadAgent(options: UploadAgentOptions): MessagingAgent {
  let session!: AgentSession;
  const serving = new WeakSet<AgentPeer>();

  /** Waits until at most `lowWaterMark` bytes wait for the socket; false when it closed. */
  const drained = (peer: AgentPeer, lowWaterMark: number) =>
    peer.flushed(lowWaterMark).then(() => true, () => false);

  const serve = async (peer: AgentPeer) => {
    serving.add(peer);
    /** Blocks sent and maybe not written yet, oldest first, with their frame sizes. */
    const held: { readonly release: () => void; readonly size: number }[] = [];
    let heldBytes = 0;
    /** Gives back the blocks the socket took: the queue is FIFO, so all but the newest `queued` bytes. */
    const releaseWritten = (queued: number) => {
      while (held.length && heldBytes - held[0].size >= queued) {
        const block = held.shift()!;
        heldBytes -= block.size;
        block.release();
      }
    };
    try {
      while (!peer.closed && !peer.amChoking) {
        const request = peer.nextPeerRequest();
        if (!request) {
          if (!held.length || !await drained(peer, 0)) break;
          releaseWritten(0);
          // Requests that came while waiting are served by this loop too.
          continue;
        }
        // Over the upload limit, wait for this peer's turn (FIFO among peers) before reading
        // the block: what waits is a request, not a buffer.
        const throttled = session.uploadLimiter.take(request.length);
        if (throttled) {
          releaseWritten(peer.queuedBytes);
          await throttled;
          if (peer.closed || peer.amChoking) break;
        }
        // Most blocks are in memory already (read with their neighbours): no promise then.
        const { bytes, release } = session.readBlockNow(request) ??
          await session.readBlock(request);
        held.push({ release, size: request.length + PIECE_FRAME_OVERHEAD });
        heldBytes += request.length + PIECE_FRAME_OVERHEAD;
        if (peer.closed || peer.amChoking) break;
        peer.send({ type: "piece", index: request.index, begin: request.begin, block: bytes });
        peer.countUpload(request.length);
        if (heldBytes >= options.maxQueuedBytes) {
          // Keep the socket fed: wait for half to go, not all of it.
          if (!await drained(peer, options.maxQueuedBytes / 2)) break;
          releaseWritten(peer.queuedBytes);
        }
      }
    } catch (error) {
      peer.close(`upload failed: ${(error as Error).message}`);
    } finally {
      // Queued frames still point into these buffers: they go back only once written (or
      // never will be: a closed connection writes nothing more).
      if (held.length && !peer.closed) await drained(peer, 0);
      releaseWritten(0);
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
