import { createHash } from "node:crypto";
import type { AgentPeer, AgentSession, BlockRef, MessagingAgent } from "../../agents/agent.ts";
import type { PiecePriorities } from "../../picker/priority.ts";
import type { PieceSelector } from "../../picker/selector.ts";
import type { Bitfield } from "../../util/bitfield.ts";
import { addressKey } from "../../util/address.ts";
import { toHex } from "../../util/bytes.ts";
import { BlockTracker } from "../blocks.ts";
import { PieceRepair } from "../piece_repair.ts";
import { SmartBan } from "../smart_ban.ts";

/** Options of {@linkcode downloadAgent}. */
export interface DownloadAgentOptions {
  /** Which piece to start next. */
  readonly selector: PieceSelector;
  /** Request size. */
  readonly blockSize: number;
  /** Requests in flight to a new peer; grows by one per block up to the peer's limit. */
  readonly initialQueueDepth: number;
  /**
   * Pieces readers wait for (streams): fetched before the selector is asked,
   * taking the place of ordinary requests in a full pipeline.
   */
  readonly priorities?: PiecePriorities;
  /**
   * How long a v2 peer may take to answer for a failed piece's leaf hashes before the next
   * is asked (default 10 000 ms).
   */
  readonly leafHashTimeoutMs?: number;
}

/** Peers asked at once for a block of a critical piece (endgame for one piece). */
const CRITICAL_REQUESTERS = 2;

/**
 * Most free pipeline slots a block's arrival leaves unfilled: the pipeline is refilled once
 * this many (at most a quarter of its depth) are free, so the requests go out together in one
 * socket write instead of one write per block received.
 */
const REFILL_BATCH = 16;

/** What the agent keeps per peer. */
interface PeerDownload {
  /** Requests to keep in flight (slow start; back to 1 when snubbed). */
  depth: number;
  /** The bitfield object counted in the selector's availability. */
  counted: Bitfield;
  /** Pieces the peer has that we still need: interest is `needed > 0`. */
  needed: number;
}

/**
 * Downloading: availability, interest, request pipelining, receiving blocks,
 * endgame and smart bans, over the public agent seam.
 *
 * Keeps each unchoking peer's pipeline full: first blocks of pieces already
 * in progress, then a new piece from the selector, and in endgame (nothing
 * left to start) blocks already requested elsewhere, cancelled on arrival.
 * The depth grows by one per block received (slow start) up to the peer's
 * `reqq`; a snubbing peer's requests are withdrawn and it drops back to one.
 * Interest is exact and kept as a running count per peer.
 *
 * With the fast extension (BEP 6): a peer's suggested pieces are started
 * before the selector's pick, its allowed-fast pieces are requested while it
 * chokes us, a choke leaves our requests in place (the peer rejects or
 * serves each), and a rejected block goes back to be asked of others.
 */
export function downloadAgent(options: DownloadAgentOptions): MessagingAgent {
  const { selector } = options;
  let session!: AgentSession;
  let blocks!: BlockTracker;
  let repair!: PieceRepair;
  const state = new WeakMap<AgentPeer, PeerDownload>();
  const smartBan = new SmartBan((peer) => addressKey(peer.host, peer.listenPort ?? peer.port));
  const eligible = (index: number) => session.needs(index) && !blocks.downloads.has(index);
  let stopPriorities: (() => void) | undefined;

  const countNeeded = (pieces: Bitfield) => {
    let needed = 0;
    for (const index of pieces.indices()) if (session.needs(index)) needed++;
    return needed;
  };

  const stateOf = (peer: AgentPeer): PeerDownload => {
    let peerState = state.get(peer);
    if (!peerState) {
      peerState = { depth: options.initialQueueDepth, counted: peer.pieces, needed: 0 };
      state.set(peer, peerState);
      selector.peerAdded(peer.pieces);
      peerState.needed = countNeeded(peer.pieces);
    }
    return peerState;
  };

  const updateInterest = (peer: AgentPeer) => peer.setInterested(stateOf(peer).needed > 0);

  /** The selector's pick among the pieces the peer suggested (BEP 6), if any. */
  const suggestion = (peer: AgentPeer) =>
    peer.suggested.length === 0
      ? undefined
      : selector.select(peer.pieces, (index) => peer.suggested.includes(index) && eligible(index));

  /** Choked by a fast peer: asks for blocks of its allowed-fast pieces only. */
  const fillAllowedFast = (peer: AgentPeer, limit: number) => {
    const allowed = (index: number) => peer.allowedFast.has(index) && eligible(index);
    for (;;) {
      // Allowed pieces in progress first, then the selector's pick among the others.
      let download = [...peer.allowedFast].map((index) => blocks.downloads.get(index)).find((
        started,
      ) =>
        started && peer.pieces.get(started.piece) && started.free > 0 &&
        (!started.exclusive || (started.owner ?? peer) === peer)
      );
      if (!download) {
        const piece = selector.select(peer.pieces, allowed);
        if (piece === undefined) return;
        download = blocks.start(piece);
      }
      while (peer.outstanding < limit) {
        const key = blocks.claimIn(download);
        if (key === undefined) break;
        if (!peer.request(blocks.refOf(key))) {
          blocks.release(key);
          return;
        }
      }
      if (peer.outstanding >= limit) return;
    }
  };

  const needs = (index: number) => session.needs(index);

  /** A block of an urgent piece this peer has: free ones first, duplicates of critical ones. */
  const claimUrgent = (
    peer: AgentPeer,
    urgent: readonly number[],
    critical: ReadonlySet<number>,
    askedOfPeer: (key: number) => boolean,
  ): number | undefined => {
    for (const piece of urgent) {
      if (!peer.pieces.get(piece)) continue;
      const key = blocks.claimFreeOf(piece, peer);
      if (key !== undefined) return key;
    }
    for (const piece of critical) {
      if (!peer.pieces.get(piece)) continue;
      const key = blocks.claimDuplicateOf(piece, askedOfPeer, CRITICAL_REQUESTERS);
      if (key !== undefined) return key;
    }
    return undefined;
  };

  /**
   * Withdraws the peer's newest request outside `urgent` (the last it would
   * serve), making room for an urgent one; false when there is none.
   */
  const preempt = (peer: AgentPeer, urgent: ReadonlySet<number>): boolean => {
    let newest: BlockRef | undefined;
    for (const request of peer.outstandingRequests()) {
      if (!urgent.has(request.index)) newest = request;
    }
    if (!newest) return false;
    peer.cancel(newest);
    const key = blocks.keyOf(newest.index, newest.begin, newest.length);
    if (key !== undefined) blocks.release(key);
    return true;
  };

  /**
   * Whether a reader waits on a piece this peer could start on now: a critical
   * piece it has with blocks nobody was asked for.
   */
  const starving = (peer: AgentPeer, critical: ReadonlySet<number>): boolean => {
    for (const piece of critical) {
      if (!peer.pieces.get(piece)) continue;
      const download = blocks.downloads.get(piece);
      if (!download) return true;
      if (download.free === 0) continue;
      if (!download.exclusive || (download.owner ?? peer) === peer) return true;
    }
    return false;
  };

  /**
   * Withdraws all of the peer's requests outside `urgent`: a peer serves
   * requests in order, so a reader's blocks asked now would otherwise wait
   * behind the whole pipeline (hundreds of blocks at a slow peer's `reqq`).
   */
  const withdrawOrdinary = (peer: AgentPeer, urgent: ReadonlySet<number>) => {
    for (const request of [...peer.outstandingRequests()]) {
      if (urgent.has(request.index)) continue;
      peer.cancel(request);
      const key = blocks.keyOf(request.index, request.begin, request.length);
      if (key !== undefined) blocks.release(key);
    }
  };

  const fill = (peer: AgentPeer) => {
    if (!peer.amInterested || peer.closed) return;
    const limit = Math.min(stateOf(peer).depth, peer.maxOutstanding);
    if (peer.peerChoking) {
      if (peer.fast && peer.allowedFast.size > 0) fillAllowedFast(peer, limit);
      return;
    }
    const askedOfPeer = (key: number) => {
      const { index, begin } = blocks.refOf(key);
      return peer.requested(index, begin);
    };
    const priorities = options.priorities;
    if (priorities?.active) {
      const urgent = priorities.urgent(needs);
      const critical = priorities.critical(needs);
      const urgentSet = new Set(urgent);
      if (starving(peer, critical)) withdrawOrdinary(peer, urgentSet);
      for (;;) {
        const key = claimUrgent(peer, urgent, critical, askedOfPeer);
        if (key === undefined) break;
        if (peer.outstanding >= limit && !preempt(peer, urgentSet)) {
          blocks.release(key);
          break;
        }
        if (!peer.request(blocks.refOf(key))) {
          blocks.release(key);
          break;
        }
      }
    }
    while (peer.outstanding < limit) {
      let key = blocks.claimFree(peer);
      if (key === undefined) {
        const piece = suggestion(peer) ?? selector.select(peer.pieces, eligible);
        if (piece !== undefined) key = blocks.claimIn(blocks.start(piece));
      }
      key ??= blocks.claimDuplicate(peer.pieces, askedOfPeer);
      if (key === undefined) break;
      if (!peer.request(blocks.refOf(key))) {
        blocks.release(key);
        break;
      }
    }
  };

  /** Withdraws every request of `peer` (cancelling them on the wire when `cancel`). */
  const releaseAll = (peer: AgentPeer, cancel: boolean) => {
    for (const request of [...peer.outstandingRequests()]) {
      const key = blocks.keyOf(request.index, request.begin, request.length);
      if (key !== undefined) blocks.release(key);
      if (cancel) peer.cancel(request);
    }
    blocks.disown(peer);
  };

  /** After a block: refills once a batch of slots is free (see {@linkcode REFILL_BATCH}). */
  const refill = (peer: AgentPeer) => {
    const limit = Math.min(stateOf(peer).depth, peer.maxOutstanding);
    if (limit - peer.outstanding >= Math.max(1, Math.min(REFILL_BATCH, limit >> 2))) fill(peer);
  };

  const fillAll = () => {
    for (const peer of session.peers()) fill(peer);
  };

  return {
    name: "download",
    attach(attached) {
      session = attached;
      blocks = new BlockTracker(session.torrent, options.blockSize);
      repair = new PieceRepair(session.torrent, options.leafHashTimeoutMs ?? 10_000);
      initSelector();
      // A reader opened, moved or sought: its pieces go to the front of every pipeline.
      stopPriorities = options.priorities?.onChange(() => fillAll());
    },
    detach() {
      stopPriorities?.();
    },
    opened(peer) {
      stateOf(peer);
    },
    consumes: {
      bitfield: piecesAnnounced,
      "have-all": piecesAnnounced,
      "have-none": piecesAnnounced,
      "allowed-fast"(peer) {
        fill(peer);
      },
      have(peer, message) {
        const peerState = stateOf(peer);
        selector.peerHave(message.index);
        if (session.needs(message.index)) peerState.needed++;
        updateInterest(peer);
        fill(peer);
      },
      unchoke(peer) {
        fill(peer);
      },
      choke(peer) {
        // The peer dropped our requests (BEP 3): give them to others. With the fast extension
        // they stand until rejected or served (BEP 6).
        if (!peer.fast) releaseAll(peer, false);
      },
      "reject-request"(peer, message) {
        const key = blocks.keyOf(message.index, message.begin, message.length);
        if (key !== undefined) blocks.release(key);
        // Others may take the block now; this peer asks again on its next refill, not at once.
        for (const other of session.peers()) if (other !== peer) fill(other);
      },
      hashes(peer, message) {
        const answer = repair.answer(peer, message);
        if (!answer) return; // not ours (the hashes agent's, or late)
        if ("unproven" in answer) {
          session.strike(
            peer,
            `sent leaf hashes of piece ${answer.piece} that do not lead to its hash`,
          );
          peer.close("BEP 52: leaf hashes that do not lead to the piece's hash");
          return retryRepair(answer.piece);
        }
        repaired(answer.piece, answer.leaves);
      },
      "hash-reject"(peer, message) {
        const piece = repair.rejected(peer, message);
        if (piece !== undefined) retryRepair(piece);
      },
      piece(peer, message) {
        const { index, begin, block } = message;
        const key = blocks.keyOf(index, begin, block.length);
        // A late endgame duplicate, or a block of a piece that verified meanwhile.
        if (key === undefined || blocks.isReceived(key)) return refill(peer);
        const hash = smartBan.shouldHash(index, peer)
          ? toHex(createHash("sha1").update(block).digest())
          : undefined;
        blocks.receive(key, { sender: peer, hash });
        const peerState = stateOf(peer);
        if (peerState.depth < peer.maxOutstanding) peerState.depth++;
        for (const other of session.peers()) {
          if (other !== peer && other.requested(index, begin)) {
            other.cancel({ index, begin, length: block.length });
          }
        }
        session.writeBlock(index, begin, block, peer).then(
          (status) => {
            if (status === "duplicate") blocks.unreceive(key);
          },
          () => blocks.unreceive(key), // The session fails and reports the storage error.
        );
        refill(peer);
      },
    },
    pieceVerified(index) {
      const origins = blocks.finish(index);
      for (const liar of smartBan.verified(index, origins)) {
        session.ban(liar, `sent corrupt blocks of piece ${index}`);
      }
      selector.pieceDone(index);
      for (const peer of session.peers()) {
        if (!peer.pieces.get(index)) continue;
        stateOf(peer).needed--;
        updateInterest(peer);
      }
    },
    pieceFailed(index) {
      // v2: the piece's blocks stay received (nothing refetched) while a v2 peer is asked for
      // its leaf hashes, which tell the bad blocks apart.
      if (repair.start(index, repairCandidates(index))) return;
      refetchWhole(index);
    },
    tick() {
      for (const piece of repair.stalled()) retryRepair(piece);
    },
    wantedChanged() {
      initSelector();
      for (const peer of session.peers()) {
        const peerState = stateOf(peer);
        peerState.counted = peer.pieces;
        peerState.needed = countNeeded(peer.pieces);
        updateInterest(peer);
      }
      fillAll();
    },
    produce(peer) {
      if (peer.snubbed) {
        // Snubbed: its requests go to others and it is asked for one block at a time.
        releaseAll(peer, true);
        stateOf(peer).depth = 1;
      }
      fill(peer);
    },
    disconnected(peer) {
      releaseAll(peer, false);
      const peerState = state.get(peer);
      if (peerState) selector.peerRemoved(peerState.counted);
      state.delete(peer);
    },
  };

  /** A failed piece is fetched again whole: smart ban (after libtorrent's) finds the liars. */
  function refetchWhole(index: number): void {
    const { strike } = smartBan.failed(index, blocks.fail(index));
    for (const peer of strike) {
      session.strike(peer, `sent piece ${index}, which failed the hash check`);
    }
    fillAll();
  }

  /** Asks the next v2 peer for a failed piece's leaves, or refetches it whole. */
  function retryRepair(index: number): void {
    if (!repair.retry(index, repairCandidates(index))) refetchWhole(index);
  }

  /** Peers to ask for a failed piece's leaves: those that sent none of its blocks first. */
  function repairCandidates(index: number): AgentPeer[] {
    const senders = new Set(blocks.downloads.get(index)?.origins.map((origin) => origin?.sender));
    const peers = [...session.peers()];
    return [
      ...peers.filter((peer) => !senders.has(peer)),
      ...peers.filter((peer) => senders.has(peer)),
    ];
  }

  /**
   * A failed piece's proven leaves arrived: its good blocks are kept, only the bad ones are
   * fetched again, and exactly their senders are struck.
   */
  function repaired(index: number, leaves: Uint8Array): void {
    let bad: readonly number[] | undefined;
    try {
      bad = session.keepGoodBlocks(index, leaves);
    } catch {
      bad = undefined;
    }
    if (!bad) return refetchWhole(index);
    const liars = new Set<AgentPeer>();
    for (const origin of blocks.failBlocks(index, bad)) if (origin) liars.add(origin.sender);
    for (const peer of liars) {
      session.strike(peer, `sent corrupt blocks of piece ${index} (BEP 52 leaf hashes)`);
    }
    fillAll();
  }

  /** The peer's pieces were announced (bitfield, `have-all`, `have-none`): recount. */
  function piecesAnnounced(peer: AgentPeer): void {
    const peerState = stateOf(peer);
    selector.peerRemoved(peerState.counted);
    selector.peerAdded(peer.pieces);
    peerState.counted = peer.pieces;
    peerState.needed = countNeeded(peer.pieces);
    updateInterest(peer);
    fill(peer);
  }

  /** (Re)builds the selector's view: availability of connected peers, done pieces. */
  function initSelector(): void {
    const count = session.torrent.pieceCount;
    selector.init(count);
    for (const peer of session.peers()) {
      const peerState = state.get(peer);
      if (peerState) selector.peerAdded(peer.pieces);
    }
    for (let index = 0; index < count; index++) {
      if (!session.needs(index)) selector.pieceDone(index);
    }
  }
}
