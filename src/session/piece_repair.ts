import type { AgentPeer } from "../agents/agent.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { toHex } from "../util/bytes.ts";
import type { HashesMessage, HashRequestMessage } from "../wire/messages.ts";
import { leavesProven, type PieceLeafRange, PieceLeaves } from "./piece_leaves.ts";

/** What an answer to a repair request says. */
export type RepairAnswer =
  | { readonly piece: number; readonly leaves: Uint8Array }
  | { readonly piece: number; readonly unproven: true };

/** One failed piece waiting for its leaf hashes. */
interface Pending {
  readonly range: PieceLeafRange;
  readonly request: HashRequestMessage;
  /** Peers that timed out, dropped or lied: not asked again for it. */
  readonly refused: WeakSet<AgentPeer>;
  /** Peers that rejected it, and when: asked again after {@linkcode REJECT_BACKOFF_MS}. */
  readonly rejectedAt: WeakMap<AgentPeer, number>;
  /** When the piece failed: after the timeout, nobody answering means giving up. */
  readonly startedAt: number;
  askedOf: AgentPeer | undefined;
  askedAt: number;
}

/**
 * A peer that rejected a request is asked again after this (libtorrent waits 3 s): a busy
 * seeder rejects while much waits for its socket.
 */
const REJECT_BACKOFF_MS = 3000;

/**
 * The download agent's bookkeeping for repairing failed v2 pieces (as libtorrent's
 * `verify_block_hashes`): a failed piece's leaf hashes are asked of one v2 peer that has it
 * (`hash request`, base layer 0, the piece's leaves, no proof: they must lead to the
 * piece-layer entry we trust), one peer at a time; a reject, a timeout, a drop or an answer
 * that does not lead there moves the request to the next peer, and with none left the
 * caller falls back to refetching the whole piece.
 */
export class PieceRepair {
  readonly #leaves: PieceLeaves;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #pending = new Map<number, Pending>();

  /**
   * @param torrent The torrent.
   * @param timeoutMs How long a peer may take to answer.
   * @param now The clock.
   */
  constructor(torrent: Torrent, timeoutMs: number, now: () => number = Date.now) {
    this.#leaves = new PieceLeaves(torrent);
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** Whether piece `piece` waits for its leaf hashes. */
  has(piece: number): boolean {
    return this.#pending.has(piece);
  }

  /**
   * Piece `piece` failed: asks a v2 peer among `peers` for its leaves. False when the piece
   * cannot be repaired this way (v1, one leaf) or no peer can be asked.
   */
  start(piece: number, peers: Iterable<AgentPeer>): boolean {
    const range = this.#leaves.rangeOf(piece);
    if (!range) return false;
    const pending: Pending = {
      range,
      request: {
        type: "hash-request",
        piecesRoot: range.root,
        baseLayer: 0,
        index: range.index,
        length: range.length,
        proofLayers: 0,
      },
      refused: new WeakSet(),
      rejectedAt: new WeakMap(),
      startedAt: this.#now(),
      askedOf: undefined,
      askedAt: 0,
    };
    this.#pending.set(piece, pending);
    return this.#ask(pending, peers);
  }

  /** The peer answered: the piece's proven leaves, or that they were not proven. */
  answer(peer: AgentPeer, message: HashesMessage): RepairAnswer | undefined {
    const pending = this.#find(peer, message);
    if (!pending) return undefined;
    const { piece } = pending.range;
    if (!leavesProven(pending.range, message.hashes)) {
      pending.refused.add(peer);
      pending.askedOf = undefined;
      return { piece, unproven: true };
    }
    this.#pending.delete(piece);
    return { piece, leaves: message.hashes };
  }

  /** The peer rejected a request: its piece, to ask again with {@linkcode PieceRepair.retry}. */
  rejected(peer: AgentPeer, message: HashRequestMessage): number | undefined {
    const pending = this.#find(peer, message);
    if (!pending) return undefined;
    pending.rejectedAt.set(peer, this.#now());
    pending.askedOf = undefined;
    return pending.range.piece;
  }

  /** Pieces whose request timed out, whose peer is gone, or waiting for a peer: to ask again. */
  stalled(): number[] {
    const at = this.#now();
    const pieces: number[] = [];
    for (const pending of this.#pending.values()) {
      const peer = pending.askedOf;
      if (peer && !peer.closed && at - pending.askedAt < this.#timeoutMs) continue;
      if (peer) pending.refused.add(peer);
      pending.askedOf = undefined;
      pieces.push(pending.range.piece);
    }
    return pieces;
  }

  /** Asks the next peer for piece `piece`'s leaves; false (and forgotten) when none is left. */
  retry(piece: number, peers: Iterable<AgentPeer>): boolean {
    const pending = this.#pending.get(piece);
    return pending !== undefined && this.#ask(pending, peers);
  }

  /**
   * Asks the first peer that may be asked now; with none, waits (true) while a peer that
   * rejected may be asked again before the timeout, else gives up (false, forgotten).
   */
  #ask(pending: Pending, peers: Iterable<AgentPeer>): boolean {
    const at = this.#now();
    let later = false;
    for (const peer of peers) {
      if (
        peer.closed || peer.v2 !== true || !peer.pieces.get(pending.range.piece) ||
        pending.refused.has(peer)
      ) continue;
      const rejected = pending.rejectedAt.get(peer);
      if (rejected !== undefined) {
        // Past the timeout a peer that rejected is not asked again: no endless ping-pong.
        if (at - pending.startedAt >= this.#timeoutMs) continue;
        if (at - rejected < REJECT_BACKOFF_MS) {
          later = true;
          continue;
        }
      }
      pending.askedOf = peer;
      pending.askedAt = at;
      peer.send(pending.request);
      return true;
    }
    if (later && at - pending.startedAt < this.#timeoutMs) return true;
    this.#pending.delete(pending.range.piece);
    return false;
  }

  #find(peer: AgentPeer, message: HashRequestMessage | HashesMessage): Pending | undefined {
    if (message.baseLayer !== 0) return undefined;
    const key = toHex(message.piecesRoot);
    for (const pending of this.#pending.values()) {
      const { request } = pending;
      if (
        pending.askedOf === peer && request.index === message.index &&
        request.length === message.length && request.proofLayers === message.proofLayers &&
        toHex(request.piecesRoot) === key
      ) return pending;
    }
    return undefined;
  }
}
