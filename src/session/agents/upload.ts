import type { AgentPeer, AgentSession, MessagingAgent } from "../../agents/agent.ts";
import { allowedFastAddress, allowedFastSet } from "../../wire/allowed_fast.ts";

/** Bytes of a `piece` frame besides its block: length prefix, id, index, begin. */
const PIECE_FRAME_OVERHEAD = 13;

/** Options of {@linkcode uploadAgent}. */
export interface UploadAgentOptions {
  /**
   * Most block bytes sent to one peer and not yet taken by its socket; past
   * this the agent waits for the socket before reading more for that peer.
   */
  readonly maxQueuedBytes: number;
  /**
   * `k` of BEP 6: allowed-fast pieces offered to a fast peer with fewer
   * pieces than this when it becomes interested. 0: none. Default 10.
   */
  readonly allowedFastSetSize?: number;
}

/**
 * Uploading: answers the requests of peers we unchoked, one peer at a time
 * per loop, reading blocks through the session (copies counted against the
 * runtime's upload memory) and waiting for the socket whenever
 * `maxQueuedBytes` are in flight, so a slow or stalled reader costs at most
 * that much (the connection's write timeout closes a reader that stalls).
 *
 * With the fast extension (BEP 6) an interested peer we choke while it has
 * fewer than `allowedFastSetSize` pieces is offered its allowed-fast set
 * (drawn as libtorrent draws it, from the address masked to /24 as the BEP
 * says, without the pieces it has or we lack); those pieces are served even
 * while we choke it, and a request taken but not served is rejected.
 *
 * Each block first takes its length from the session's `uploadLimiter`.
 */
export function uploadAgent(options: UploadAgentOptions): MessagingAgent {
  let session!: AgentSession;
  const serving = new WeakSet<AgentPeer>();
  const offered = new WeakSet<AgentPeer>();
  const allowedFastSetSize = options.allowedFastSetSize ?? 10;

  /** Offers an interested fast peer we choke, with few pieces, its allowed-fast set, once. */
  const offerAllowedFast = (peer: AgentPeer) => {
    if (!peer.fast || !peer.peerInterested || !peer.amChoking || peer.closed) return;
    if (offered.has(peer) || !session.canServe) return;
    offered.add(peer);
    const address = allowedFastAddress(peer.host);
    if (!address || peer.pieces.count() >= allowedFastSetSize) return;
    const { torrent, verified } = session;
    const set = allowedFastSet({
      address,
      // The connection's hash, as libtorrent: a hybrid's v2 swarm draws from the v2 hash.
      infoHash: peer.infoHash ?? torrent.infoHash,
      pieceCount: torrent.pieceCount,
      size: allowedFastSetSize,
      skip: (index) => peer.pieces.get(index) || !verified.get(index),
    });
    for (const index of set) peer.allowFast(index);
  };

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
    /**
     * While this loop waits for upload memory, what its socket takes meanwhile goes back at
     * once: every loop keeping its sent blocks while waiting for memory that the others keep
     * stalled a seeder with 15 busy peers (their up to 128 KiB each against 1 MiB in all).
     * One watch at a time, so a socket that never drains costs one pending promise.
     */
    let watching = false;
    const releaseOnDrain = () => {
      if (watching || !held.length) return;
      watching = true;
      drained(peer, 0).then((open) => {
        watching = false;
        if (open) releaseWritten(peer.queuedBytes);
      });
    };
    try {
      // A choked peer's queue holds only requests for pieces we allowed it (BEP 6).
      while (!peer.closed) {
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
          if (peer.closed) break;
          if (peer.amChoking && !peer.grantedFast.has(request.index)) {
            peer.reject(request); // choked while waiting: not served
            continue;
          }
        }
        // Most blocks are in memory already (read with their neighbours): no promise then.
        let read = session.readBlockNow(request);
        if (!read) {
          releaseWritten(peer.queuedBytes);
          releaseOnDrain();
          read = await session.readBlock(request);
        }
        const { bytes, release } = read;
        if (peer.closed || peer.amChoking && !peer.grantedFast.has(request.index)) {
          // Closed, or choked while the block was read: not served (rejected with the fast
          // extension). The block was never queued, so it goes back now.
          release();
          if (peer.closed) break;
          peer.reject(request);
          continue;
        }
        held.push({ release, size: request.length + PIECE_FRAME_OVERHEAD });
        heldBytes += request.length + PIECE_FRAME_OVERHEAD;
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
      interested(peer) {
        // Once every agent saw the message: the choker may unchoke the peer at once.
        queueMicrotask(() => offerAllowedFast(peer));
      },
    },
    produce(peer) {
      // A peer choked later (it lost its slot) is offered the set then.
      offerAllowedFast(peer);
    },
  };
}
