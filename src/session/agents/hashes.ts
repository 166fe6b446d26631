import type {
  AgentPeer,
  AgentSession,
  MessagingAgent,
  MetadataSession,
} from "../../agents/agent.ts";
import {
  MERKLE_HASH_LENGTH,
  merkleLayersInSteps,
  merkleRoot,
  nextPowerOfTwo,
  pieceHeight,
  splitHashes,
  verifyProof,
  zeroSubtreeRoot,
} from "../../metainfo/merkle.ts";
import type { Torrent } from "../../metainfo/torrent.ts";
import { toHex } from "../../util/bytes.ts";
import type { HashesMessage, HashRequestMessage } from "../../wire/messages.ts";
import { LeafHashServer } from "./leaf_hashes.ts";

/** Options of {@linkcode hashesAgent}. */
export interface HashesAgentOptions {
  /** Piece hashes asked for in one `hash request` (a power of two). Default 512, as libtorrent. */
  readonly hashesPerRequest?: number;
  /** `hash request`s in flight to one peer. Default 4. */
  readonly maxRequestsPerPeer?: number;
  /** A request unanswered this long goes to another peer. Default 20 000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * `hash request`s served to one peer per second; more are rejected, and four times as many
   * close the peer. Default 64.
   */
  readonly maxServedPerSecond?: number;
  /** Bytes queued to a peer above which its `hash request`s are rejected. Default 1 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * A hybrid torrent's pieces can be checked by SHA-1 alone: when the layer fetch has made no
   * progress this long (no v2 peer to ask, or none answering), it goes on without piece
   * layers, as from a `btih` link. Default 20 000 ms. A v2-only torrent keeps trying.
   */
  readonly hybridFallbackMs?: number;
  /**
   * Pieces of a file whose serving tree (the layers above its piece layer, built on the first
   * request) is built at once; a larger file's is built in the background in slices of 4096
   * pair hashes, its requests rejected meanwhile. Default 16 384 (about 16 ms of hashing).
   */
  readonly maxSyncTreePieces?: number;
  /** The clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** One `hash request` of the piece-layer fetch: a run of one file's piece hashes. */
interface Chunk {
  readonly file: number;
  readonly root: Uint8Array;
  /** First piece of the run, within the file. */
  readonly index: number;
  /** Hashes asked for (a power of two; those past the file's last piece are padding). */
  readonly length: number;
  /** Proof layers up to a child of the root (libtorrent's bound): the proof reaches the root. */
  readonly proofLayers: number;
  /** Peers that rejected it or let it time out, and when: not asked again for a while. */
  readonly refusedBy: WeakMap<AgentPeer, number>;
  askedOf?: AgentPeer;
  askedAt?: number;
}

/** Our requests to one peer, and its serving budget. */
interface PeerHashes {
  readonly outstanding: Set<Chunk>;
  /** Requests withdrawn after a timeout: a late answer to them is not held against the peer. */
  readonly late: Set<string>;
  served: number;
  servedSince: number;
}

/** A file's tree above its piece layer, computed once for serving. */
interface ServedTree {
  /** Layers from the piece layer (0) up to the root; padding nodes are not stored. */
  readonly layers: Uint8Array[][];
  /** The padding node of each layer. */
  readonly pads: Uint8Array[];
  /** Levels from the leaves (16 KiB blocks) to the piece layer. */
  readonly pieceHeight: number;
}

const MAX_LATE = 64;
/** Pair hashes per slice of a background tree build. */
const TREE_SLICE = 4096;

const MAX_DROPPED = 1024;
/** Hash requests a second, as a multiple of `maxServedPerSecond`, that close the peer. */
const FLOOD_FACTOR = 4;
/** A peer that rejected a run (or let it time out) is asked for it again after this long. */
const REFUSAL_BACKOFF_MS = 10_000;

/**
 * BEP 52 merkle hashes (`hash request`, `hashes`, `hash reject`) as an agent.
 *
 * Serving: for a torrent with piece layers (a v2 or hybrid .torrent, or one
 * completed from a magnet), it answers a `hash request` for a file's piece
 * layer or any layer above it, with the uncle hashes of the proof layers
 * asked for, computed from the piece layer (once per file, on first request).
 * It rejects (`hash reject`) requests for unknown roots, for layers below the
 * piece layer (their hashes would mean reading and hashing the data), out of
 * the tree's bounds, beyond `maxServedPerSecond` per peer (four times as many close it), or
 * while `maxQueuedBytes` wait for the peer's socket.
 *
 * Fetching: a session started from a `btmh` magnet link learns only the info
 * dictionary, which has no `piece layers`. In the metadata phase's last step
 * it asks peers for each multi-piece file's piece layer in runs of
 * `hashesPerRequest`, with proofs reaching the file's `pieces root`; an answer
 * that does not prove its way to the root strikes and closes its sender and
 * the run goes to another peer, a `hash reject` or a timeout moves it on, and
 * `hashes` nobody asked for close the peer. With every layer in, it hands
 * them to the session, which builds the complete torrent.
 */
export function hashesAgent(options: HashesAgentOptions = {}): MessagingAgent {
  const hashesPerRequest = options.hashesPerRequest ?? 512;
  const maxRequestsPerPeer = options.maxRequestsPerPeer ?? 4;
  const requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
  const maxServedPerSecond = options.maxServedPerSecond ?? 64;
  const maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
  const hybridFallbackMs = options.hybridFallbackMs ?? 20_000;
  const maxSyncTreePieces = options.maxSyncTreePieces ?? 16_384;
  const now = options.now ?? Date.now;
  if (nextPowerOfTwo(hashesPerRequest) !== hashesPerRequest || hashesPerRequest > 8192) {
    throw new RangeError(`hashesPerRequest must be a power of two up to 8192`);
  }

  const peerState = new WeakMap<AgentPeer, PeerHashes>();
  const stateOf = (peer: AgentPeer): PeerHashes => {
    let state = peerState.get(peer);
    if (!state) {
      state = { outstanding: new Set(), late: new Set(), served: 0, servedSince: now() };
      peerState.set(peer, state);
    }
    return state;
  };

  // --- Serving -------------------------------------------------------------------------------
  let session: AgentSession | undefined;
  const leafHashes = new LeafHashServer();
  /** Files with a known tree, by hex root: the file and its piece layer. */
  let servable = new Map<string, { length: number; layer: Uint8Array }>();
  /** Built trees, and files whose tree is being built in the background. */
  const trees = new Map<string, ServedTree>();
  const building = new Set<string>();

  /**
   * A file's tree above its piece layer: built at once for up to `maxSyncTreePieces` pieces,
   * else in the background in slices (`undefined` until done: requests are rejected
   * meanwhile), so a huge file never blocks the event loop for long.
   */
  const treeOf = (key: string): ServedTree | undefined => {
    const cached = trees.get(key);
    if (cached) return cached;
    const file = servable.get(key);
    if (!file || !session || building.has(key)) return undefined;
    const owner = session;
    const build = buildTree(key, file.layer, pieceHeight(owner.torrent.pieceLength));
    if (file.layer.length / MERKLE_HASH_LENGTH <= maxSyncTreePieces) {
      for (let step = build.next(); !step.done; step = build.next()) { /* no pause */ }
    } else {
      building.add(key);
      void (async () => {
        // Each step hashes about TREE_SLICE pairs; the session may detach meanwhile.
        for (let step = build.next(); !step.done; step = build.next()) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (session !== owner) return;
        }
        building.delete(key);
      })();
      return undefined;
    }
    return trees.get(key);
  };

  /** Builds the tree over `layer` in slices, storing it in `trees` under `key` when done. */
  function* buildTree(key: string, layer: Uint8Array, height: number): Generator<void> {
    const pieces = splitHashes(layer);
    const pad = zeroSubtreeRoot(height);
    const tree = yield* merkleLayersInSteps(pieces, nextPowerOfTwo(pieces.length), pad, TREE_SLICE);
    trees.set(key, { ...tree, pieceHeight: height });
  }

  /** The answer to `request`, or a reason to reject it. */
  const answer = (request: HashRequestMessage): HashesMessage | string => {
    const key = toHex(request.piecesRoot);
    if (!servable.has(key)) return "unknown pieces root";
    const tree = treeOf(key);
    if (!tree) return "its tree is being computed";
    const level = request.baseLayer - tree.pieceHeight;
    if (level < 0) return "below the piece layer";
    const top = tree.layers.length - 1;
    // libtorrent's bounds: not the root layer, and the proof stops at a child of the root.
    if (level >= top) return "the root layer";
    const width = 2 ** (top - level);
    if (request.index + request.length > width) return "outside the layer";
    if (level + request.proofLayers >= top) return "proof layers up to the root";
    const nodeAt = (at: number, position: number) => tree.layers[at][position] ?? tree.pads[at];
    const hashes = new Uint8Array(request.length * MERKLE_HASH_LENGTH);
    for (let i = 0; i < request.length; i++) {
      hashes.set(nodeAt(level, request.index + i), i * MERKLE_HASH_LENGTH);
    }
    const covered = Math.log2(request.length);
    const uncles = Math.max(0, request.proofLayers - covered + 1);
    const proof = new Uint8Array(uncles * MERKLE_HASH_LENGTH);
    let position = request.index / request.length;
    for (let i = 0; i < uncles; i++) {
      proof.set(nodeAt(level + covered + i, position ^ 1), i * MERKLE_HASH_LENGTH);
      position >>= 1;
    }
    return { ...request, type: "hashes", hashes, proof };
  };

  const serve = (peer: AgentPeer, request: HashRequestMessage) => {
    const state = stateOf(peer);
    const at = now();
    if (at - state.servedSince >= 1000) {
      state.served = 0;
      state.servedSince = at;
    }
    state.served++;
    // Even rejects cost a queued frame each: a flood past this is a hostile peer.
    if (state.served > maxServedPerSecond * FLOOD_FACTOR) {
      return peer.close(
        `BEP 52: more than ${maxServedPerSecond * FLOOD_FACTOR} hash requests a second`,
      );
    }
    const reply = state.served > maxServedPerSecond || peer.queuedBytes > maxQueuedBytes
      ? "over the limit"
      : answer(request);
    if (reply === "below the piece layer" && session) {
      // One verified piece's leaves, for a peer repairing a failed piece: read back and hashed.
      const owner = session;
      void leafHashes.answer(owner, peer, request, answer).then((leaves) => {
        if (session === owner && !peer.closed) sendReply(peer, request, leaves);
      });
      return;
    }
    sendReply(peer, request, reply);
  };

  const sendReply = (
    peer: AgentPeer,
    request: HashRequestMessage,
    reply: HashesMessage | string,
  ) => {
    if (typeof reply === "string") peer.send({ ...request, type: "hash-reject" });
    else peer.send(reply);
  };

  // --- Fetching (the metadata phase's last step) ----------------------------------------------
  let phase: MetadataSession | undefined;
  let chunks: Chunk[] = [];
  let received = new Map<number, Uint8Array>();
  let done = false;
  /** When the fetch last moved: planned, a run answered, or a v2 peer working on one. */
  let progressAt = 0;

  /**
   * Peers (by address) whose connection closed while our hash request was out: libtorrent
   * 2.0.8 drops a hybrid's connection made under the v1 hash (even with the v2 bit both ways)
   * for a hash request. Not asked again in this fetch; bounded.
   */
  const droppedUs = new Set<string>();
  // Only where both sides speak v2: libtorrent drops a peer for a hash request otherwise.
  const fetchable = (peer: AgentPeer) =>
    !peer.closed && peer.v2 === true && !droppedUs.has(peer.key);

  const pump = () => {
    if (!phase || done) return;
    const peers = [...phase.peers()].filter(fetchable);
    if (peers.length === 0) return;
    let turn = 0;
    for (const chunk of chunks) {
      if (chunk.askedOf) continue;
      for (let tries = 0; tries < peers.length; tries++) {
        const peer = peers[turn++ % peers.length];
        const state = stateOf(peer);
        if (refused(chunk, peer) || state.outstanding.size >= maxRequestsPerPeer) continue;
        chunk.askedOf = peer;
        chunk.askedAt = now();
        state.outstanding.add(chunk);
        peer.send(requestFor(chunk));
        break;
      }
    }
  };

  const refused = (chunk: Chunk, peer: AgentPeer) => {
    const at = chunk.refusedBy.get(peer);
    return at !== undefined && now() - at < REFUSAL_BACKOFF_MS;
  };

  const requestFor = (chunk: Chunk): HashRequestMessage => ({
    type: "hash-request",
    piecesRoot: chunk.root,
    baseLayer: pieceHeight(phase!.torrent!.pieceLength),
    index: chunk.index,
    length: chunk.length,
    proofLayers: chunk.proofLayers,
  });

  const withdraw = (chunk: Chunk) => {
    if (chunk.askedOf) stateOf(chunk.askedOf).outstanding.delete(chunk);
    chunk.askedOf = undefined;
    chunk.askedAt = undefined;
  };

  const findChunk = (peer: AgentPeer, message: HashRequestMessage | HashesMessage) => {
    const key = requestKey(message);
    for (const chunk of stateOf(peer).outstanding) {
      if (requestKey(requestFor(chunk)) === key) return chunk;
    }
    return undefined;
  };

  const requestKey = (message: HashRequestMessage | HashesMessage) =>
    `${toHex(message.piecesRoot)}:${message.baseLayer}:${message.index}:${message.length}:` +
    message.proofLayers;

  const onHashes = (peer: AgentPeer, message: HashesMessage) => {
    if (!phase || done) return; // done: a late answer to a request another peer answered
    const state = stateOf(peer);
    const chunk = phase.torrent ? findChunk(peer, message) : undefined;
    if (!chunk) {
      if (state.late.delete(requestKey(message))) return;
      phase.strike(peer, "sent hashes it was not asked for");
      peer.close("BEP 52: hashes it was not asked for");
      return;
    }
    withdraw(chunk);
    const torrent = phase.torrent!;
    const hashes = splitHashes(message.hashes);
    const uncles = splitHashes(message.proof);
    const subtree = merkleRoot(hashes, hashes.length);
    if (!verifyProof(subtree, chunk.index / chunk.length, uncles, chunk.root)) {
      chunk.refusedBy.set(peer, now());
      phase.strike(peer, "sent piece hashes that do not lead to the file's pieces root");
      peer.close("BEP 52: hashes that do not lead to the pieces root");
      pump();
      return;
    }
    const file = torrent.files[chunk.file];
    const pieces = Math.ceil(file.length / torrent.pieceLength);
    let layer = received.get(chunk.file);
    if (!layer) received.set(chunk.file, layer = new Uint8Array(pieces * MERKLE_HASH_LENGTH));
    const real = Math.min(chunk.length, pieces - chunk.index);
    layer.set(message.hashes.subarray(0, real * MERKLE_HASH_LENGTH), chunk.index * 32);
    chunks = chunks.filter((other) => other !== chunk);
    progressAt = now();
    if (chunks.length === 0) {
      done = true;
      phase.pieceLayersReceived(received);
      return;
    }
    pump();
  };

  const onReject = (peer: AgentPeer, message: HashRequestMessage) => {
    if (!phase?.torrent || done) return;
    const chunk = findChunk(peer, message);
    if (!chunk) return; // a reject of nothing we asked: harmless
    withdraw(chunk);
    chunk.refusedBy.set(peer, now());
    pump();
  };

  const planFetch = (torrent: Torrent) => {
    chunks = [];
    received = new Map();
    done = false;
    droppedUs.clear();
    progressAt = now();
    torrent.files.forEach((file, index) => {
      if (file.padding || !file.piecesRoot || file.pieceLayer) return;
      if (file.length <= torrent.pieceLength) return;
      const pieces = Math.ceil(file.length / torrent.pieceLength);
      const width = nextPowerOfTwo(pieces);
      const proofLayers = Math.log2(width) - 1;
      const length = Math.min(hashesPerRequest, width);
      for (let start = 0; start < pieces; start += length) {
        chunks.push({
          file: index,
          root: file.piecesRoot,
          index: start,
          length,
          proofLayers,
          refusedBy: new WeakMap(),
        });
      }
    });
    if (chunks.length === 0) {
      done = true;
      return phase?.pieceLayersReceived(received);
    }
    pump();
  };

  return {
    name: "hashes",
    beforeMetadata: {
      start: (metadata) => phase = metadata,
      connected: () => pump(),
      consumes: {
        // Nothing to serve before the torrent is complete.
        "hash-request": (peer, message) => peer.send({ ...message, type: "hash-reject" }),
        hashes: onHashes,
        "hash-reject": onReject,
      },
      pieceLayersWanted: (torrent) => planFetch(torrent),
      tick: () => {
        if (!phase?.torrent || done) return;
        const at = now();
        for (const chunk of chunks) {
          if (!chunk.askedOf || at - chunk.askedAt! < requestTimeoutMs) continue;
          const late = stateOf(chunk.askedOf).late;
          if (late.size < MAX_LATE) late.add(requestKey(requestFor(chunk)));
          chunk.refusedBy.set(chunk.askedOf, at);
          withdraw(chunk);
        }
        pump();
        if (chunks.some((chunk) => chunk.askedOf)) return;
        if (phase.torrent.version === "hybrid" && at - progressAt >= hybridFallbackMs) {
          // Nobody serves the layers: SHA-1 checks the pieces of a hybrid just as well.
          done = true;
          phase.pieceLayersReceived(new Map());
        }
      },
      disconnected: (peer) => {
        const outstanding = [...stateOf(peer).outstanding];
        if (outstanding.length && droppedUs.size < MAX_DROPPED) droppedUs.add(peer.key);
        for (const chunk of outstanding) withdraw(chunk);
        pump();
      },
      end: () => {
        phase = undefined;
        chunks = [];
      },
    },
    attach: (attached) => {
      session = attached;
      servable = new Map();
      trees.clear();
      building.clear();
      const torrent = attached.torrent;
      for (const file of torrent.files) {
        if (!file.piecesRoot || file.padding || file.length === 0) continue;
        // A file of one piece: its root is its only piece hash.
        const layer = file.pieceLayer ??
          (file.length <= torrent.pieceLength ? file.piecesRoot : undefined);
        if (layer) servable.set(toHex(file.piecesRoot), { length: file.length, layer });
      }
    },
    consumes: {
      "hash-request": serve,
    },
    detach: () => {
      session = undefined;
      servable = new Map();
      trees.clear();
      building.clear();
    },
  };
}
