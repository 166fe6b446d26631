import type { AgentPeer, AgentSession, MessagingAgent, PeerAddress } from "../agents/agent.ts";
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import type { PieceSelector } from "../picker/selector.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { Emitter } from "../util/emitter.ts";
import type { Message } from "../wire/messages.ts";
import { BlockTracker } from "./blocks.ts";
import type { PeerInfo, SessionEvents, SessionStats } from "./events.ts";
import type { Peer } from "./peer.ts";
import { PeerPool } from "./pool.ts";
import { RateMeter } from "./rate.ts";

/** Tunables of a session, defaults filled in. */
export interface SessionConfig {
  /** Request size. */
  readonly blockSize: number;
  /** Most connected peers for this torrent. */
  readonly maxPeers: number;
  /** Peers unchoked by rate (plus one optimistic). */
  readonly uploadSlots: number;
  /** Seconds between choking rounds. */
  readonly chokeIntervalMs: number;
  /** Seconds between optimistic unchoke rotations. */
  readonly optimisticIntervalMs: number;
  /** A request unanswered this long is given to someone else and the peer is snubbed. */
  readonly requestTimeoutMs: number;
  /** How long to wait for a peer's extended handshake before agents' `connected` runs anyway. */
  readonly extendedHandshakeTimeoutMs: number;
  /** Hash failures after which a contributing peer is banned. */
  readonly maxHashFailures: number;
  /** Requests in flight to a new peer. */
  readonly initialQueueDepth: number;
  /** Most requests in flight to one peer (the peer's `reqq` lowers it). */
  readonly maxQueueDepth: number;
  /** Requests from one peer we queue before ignoring more. */
  readonly maxUploadQueue: number;
  /** Bytes received but not yet on disk before reading from peers pauses. */
  readonly maxPendingWriteBytes: number;
  /** Keep serving after completion. */
  readonly seed: boolean;
  /** How often the resume file (when configured) is rewritten while pieces verify. */
  readonly resumeIntervalMs: number;
}

/**
 * The state of one torrent session that its agents share: the torrent, its
 * pieces, the peers, the download bookkeeping, the selector and the events.
 */
export class SessionCore implements AgentSession {
  readonly torrent: Torrent;
  readonly store: PieceStore;
  readonly selector: PieceSelector;
  readonly config: SessionConfig;
  readonly blocks: BlockTracker;
  readonly events: Emitter<SessionEvents> = new Emitter<SessionEvents>();
  readonly peerMap: Map<string, Peer> = new Map();
  readonly pool: PeerPool = new PeerPool();
  readonly agents: MessagingAgent[] = [];
  readonly downloadMeter: RateMeter = new RateMeter();
  readonly uploadMeter: RateMeter = new RateMeter();
  /** Addresses banned for the rest of the session. */
  readonly banned: Set<string> = new Set();
  /** Bytes handed to storage and not yet written. */
  pendingWriteBytes = 0;
  /** Resolvers waiting for pending writes to drop below the limit. */
  writeWaiters: (() => void)[] = [];
  completed = false;
  running = false;
  port: number | undefined;
  #handlers = new Map<string, ((peer: AgentPeer, message: never) => void)[]>();
  #extendedHandlers = new Map<string, ((peer: AgentPeer, payload: Uint8Array) => void)[]>();
  #producers: MessagingAgent[] = [];

  constructor(torrent: Torrent, store: PieceStore, selector: PieceSelector, config: SessionConfig) {
    this.torrent = torrent;
    this.store = store;
    this.selector = selector;
    this.config = config;
    this.blocks = new BlockTracker(torrent, config.blockSize);
  }

  /** Adds agents and indexes their handlers. */
  useAgents(agents: readonly MessagingAgent[]): void {
    for (const agent of agents) {
      this.agents.push(agent);
      for (const [type, handler] of Object.entries(agent.consumes ?? {})) {
        if (!handler) continue;
        let list = this.#handlers.get(type);
        if (!list) this.#handlers.set(type, list = []);
        list.push(handler as (peer: AgentPeer, message: never) => void);
      }
      for (const [name, handler] of Object.entries(agent.consumesExtended ?? {})) {
        let list = this.#extendedHandlers.get(name);
        if (!list) this.#extendedHandlers.set(name, list = []);
        list.push(handler);
      }
      if (agent.produce) this.#producers.push(agent);
    }
  }

  /** Names of all extended messages the agents speak (for our `m` map). */
  extensionNames(): string[] {
    return [...new Set(this.agents.flatMap((agent) => agent.extensions ?? []))];
  }

  /** Hands a standard message to every agent that consumes its type. */
  dispatch(peer: Peer, message: Message): void {
    const handlers = this.#handlers.get(message.type);
    if (!handlers) return;
    for (const handler of handlers) {
      if (peer.closed) return;
      (handler as (peer: AgentPeer, message: Message) => void)(peer, message);
    }
  }

  /** Hands an extended message to the agents that speak `name`. */
  dispatchExtended(peer: Peer, name: string, payload: Uint8Array): void {
    for (const handler of this.#extendedHandlers.get(name) ?? []) {
      if (peer.closed) return;
      handler(peer, payload);
    }
  }

  /** Lets every producing agent send what it wants to `peer`. */
  produce(peer: Peer): void {
    for (const agent of this.#producers) {
      if (peer.closed) return;
      agent.produce!(peer);
    }
  }

  /** @inheritdoc */
  get verified(): Bitfield {
    return this.store.verified;
  }

  /** @inheritdoc */
  peers(): Iterable<AgentPeer> {
    return this.peerMap.values();
  }

  /** @inheritdoc */
  addPeers(addresses: readonly PeerAddress[], source: string): void {
    this.pool.add(addresses, source);
  }

  /** Whether piece `index` is wanted and not yet verified. */
  needs(index: number): boolean {
    return this.store.wanted.get(index) && !this.store.verified.get(index);
  }

  /** Whether `pieces` holds anything we still need. */
  needsAnyOf(pieces: Bitfield): boolean {
    const count = this.torrent.pieceCount;
    for (let i = 0; i < count; i++) if (pieces.get(i) && this.needs(i)) return true;
    return false;
  }

  /** Describes a peer for events. */
  info(peer: Peer): PeerInfo {
    return { address: peer.key, client: peer.client, incoming: peer.incoming };
  }

  /** Current figures. */
  stats(): SessionStats {
    const { store, torrent } = this;
    let wantedBytes = 0;
    let verifiedBytes = 0;
    let verifiedPieces = 0;
    for (let i = 0; i < torrent.pieceCount; i++) {
      const length = pieceLengthAt(torrent, i);
      const verified = store.verified.get(i);
      if (verified) {
        verifiedPieces++;
        verifiedBytes += length;
      }
      if (store.wanted.get(i)) wantedBytes += length;
      else if (verified) verifiedBytes -= length;
    }
    const downloadRate = this.downloadMeter.rate();
    const left = wantedBytes - verifiedBytes;
    return {
      verifiedBytes,
      wantedBytes,
      verifiedPieces,
      pieceCount: torrent.pieceCount,
      downloaded: this.downloadMeter.total,
      uploaded: this.uploadMeter.total,
      downloadRate,
      uploadRate: this.uploadMeter.rate(),
      peers: this.peerMap.size,
      eta: left <= 0 ? 0 : downloadRate > 0 ? left / downloadRate : undefined,
      progress: wantedBytes === 0 ? 1 : verifiedBytes / wantedBytes,
    };
  }

  /** A block of `bytes` left for storage; resolves waiters when below the limit. */
  writeSettled(bytes: number): void {
    this.pendingWriteBytes -= bytes;
    if (this.pendingWriteBytes < this.config.maxPendingWriteBytes && this.writeWaiters.length) {
      const waiters = this.writeWaiters;
      this.writeWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when storage has caught up enough to read more from peers. */
  writesDrained(): Promise<void> | undefined {
    if (this.pendingWriteBytes < this.config.maxPendingWriteBytes) return undefined;
    return new Promise((resolve) => this.writeWaiters.push(resolve));
  }
}
