import type {
  AgentPeer,
  AgentSession,
  BlockRef,
  BlockWriteStatus,
  MessagingAgent,
  PeerAddress,
} from "../agents/agent.ts";
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import { PiecePriorities } from "../picker/priority.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { BandwidthLimiter } from "../util/bandwidth.ts";
import { Emitter } from "../util/emitter.ts";
import type { Message } from "../wire/messages.ts";
import { Bans, type PeerIdentity } from "./bans.ts";
import type { PeerInfo, SessionEvents, SessionStats } from "./events.ts";
import type { Peer } from "./peer.ts";
import { PeerPool } from "./pool.ts";
import { RateMeter } from "./rate.ts";
import type { UploadBuffers } from "./upload_buffers.ts";

/** Tunables of a session, defaults filled in. */
export interface SessionConfig {
  /** Request size. */
  readonly blockSize: number;
  /** Most connected peers for this torrent. */
  readonly maxPeers: number;
  /** Peers unchoked by rate (plus one optimistic) while downloading. */
  readonly uploadSlots: number;
  /** Peers unchoked by rate (plus one optimistic) while seeding. */
  readonly seedSlots: number;
  /** Milliseconds between choking rounds. */
  readonly chokeIntervalMs: number;
  /** Milliseconds between optimistic unchoke rotations. */
  readonly optimisticIntervalMs: number;
  /** Requests unanswered this long make a peer snubbed: they go to others. */
  readonly requestTimeoutMs: number;
  /** How long to wait for a peer's extended handshake before agents' `connected` runs anyway. */
  readonly extendedHandshakeTimeoutMs: number;
  /** Strikes (e.g. pieces it alone sent that failed) after which a peer is banned. */
  readonly maxHashFailures: number;
  /** Requests in flight to a new peer. */
  readonly initialQueueDepth: number;
  /** Most requests in flight to one peer (the peer's `reqq` lowers it). */
  readonly maxQueueDepth: number;
  /** Requests from one peer we queue; reading from it pauses while its queue is full. */
  readonly maxUploadQueue: number;
  /** Block bytes sent to one peer and not yet taken by its socket before we wait for it. */
  readonly maxQueuedUploadBytes: number;
  /** Blocks nobody requested that a peer may send before it is dropped. */
  readonly maxUnrequestedBlocks: number;
  /** Bytes received but not yet on disk before reading from peers pauses. */
  readonly maxPendingWriteBytes: number;
  /**
   * Largest info dictionary fetched from peers for a magnet link (BEP 9);
   * peers announcing a larger `metadata_size` are not asked for it. (The
   * runtime's `limits.maxMetadataSize`, also 16 MiB by default, drops peers
   * announcing more than it at the handshake: raise both for larger metadata.)
   */
  readonly maxMetadataSize: number;
  /** Keep serving after completion. */
  readonly seed: boolean;
  /** How often the resume file (when configured) is rewritten while pieces verify. */
  readonly resumeIntervalMs: number;
  /**
   * Piece payload this torrent receives per second, 0 for unlimited (the
   * runtime's `downloadLimit` applies too). Peers share it first come, first
   * served; a peer waiting for its share is not read (TCP slows the sender).
   * Change it with `TorrentSession.setLimits`.
   */
  readonly downloadLimit: number;
  /** Piece payload this torrent sends per second, 0 for unlimited, like `downloadLimit`. */
  readonly uploadLimit: number;
  /** First wait after a web seed fails; doubles with each failure in a row. */
  readonly webSeedRetryMs: number;
  /** Failures in a row after which a web seed is given up for the session. */
  readonly maxWebSeedFailures: number;
}

/** Bytes ahead of a stream's reader fetched first (its priority window). */
const STREAM_WINDOW_BYTES = 8 << 20;

/** A stream's window in pieces: 8 MiB ahead, at least 2 pieces and at most 64. */
export function streamWindowPieces(pieceLength: number): number {
  return Math.min(64, Math.max(2, Math.ceil(STREAM_WINDOW_BYTES / pieceLength)));
}

/**
 * The state of one torrent session that its agents share, and the
 * {@linkcode AgentSession} they see: the torrent, its pieces, the peers,
 * storage with back-pressure, bans, and the agents' dispatch tables.
 */
export class SessionCore implements AgentSession {
  readonly torrent: Torrent;
  readonly store: PieceStore;
  readonly config: SessionConfig;
  readonly events: Emitter<SessionEvents> = new Emitter<SessionEvents>();
  readonly peerMap: Map<string, Peer> = new Map();
  /** Web seeds at work (see `WebSeedRunner`): peers to the agents, without a connection. */
  readonly webSeedPeers: Set<AgentPeer> = new Set();
  readonly pool: PeerPool;
  readonly agents: MessagingAgent[] = [];
  readonly downloadMeter: RateMeter = new RateMeter();
  readonly uploadMeter: RateMeter = new RateMeter();
  /** @inheritdoc */
  readonly downloadLimiter: BandwidthLimiter;
  /** @inheritdoc */
  readonly uploadLimiter: BandwidthLimiter;
  /** Identities banned for the rest of the session, and strikes towards a ban. */
  readonly bans: Bans;
  readonly #uploads: UploadBuffers;
  /** Bytes handed to storage and not yet written. */
  #pendingWriteBytes = 0;
  /** Bytes of failed pieces thrown away (a repaired v2 piece's good blocks given back). */
  #wastedBytes = 0;
  /** Resolvers waiting for pending writes to drop below the limit. */
  #writeWaiters: (() => void)[] = [];
  /** Called when a write fails: the session stops. */
  onStorageError: (error: Error) => void = () => {};
  /** Called after the agents heard that a piece verified. */
  onPieceVerified: (index: number) => void = () => {};
  /** Addresses of the peers that sent blocks of each piece in progress, for events. */
  readonly #senders = new Map<number, Set<string>>();
  /** Pieces open streams wait for: the download agent fetches them first. */
  readonly priorities: PiecePriorities;
  running = false;
  port: number | undefined;
  #handlers = new Map<string, ((peer: AgentPeer, message: never) => void)[]>();
  #extendedHandlers = new Map<string, ((peer: AgentPeer, payload: Uint8Array) => void)[]>();

  /**
   * @param store The torrent's pieces.
   * @param config Tunables.
   * @param identity What a ban is keyed by.
   * @param uploads The runtime's memory for blocks on their way out.
   * @param pool Known addresses (carried over from a magnet link's metadata phase).
   * @param bandwidth The runtime's limiters, under which this torrent's own ones sit.
   */
  constructor(
    store: PieceStore,
    config: SessionConfig,
    identity: PeerIdentity,
    uploads: UploadBuffers,
    pool: PeerPool = new PeerPool(),
    bandwidth?: { readonly download: BandwidthLimiter; readonly upload: BandwidthLimiter },
  ) {
    this.pool = pool;
    this.downloadLimiter = new BandwidthLimiter({
      limit: config.downloadLimit,
      parent: bandwidth?.download,
      name: "downloadLimit",
    });
    this.uploadLimiter = new BandwidthLimiter({
      limit: config.uploadLimit,
      parent: bandwidth?.upload,
      name: "uploadLimit",
    });
    this.torrent = store.torrent;
    this.store = store;
    this.config = config;
    this.priorities = new PiecePriorities(store.torrent.pieceCount, {
      windowPieces: streamWindowPieces(store.torrent.pieceLength),
    });
    this.bans = new Bans(identity);
    this.#uploads = uploads;
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
    }
  }

  /** Names of all extended messages the agents speak (for our `m` map). */
  extensionNames(): string[] {
    return [...new Set(this.agents.flatMap((agent) => agent.extensions ?? []))];
  }

  /** Hands a standard message to every agent that consumes its type. */
  dispatch(peer: AgentPeer, message: Message): void {
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

  /** Calls `call` on every agent, in order. */
  forAgents(call: (agent: MessagingAgent) => void): void {
    for (const agent of this.agents) call(agent);
  }

  /** @inheritdoc */
  get verified(): Bitfield {
    return this.store.verified;
  }

  /** @inheritdoc */
  get complete(): boolean {
    return this.store.complete;
  }

  /** @inheritdoc */
  get canServe(): boolean {
    return this.store.canServe;
  }

  /** @inheritdoc */
  needs(index: number): boolean {
    // A stream over a skipped file fetches what it reads.
    return this.store.needs(index) ||
      (this.priorities.forced(index) && !this.store.verified.get(index));
  }

  /** @inheritdoc */
  peers(): Iterable<AgentPeer> {
    if (this.webSeedPeers.size === 0) return this.peerMap.values();
    return [...this.peerMap.values(), ...this.webSeedPeers];
  }

  /** @inheritdoc */
  addPeers(addresses: readonly PeerAddress[], source: string): void {
    this.pool.add(addresses, source);
  }

  /** @inheritdoc */
  strike(peer: AgentPeer, reason: string): void {
    const strikes = this.bans.strike(peer);
    if (strikes >= this.config.maxHashFailures) this.ban(peer, `${reason} (strike ${strikes})`);
  }

  /** @inheritdoc */
  ban(peer: AgentPeer, reason: string): void {
    this.bans.ban(
      peer,
      reason,
      this.pool,
      this.peerMap.values(),
      () => this.events.emit("peer-banned", { ...this.info(peer), reason }),
    );
  }

  /** @inheritdoc */
  writeBlock(
    index: number,
    begin: number,
    block: Uint8Array,
    from?: AgentPeer,
  ): Promise<BlockWriteStatus> {
    const length = block.length;
    if (from) {
      let senders = this.#senders.get(index);
      if (!senders) this.#senders.set(index, senders = new Set());
      senders.add(from.key);
    }
    this.#pendingWriteBytes += length;
    // The store copies the block (a view into a socket buffer that the next read overwrites)
    // before this returns.
    return this.store.writeBlock(index, begin, block).then(
      (result) => {
        this.#writeSettled(length);
        if (result.status === "verified" || result.status === "failed") {
          const senders = [...this.#senders.get(index) ?? []];
          this.#senders.delete(index);
          if (result.status === "verified") {
            this.forAgents((agent) => agent.pieceVerified?.(index));
            this.onPieceVerified(index);
          } else {
            this.#wastedBytes += pieceLengthAt(this.torrent, index);
            this.events.emit("piece-failed", { index, peers: senders });
            this.forAgents((agent) => agent.pieceFailed?.(index));
          }
        }
        return result.status;
      },
      (error: Error) => {
        this.#writeSettled(length);
        this.onStorageError(error);
        throw error;
      },
    );
  }

  /** @inheritdoc */
  keepGoodBlocks(index: number, leafHashes: Uint8Array): readonly number[] | undefined {
    const bad = this.store.keepGoodBlocks(index, leafHashes);
    if (bad) {
      const { blockSize } = this.store;
      const pieceLength = pieceLengthAt(this.torrent, index);
      const badBytes = bad.reduce(
        (sum, block) => sum + Math.min(blockSize, pieceLength - block * blockSize),
        0,
      );
      this.#wastedBytes -= pieceLength - badBytes;
    }
    return bad;
  }

  /** @inheritdoc */
  readBlock(block: BlockRef): Promise<{ bytes: Uint8Array; release(): void }> {
    return this.#uploads.read(this.store, block);
  }

  /** @inheritdoc */
  readBlockNow(block: BlockRef): { bytes: Uint8Array; release(): void } | undefined {
    return this.#uploads.readNow(this.store, block);
  }

  /** Bytes handed to storage and not yet written. */
  get pendingWriteBytes(): number {
    return this.#pendingWriteBytes;
  }

  /** Forgets cached reads (the session stops). */
  clearCache(): void {
    this.#uploads.forget(this.store);
  }

  /** Describes a peer for events. */
  info(peer: AgentPeer): PeerInfo {
    return { address: peer.key, client: peer.client, incoming: peer.incoming };
  }

  /** Current figures (O(1): the store keeps running counts). */
  stats(): SessionStats {
    const { store, torrent } = this;
    const wantedBytes = store.wantedBytes;
    const verifiedBytes = store.verifiedWantedBytes;
    const downloadRate = this.downloadMeter.rate();
    const left = wantedBytes - verifiedBytes;
    let bufferedBytes = 0;
    for (const peer of this.peerMap.values()) bufferedBytes += peer.bufferedBytes;
    return {
      verifiedBytes,
      wantedBytes,
      verifiedPieces: store.verified.count(),
      pieceCount: torrent.pieceCount,
      downloaded: this.downloadMeter.total,
      wastedBytes: this.#wastedBytes,
      uploaded: this.uploadMeter.total,
      downloadRate,
      uploadRate: this.uploadMeter.rate(),
      peers: this.peerMap.size,
      bufferedBytes,
      eta: left <= 0 ? 0 : downloadRate > 0 ? left / downloadRate : undefined,
      progress: wantedBytes === 0 ? 1 : verifiedBytes / wantedBytes,
    };
  }

  #writeSettled(bytes: number): void {
    this.#pendingWriteBytes -= bytes;
    if (this.#pendingWriteBytes < this.config.maxPendingWriteBytes && this.#writeWaiters.length) {
      const waiters = this.#writeWaiters;
      this.#writeWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when storage has caught up enough to read more from peers. */
  writesDrained(): Promise<void> | undefined {
    if (this.#pendingWriteBytes < this.config.maxPendingWriteBytes) return undefined;
    // Gathered batches wait for more blocks, which wait for this: write them now.
    this.store.flushBatches();
    return new Promise((resolve) => this.#writeWaiters.push(resolve));
  }
}
