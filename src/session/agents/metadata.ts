import { createHash } from "node:crypto";
import type {
  AgentPeer,
  AgentSession,
  MessagingAgent,
  MetadataSession,
} from "../../agents/agent.ts";
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
} from "./metadata_message.ts";

/** The BEP 9 extension name. */
export const UT_METADATA = "ut_metadata";

/** Options of {@linkcode metadataAgent}. */
export interface MetadataAgentOptions {
  /** A piece request unanswered this long goes to another peer. Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Piece requests in flight to one peer. Default 16. */
  readonly maxRequestsPerPeer?: number;
  /** A peer that rejected a request (or let one time out) is not asked again for this long. Default 10 000 ms. */
  readonly rejectBackoffMs?: number;
  /** Bytes queued to a peer above which its metadata requests are rejected. Default 512 KiB. */
  readonly maxQueuedBytes?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** What the fetch keeps per peer. */
interface PeerFetch {
  /** Pieces requested from the peer: piece -> when. */
  readonly outstanding: Map<number, number>;
  /** Not asked again before this time (it rejected or was slow). */
  pausedUntil: number;
}

/**
 * BEP 9 metadata exchange (`ut_metadata`), as an agent.
 *
 * Before the metadata is known (a magnet link), it fetches the info
 * dictionary in 16 KiB pieces from every peer that announces a plausible
 * `metadata_size` (at most the session's `maxMetadataSize`; larger claims are
 * ignored), several requests per peer. A `reject` or a request left
 * unanswered sends the piece to another peer and rests the peer. The whole
 * is checked against the info hash: on a match it is handed to the session;
 * on a mismatch it is discarded, every peer that sent part of it gets a
 * strike, and from then on the metadata is fetched from one peer at a time,
 * so the next failure names its sender exactly (struck again, and never
 * asked again). Peers that send malformed messages or pieces of the wrong
 * size are closed.
 *
 * Once the metadata is known, it answers requests with `data` (and
 * `total_size`) or `reject`. The session leaves this agent out for private
 * torrents, which neither announce nor serve metadata; a magnet whose
 * metadata turns out private gets `reject` for everything.
 */
export function metadataAgent(options: MetadataAgentOptions = {}): MessagingAgent {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const maxRequestsPerPeer = options.maxRequestsPerPeer ?? 16;
  const rejectBackoffMs = options.rejectBackoffMs ?? 10_000;
  const maxQueuedBytes = options.maxQueuedBytes ?? 512 * 1024;
  const now = options.now ?? Date.now;

  let session: AgentSession | undefined;
  let phase: MetadataSession | undefined;
  const peerFetch = new WeakMap<AgentPeer, PeerFetch>();
  /** The size being assembled, once chosen. */
  let size: number | undefined;
  let pieces: (Uint8Array | undefined)[] = [];
  let piecesReceived = 0;
  /** Who sent each received piece. */
  let senders = new Map<number, AgentPeer>();
  /** Who each requested piece was asked of. */
  let askedOf = new Map<number, AgentPeer>();
  /** After a failed check: fetch from one peer at a time. */
  let solo = false;
  let soloPeer: AgentPeer | undefined;
  /** Peers whose metadata, sent alone, failed the check: never asked again. */
  const failedAlone = new WeakSet<AgentPeer>();
  let done = false;

  const stateOf = (peer: AgentPeer): PeerFetch => {
    let state = peerFetch.get(peer);
    if (!state) peerFetch.set(peer, state = { outstanding: new Map(), pausedUntil: 0 });
    return state;
  };

  /** The metadata size a peer announced, when usable. */
  const sizeOf = (peer: AgentPeer): number | undefined => {
    const announced = peer.extendedHandshake?.get("metadata_size");
    const limit = phase?.maxMetadataSize ?? 0;
    return typeof announced === "number" && Number.isSafeInteger(announced) && announced > 0 &&
        announced <= limit
      ? announced
      : undefined;
  };

  const canAsk = (peer: AgentPeer, at: number): boolean =>
    !peer.closed && peer.supports(UT_METADATA) && sizeOf(peer) !== undefined &&
    !failedAlone.has(peer) && stateOf(peer).pausedUntil <= at;

  const reset = (newSize: number | undefined) => {
    for (const [piece, peer] of askedOf) stateOf(peer).outstanding.delete(piece);
    size = newSize;
    pieces = newSize === undefined
      ? []
      : Array.from({ length: Math.ceil(newSize / METADATA_PIECE_SIZE) }, () => undefined);
    piecesReceived = 0;
    senders = new Map();
    askedOf = new Map();
  };

  const send = (peer: AgentPeer, message: MetadataMessage) =>
    peer.sendExtended(UT_METADATA, encodeMetadataMessage(message));

  /** Chooses what to assemble and from whom, and keeps requests in flight. */
  const pump = () => {
    if (done || !phase) return;
    const at = now();
    let candidates = [...phase.peers()].filter((peer) => canAsk(peer, at));
    if (solo) {
      // The peer asked alone went away, failed or rests: the next one starts over.
      if (!soloPeer || !candidates.includes(soloPeer)) {
        const next = candidates[0];
        if (!next) return;
        soloPeer = next;
        reset(sizeOf(next));
      }
      candidates = [soloPeer];
    } else {
      const sizes = new Map<number, number>();
      for (const peer of candidates) {
        const announced = sizeOf(peer)!;
        sizes.set(announced, (sizes.get(announced) ?? 0) + 1);
      }
      // Nobody left announces the size being assembled (and nothing of it is in flight): start over.
      if (size !== undefined && !sizes.has(size) && askedOf.size === 0) reset(undefined);
      if (size === undefined) {
        const common = [...sizes].sort((a, b) => b[1] - a[1])[0];
        if (!common) return;
        reset(common[0]);
      }
    }
    const askable = candidates.filter((peer) => sizeOf(peer) === size);
    if (askable.length === 0) return;
    let turn = 0;
    for (let piece = 0; piece < pieces.length; piece++) {
      if (pieces[piece] || askedOf.has(piece)) continue;
      // Round robin over peers with room.
      let asked = false;
      for (let tries = 0; tries < askable.length && !asked; tries++) {
        const peer = askable[turn++ % askable.length];
        const state = stateOf(peer);
        if (state.outstanding.size >= maxRequestsPerPeer) continue;
        if (!send(peer, { type: "request", piece })) continue;
        state.outstanding.set(piece, at);
        askedOf.set(piece, peer);
        asked = true;
      }
      if (!asked) return;
    }
  };

  const withdraw = (peer: AgentPeer, piece: number) => {
    stateOf(peer).outstanding.delete(piece);
    if (askedOf.get(piece) === peer) askedOf.delete(piece);
  };

  const check = () => {
    const assembled = new Uint8Array(size!);
    for (const [index, piece] of pieces.entries()) {
      assembled.set(piece!, index * METADATA_PIECE_SIZE);
    }
    if (matchesInfoHashes(phase!, assembled)) {
      done = true;
      phase!.metadataReceived(assembled);
      return;
    }
    const blamed = new Set(senders.values());
    if (blamed.size === 1) failedAlone.add([...blamed][0]);
    solo = true;
    soloPeer = undefined;
    reset(undefined);
    for (const peer of blamed) {
      phase!.strike(peer, "sent metadata that does not match the info hash");
    }
  };

  const received = (peer: AgentPeer, message: MetadataMessage) => {
    const state = stateOf(peer);
    switch (message.type) {
      case "request":
        // Nothing to serve yet.
        send(peer, { type: "reject", piece: message.piece });
        return;
      case "reject":
        if (!state.outstanding.has(message.piece)) return;
        withdraw(peer, message.piece);
        state.pausedUntil = now() + rejectBackoffMs;
        return pump();
      case "data": {
        // Data we did not ask this peer for (late, or unasked) is dropped.
        if (!state.outstanding.has(message.piece) || askedOf.get(message.piece) !== peer) {
          return;
        }
        withdraw(peer, message.piece);
        const expected = Math.min(METADATA_PIECE_SIZE, size! - message.piece * METADATA_PIECE_SIZE);
        if (message.totalSize !== size || message.bytes.length !== expected) {
          peer.close(
            `ut_metadata: piece ${message.piece} of ${message.bytes.length} bytes with ` +
              `total_size ${message.totalSize} (expected ${expected} of ${size})`,
          );
          return pump();
        }
        pieces[message.piece] = message.bytes.slice();
        piecesReceived++;
        senders.set(message.piece, peer);
        if (piecesReceived === pieces.length) check();
        return pump();
      }
    }
  };

  const decode = (peer: AgentPeer, payload: Uint8Array): MetadataMessage | undefined => {
    try {
      return decodeMetadataMessage(payload);
    } catch (error) {
      peer.close((error as Error).message);
      return undefined;
    }
  };

  /** Answers a request once the metadata is known. */
  const serve = (peer: AgentPeer, message: MetadataMessage) => {
    if (message.type !== "request" || !session) return;
    const { torrent } = session;
    const info = torrent.infoBytes;
    const begin = message.piece * METADATA_PIECE_SIZE;
    if (torrent.private || begin >= info.length || peer.queuedBytes > maxQueuedBytes) {
      send(peer, { type: "reject", piece: message.piece });
      return;
    }
    send(peer, {
      type: "data",
      piece: message.piece,
      totalSize: info.length,
      bytes: info.subarray(begin, begin + METADATA_PIECE_SIZE),
    });
  };

  return {
    name: "metadata",
    extensions: [UT_METADATA],
    attach(attached) {
      session = attached;
    },
    consumesExtended: {
      [UT_METADATA]: (peer, payload) => {
        const message = decode(peer, payload);
        if (message) serve(peer, message);
      },
    },
    beforeMetadata: {
      start(started) {
        phase = started;
      },
      connected: () => pump(),
      consumesExtended: {
        [UT_METADATA]: (peer, payload) => {
          const message = decode(peer, payload);
          if (message) received(peer, message);
        },
      },
      tick() {
        const at = now();
        for (const [piece, peer] of [...askedOf]) {
          const since = stateOf(peer).outstanding.get(piece);
          if (since !== undefined && at - since >= requestTimeoutMs) {
            withdraw(peer, piece);
            stateOf(peer).pausedUntil = at + rejectBackoffMs;
          }
        }
        pump();
      },
      disconnected(peer) {
        for (const piece of [...stateOf(peer).outstanding.keys()]) withdraw(peer, piece);
        if (soloPeer === peer) soloPeer = undefined;
        pump();
      },
      end() {
        phase = undefined;
        pieces = [];
        senders = new Map();
        askedOf = new Map();
      },
    },
  };
}

/**
 * Whether `info` is the link's info dictionary: SHA-256 against the v2 hash (`btmh`) when
 * given, SHA-1 against the v1 hash (`btih`) unless the link has none (v2-only: its 20-byte
 * hash is the v2 hash truncated).
 */
function matchesInfoHashes(phase: MetadataSession, info: Uint8Array): boolean {
  const { infoHash, infoHashV2 } = phase;
  if (infoHashV2) {
    const digest = createHash("sha256").update(info).digest();
    if (!infoHashV2.every((byte, i) => byte === digest[i])) return false;
    if (infoHash.every((byte, i) => byte === infoHashV2[i])) return true;
  }
  const digest = createHash("sha1").update(info).digest();
  return infoHash.every((byte, i) => byte === digest[i]);
}
