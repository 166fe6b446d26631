import type { AgentPeer, MessagingAgent } from "../agents/agent.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { WebSeed } from "../metainfo/web_seeds.ts";
import type { PeerSourceContext } from "../peers/source.ts";
import type { PieceSelector } from "../picker/selector.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import { addressKey, type PeerAddress } from "../util/address.ts";
import type { Bitfield } from "../util/bitfield.ts";
import type { BandwidthLimiter } from "../util/bandwidth.ts";
import type { Emitter } from "../util/emitter.ts";
import { ProtocolError } from "../wire/errors.ts";
import type { WireContext } from "../wire/limits.ts";
import type { Message } from "../wire/messages.ts";
import type { PeerWire } from "../wire/peer_wire.ts";
import { chokerAgent } from "./agents/choker.ts";
import { downloadAgent } from "./agents/download.ts";
import { pieceExchangeAgent } from "./agents/exchange.ts";
import { uploadAgent } from "./agents/upload.ts";
import { type SessionConfig, SessionCore } from "./core.ts";
import type { PeerInfo, SessionEvents, SessionStats } from "./events.ts";
import type { HostedSession } from "./hosted.ts";
import { admitConnection } from "./duplicates.ts";
import { WireLink } from "./link.ts";
import { Peer, PeerViolation } from "./peer.ts";
import type { RateLimits } from "./options.ts";
import { type PeerPool, stallReason } from "./pool.ts";
import type { SourceRunner } from "./sources.ts";
import type { UploadBuffers } from "./upload_buffers.ts";
import { WebSeedRunner } from "./web_seeds.ts";
import { StreamError } from "../stream/errors.ts";
import {
  createFileStream,
  type ReadStreamOptions,
  type StreamSource,
} from "../stream/read_stream.ts";
import { serveFile } from "../stream/serve.ts";

/** What a session needs from the runtime it runs on. */
export interface SessionHost {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The runtime's listening port, if listening. */
  readonly port: number | undefined;
  /** Memory for blocks on their way to sockets (and their read cache), shared by every session. */
  readonly uploads: UploadBuffers;
  /** The runtime's rate limits, above each session's own. */
  readonly bandwidth: { readonly download: BandwidthLimiter; readonly upload: BandwidthLimiter };
  /** Whether the runtime allows dialling `address` now (connection limits). */
  canDial(address: PeerAddress): boolean;
  /** Dials `address` for `session`; calls `session.attach` or `session.dialFailed`. */
  dial(session: HostedSession, address: PeerAddress): void;
  /** Names a client from its peer id. */
  clientName(peerId: Uint8Array): string;
  /** What a ban on `peer` is keyed by (see `RuntimeOptions.maxConnectionsPerIp`). */
  identity(peer: AgentPeer): string;
  /** The session stopped: forget it. */
  removed(session: HostedSession): void;
}

const TICK_MS = 1000;

/** What trackers (and other sources) are told of a session's transfer so far. */
export function announceStats(
  stats: SessionStats,
): { uploaded: number; downloaded: number; left: number } {
  return {
    uploaded: stats.uploaded,
    downloaded: stats.downloaded,
    left: stats.wantedBytes - stats.verifiedBytes,
  };
}

/**
 * A connection that arrives with history: one that began in a magnet link's
 * metadata phase. `held` are its messages to apply first (extended handshake,
 * bitfield, haves, choke and interest state); `pending` is the read already
 * in flight on the wire, which the session takes over.
 */
export interface Handover {
  readonly held: readonly Message[];
  readonly pending?: Promise<Message | undefined>;
}

/** Why we closed a peer ourselves: not held against it when it is tried again. */
const OUR_REASONS = /^(paused|both complete|session stopped|completed)/;

/**
 * The engine of one torrent: peers, agents, storage, sources. The runtime
 * drives it; users see it as a {@linkcode TorrentSession}.
 */
export class SessionEngine implements TorrentSession, HostedSession {
  readonly torrent: Torrent;
  readonly events: Emitter<SessionEvents>;
  readonly completed: Promise<SessionStats>;
  readonly core: SessionCore;
  readonly #host: SessionHost;
  readonly #sources: SourceRunner;
  readonly #webSeeds: WebSeedRunner;
  readonly #dialing = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #resolveCompleted!: (stats: SessionStats) => void;
  #rejectCompleted!: (error: Error) => void;
  #stopped = false;
  /** What the storage could not do at open (BEP 47 symlinks), said once at the first start. */
  readonly #storageWarnings: string[];
  #completedOnce = false;
  /** When the resume file was last written, and whether pieces verified since. */
  #resumeSavedAt = Date.now();
  #verifiedSinceSave = false;
  /** Whether every wanted piece was already there when the session started. */
  #completeAtStart: boolean | undefined;
  #stopping: Promise<void> | undefined;
  #failed: Error | undefined;
  /** The reason of the `stalled` event in force, if any. */
  #stall: string | undefined;
  #pendingRecheck: Promise<void> | undefined;

  constructor(
    host: SessionHost,
    store: PieceStore,
    selector: PieceSelector,
    config: SessionConfig,
    agents: readonly MessagingAgent[],
    sources: SourceRunner,
    pool?: PeerPool,
    webSeeds: readonly WebSeed[] = [],
  ) {
    this.#host = host;
    this.#sources = sources;
    this.torrent = store.torrent;
    this.#storageWarnings = [...store.storage.warnings ?? []];
    const core = new SessionCore(
      store,
      config,
      host.identity,
      host.uploads,
      pool,
      host.bandwidth,
    );
    this.core = core;
    this.events = core.events;
    core.port = host.port;
    core.onStorageError = (error) => this.#fail(error);
    core.onPieceVerified = (index) => this.#pieceVerified(index);
    core.useAgents([
      pieceExchangeAgent(),
      downloadAgent({
        selector,
        blockSize: config.blockSize,
        initialQueueDepth: config.initialQueueDepth,
        priorities: core.priorities,
      }),
      uploadAgent({ maxQueuedBytes: config.maxQueuedUploadBytes }),
      chokerAgent(config),
      ...agents,
    ]);
    core.forAgents((agent) => agent.attach?.(core));
    this.#webSeeds = new WebSeedRunner(core, webSeeds);
    // A stream over a skipped file opened or closed: which pieces are needed changed.
    core.priorities.onChange((forcedChanged) => {
      if (forcedChanged && !this.#stopped) this.#wantedChanged();
    });
    this.completed = new Promise((resolve, reject) => {
      this.#resolveCompleted = resolve;
      this.#rejectCompleted = reject;
    });
    // Awaiting is optional: a failure is also an `error` event.
    this.completed.catch(() => {});
  }

  get infoHash(): string {
    return this.torrent.infoHashHex;
  }

  get infoHashBytes(): Uint8Array {
    return this.torrent.infoHash;
  }

  get infoHashV2Bytes(): Uint8Array | undefined {
    return this.torrent.version === "hybrid" ? this.torrent.infoHashV2Truncated : undefined;
  }

  get hasV2(): boolean {
    return this.torrent.version !== 1;
  }

  get wireContext(): WireContext {
    return this.torrent;
  }

  get metadata(): Promise<Torrent> {
    return Promise.resolve(this.torrent);
  }

  get running(): boolean {
    return this.core.running;
  }

  get extensionNames(): string[] {
    return this.core.extensionNames();
  }

  get verified(): Bitfield {
    return this.core.store.verified.clone();
  }

  get wantedFiles(): ReadonlySet<number> {
    return this.core.store.wantedFiles;
  }

  stats(): SessionStats {
    return this.core.stats();
  }

  peers(): PeerInfo[] {
    return [...this.core.peerMap.values()].map((peer) => this.core.info(peer));
  }

  addPeers(addresses: readonly PeerAddress[], source = "user"): void {
    this.core.addPeers(addresses, source);
    if (this.core.running) this.#connectMore();
  }

  setLimits(limits: RateLimits): void {
    if ("downloadLimit" in limits) this.core.downloadLimiter.setLimit(limits.downloadLimit);
    if ("uploadLimit" in limits) this.core.uploadLimiter.setLimit(limits.uploadLimit);
  }

  limits(): Required<RateLimits> {
    return {
      downloadLimit: this.core.downloadLimiter.limit,
      uploadLimit: this.core.uploadLimiter.limit,
    };
  }

  start(): void {
    const core = this.core;
    if (this.#stopped || core.running) return;
    core.running = true;
    this.events.emit("started", {
      infoHash: this.infoHash,
      name: this.torrent.name,
      verifiedPieces: core.store.verified.count(),
    });
    for (const message of this.#storageWarnings.splice(0)) {
      this.events.emit("warning", { source: "storage", message });
    }
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    const port = this.#host.port;
    if (port) {
      for (const host of ["127.0.0.1", "0.0.0.0", "localhost", "::1"]) {
        core.pool.exclude(addressKey(host, port));
      }
    }
    this.#completeAtStart ??= core.store.complete;
    this.#sources.start(this.#sourceContext(), (peers, source) => this.addPeers(peers, source));
    this.#checkCompleted();
    this.#webSeeds.start();
    this.#connectMore();
  }

  #sourceContext(): PeerSourceContext {
    const core = this.core;
    return {
      torrent: this.torrent,
      infoHash: this.torrent.infoHash,
      infoHashHex: this.torrent.infoHashHex,
      infoHashV2: this.infoHashV2Bytes,
      trackers: this.torrent.announce,
      peerId: this.#host.peerId,
      port: this.#host.port ?? 0,
      stats: () => announceStats(core.stats()),
      report: (event) => this.events.emit("tracker", event),
      warn: (message) => this.events.emit("warning", { source: "peers", message }),
    };
  }

  pause(): void {
    const core = this.core;
    if (!core.running) return;
    core.running = false;
    clearInterval(this.#timer);
    void this.#sources.stop();
    this.#webSeeds.stop("paused");
    for (const peer of [...core.peerMap.values()]) peer.close("paused");
  }

  stop(reason = "stopped"): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const core = this.core;
    this.pause();
    this.#stopped = true;
    await this.#sources.stop();
    core.forAgents((agent) => agent.detach?.());
    // Peers and agents still waiting for tokens go: nothing more is transferred.
    core.downloadLimiter.close();
    core.uploadLimiter.close();
    core.clearCache();
    // Let blocks already handed to storage land before closing it.
    core.store.flushBatches();
    for (let i = 0; i < 1000 && core.pendingWriteBytes > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    try {
      await core.store.close();
    } catch (error) {
      this.events.emit("error", { error: error as Error });
    }
    if (!this.#completedOnce) {
      this.#rejectCompleted(this.#failed ?? new Error(`session ${reason} before completing`));
    }
    this.events.emit("stopped", { reason });
    this.#host.removed(this);
  }

  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array> {
    if (this.#stopped) {
      throw new StreamError("stopped", `file ${fileIndex}`, "the session has stopped");
    }
    return createFileStream(this.#streamSource(), fileIndex, options);
  }

  serveFile(request: Request, fileIndex: number): Promise<Response> {
    return serveFile(this, request, fileIndex);
  }

  #streamSource(): StreamSource {
    const store = this.core.store;
    return {
      torrent: this.torrent,
      priorities: this.core.priorities,
      readable: store.canServe,
      isVerified: (piece) => store.verified.get(piece),
      isWanted: (piece) => store.wanted.get(piece),
      read: (piece, offset, length) => store.readBlock(piece, offset, length),
      onVerified: (listener) => this.events.on("piece-verified", ({ index }) => listener(index)),
      onStopped: (listener) => this.events.on("stopped", ({ reason }) => listener(reason)),
    };
  }

  /** Selects the files to download and brings the agents' view in step. */
  setWantedFiles(indices: Iterable<number>): void {
    this.core.store.setWantedFiles(indices);
    this.#wantedChanged();
  }

  /** Verifies every piece against the data again; transfers pause meanwhile. */
  recheck(): Promise<void> {
    this.#pendingRecheck ??= this.#recheck().finally(() => this.#pendingRecheck = undefined);
    return this.#pendingRecheck;
  }

  async #recheck(): Promise<void> {
    const wasRunning = this.core.running;
    this.pause();
    try {
      await this.core.store.recheck();
    } finally {
      this.#wantedChanged();
      if (wasRunning && !this.#stopped) this.start();
    }
  }

  #wantedChanged(): void {
    const core = this.core;
    core.forAgents((agent) => agent.wantedChanged?.());
    // More files wanted after completing: the session downloads (and completes) again.
    if (!core.store.complete) this.#completedOnce = false;
    this.#checkCompleted();
    if (core.running) this.#webSeeds.start();
  }

  /** Whether this session takes one more peer at `key` from `host`. */
  accepts(key: string, host: string, port: number): boolean {
    const core = this.core;
    if (!core.running || core.peerMap.has(key) || core.peerMap.size >= core.config.maxPeers) {
      return false;
    }
    return !core.bans.refuses(host, addressKey(host, port));
  }

  /** A dial of `address` did not produce a connection. */
  dialFailed(address: PeerAddress, error: unknown): void {
    const key = addressKey(address.host, address.port);
    this.#dialing.delete(key);
    const reason = describeFailure(error);
    this.core.pool.failed(key, failureCode(error));
    this.events.emit("peer-failed", { address: key, reason });
  }

  /** A dial of `address` was called off before connecting (limits, runtime closing). */
  dialCancelled(address: PeerAddress): void {
    const key = addressKey(address.host, address.port);
    this.#dialing.delete(key);
    this.core.pool.released(key);
  }

  /** Takes over a connection whose handshake succeeded (or that had a metadata phase). */
  attach(
    wire: PeerWire,
    host: string,
    port: number,
    incoming: boolean,
    handover?: Handover,
  ): void {
    const core = this.core;
    const key = addressKey(host, port);
    this.#dialing.delete(key);
    const link = new WireLink(wire, handover?.pending, this.torrent.infoHashV2Truncated);
    const connection = { ownId: this.#host.peerId, peerId: link.peerId, incoming, key };
    if (
      !admitConnection(
        connection,
        core.peerMap.values(),
        core.pool,
        () => this.accepts(key, host, port),
      )
    ) {
      link.close();
      return;
    }
    const store = core.store;
    const config = core.config;
    const peer = new Peer(link, host, port, incoming, this.#host.clientName(link.peerId), {
      pieceCount: this.torrent.pieceCount,
      maxQueueDepth: config.maxQueueDepth,
      maxUploadQueue: config.maxUploadQueue,
      requestTimeoutMs: config.requestTimeoutMs,
      maxUnrequestedBlocks: config.maxUnrequestedBlocks,
      requestProblem: (block) => link.requestProblem(block),
      has: (index) => store.verified.get(index),
      countDownload: (bytes, now) => core.downloadMeter.add(bytes, now),
      countUpload: (bytes, now) => core.uploadMeter.add(bytes, now),
    });
    let closeReason = "closed by peer";
    peer.onClose = (reason) => closeReason = reason;
    core.peerMap.set(key, peer);
    core.pool.succeeded(key);
    this.#stall = undefined;
    this.events.emit("peer-connected", core.info(peer));
    core.forAgents((agent) => agent.opened?.(peer));
    // `connected` waits for the extended handshake, so agents can ask what the peer supports.
    void link.extendedHandshakeArrived(config.extendedHandshakeTimeoutMs).then(() => {
      if (peer.closed || core.peerMap.get(peer.key) !== peer) return;
      core.forAgents((agent) => agent.connected?.(peer));
    });
    void this.#read(peer, link, handover?.held ?? []).then(
      () => ({ reason: closeReason, code: "closed" }),
      (error: Error) => ({ reason: error.message, code: failureCode(error) }),
    ).then(({ reason, code }) => this.#detach(peer, reason, code));
  }

  async #read(peer: Peer, link: WireLink, held: readonly Message[]): Promise<void> {
    const core = this.core;
    for (const message of held) {
      if (peer.closed || !this.#receive(peer, link, message)) return;
    }
    const limiter = core.downloadLimiter;
    for (;;) {
      // Messages already in the read buffer are taken without a promise each.
      const message = link.nextBuffered() ?? await link.next();
      if (message === undefined || peer.closed) return;
      const payload = message.type === "piece" ? message.block.length : 0;
      if (!this.#receive(peer, link, message)) return;
      // Over the download limit, the peer's next message waits for its turn (FIFO among
      // peers): its socket is not read meanwhile, so TCP slows the sender down.
      const throttled = payload > 0 ? limiter.take(payload) : undefined;
      if (throttled) await throttled;
      const drained = core.writesDrained();
      if (drained) await drained;
      // A peer whose requests we cannot take yet waits: its socket fills, not our memory.
      if (peer.requestQueueFull) await peer.requestRoom();
    }
  }

  /** Applies one message and hands it to the agents; `false` when the peer must go. */
  #receive(peer: Peer, link: WireLink, message: Message): boolean {
    const core = this.core;
    if (message.type === "extended") {
      if (message.id === 0) {
        // Now the peer's listen port is known: a banned peer that reconnected goes.
        if (core.bans.has(peer)) {
          peer.close("banned");
          return false;
        }
        const handshake = peer.extendedHandshake;
        if (handshake) {
          core.forAgents((agent) => agent.extendedHandshakeReceived?.(peer, handshake));
        }
      } else {
        const extended = link.extended(message);
        if (extended) core.dispatchExtended(peer, extended.name, extended.payload);
      }
    } else {
      const applied = peer.receive(message);
      if (applied) {
        core.dispatch(peer, applied);
        peer.settle(applied);
      }
    }
    return true;
  }

  #detach(peer: Peer, reason: string, code: string): void {
    const core = this.core;
    if (core.peerMap.get(peer.key) !== peer) return;
    if (!peer.closed) peer.close(reason);
    core.peerMap.delete(peer.key);
    for (const agent of core.agents) {
      try {
        agent.disconnected?.(peer, reason);
      } catch { /* an agent's failure must not keep a dead peer around */ }
    }
    if (!peer.incoming) {
      if (core.bans.has(peer)) core.pool.exclude(peer.key);
      else if (OUR_REASONS.test(reason)) core.pool.released(peer.key);
      else core.pool.failed(peer.key, code);
    }
    this.events.emit("peer-disconnected", { ...core.info(peer), reason });
    if (core.running) this.#connectMore();
  }

  #pieceVerified(index: number): void {
    this.#verifiedSinceSave = true;
    this.events.emit("piece-verified", { index });
    this.#checkCompleted();
  }

  #checkCompleted(): void {
    const core = this.core;
    if (this.#completedOnce || !core.store.complete) return;
    this.#completedOnce = true;
    const stats = core.stats();
    this.events.emit("completed", stats);
    this.#resolveCompleted(stats);
    // Trackers hear `completed` only for a download that finished here, not for a seed.
    if (!this.#completeAtStart) this.#sources.completed();
    this.#webSeeds.stop("completed");
    // Seeds have nothing for each other, unless a stream still reads a skipped file.
    if (!core.priorities.active) {
      for (const peer of [...core.peerMap.values()]) {
        if (peer.pieces.hasAll()) peer.close("both complete");
      }
    }
    if (!core.config.seed) this.#stopOnceUnread();
  }

  /** Stops the completed session, once no stream reads from it any more. */
  #stopOnceUnread(): void {
    const priorities = this.core.priorities;
    if (!priorities.active) return void this.stop("completed");
    const stopListening = priorities.onChange(() => {
      if (priorities.active) return;
      stopListening();
      void this.stop("completed");
    });
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = error;
    this.events.emit("error", { error });
    void this.stop("failed");
  }

  #tick(): void {
    const core = this.core;
    if (!core.running) return;
    const now = Date.now();
    core.forAgents((agent) => agent.tick?.(core));
    core.store.flushIdleBatches();
    for (const peer of core.peerMap.values()) {
      for (const agent of core.agents) {
        if (peer.closed) break;
        agent.produce?.(peer);
      }
    }
    this.#connectMore();
    this.#checkStalled();
    if (this.#verifiedSinceSave && now - this.#resumeSavedAt >= core.config.resumeIntervalMs) {
      this.#resumeSavedAt = now;
      this.#verifiedSinceSave = false;
      core.store.saveResume().catch((error: Error) =>
        this.events.emit("warning", { source: "resume", message: error.message })
      );
    }
    this.events.emit("progress", core.stats());
  }

  /** Emits `stalled` once when nothing is connected, dialled or ready to dial. */
  #checkStalled(): void {
    const core = this.core;
    if (
      core.peerMap.size > 0 || this.#dialing.size > 0 || this.#completedOnce ||
      this.#webSeeds.active
    ) {
      this.#stall = undefined;
      return;
    }
    const reason = stallReason(core.pool, core.bans.size, this.#sources.names);
    if (reason === undefined || reason === this.#stall) return;
    this.#stall = reason;
    this.events.emit("stalled", { reason });
  }

  #connectMore(): void {
    const core = this.core;
    if (!core.running || this.#completedOnce && !core.config.seed) return;
    const room = core.config.maxPeers - core.peerMap.size - this.#dialing.size;
    if (room <= 0) return;
    const skip = (address: PeerAddress, key: string) =>
      core.peerMap.has(key) || this.#dialing.has(key) || core.bans.refuses(address.host, key);
    for (const address of core.pool.take(room, skip)) {
      if (!this.#host.canDial(address)) {
        core.pool.released(addressKey(address.host, address.port));
        continue;
      }
      this.#dialing.add(addressKey(address.host, address.port));
      this.#host.dial(this, address);
    }
  }
}

/** A short code for a failure: back-off is counted per code. */
export function failureCode(error: unknown): string {
  if (error instanceof ProtocolError || error instanceof PeerViolation) return error.code;
  if (error instanceof Deno.errors.ConnectionRefused) return "refused";
  if (error instanceof Error && error.name === "TimeoutError") return "timeout";
  return "connect";
}

/** What a user reads about a failed connection attempt. */
export function describeFailure(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Error && error.name === "TimeoutError") return "connection timed out";
  if (error instanceof ProtocolError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return error.code === "rejected"
      ? `handshake rejected: ${error.message}`
      : `${error.message}${error.code === "connection-closed" ? cause : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * One torrent being downloaded or seeded on a {@linkcode Runtime}: its peers,
 * pieces, agents and events. Get one from {@linkcode Runtime.add}.
 *
 * @example Downloading and waiting for completion
 * ```ts
 * import { Runtime } from "@bittern/bittern";
 *
 * declare const torrentBytes: Uint8Array;
 * await using runtime = new Runtime({ listen: false });
 * const session = await runtime.add(torrentBytes, {
 *   out: "./downloads",
 *   peers: [{ host: "127.0.0.1", port: 6881 }],
 * });
 * session.events.on("progress", (stats) => console.log(stats.progress));
 * await session.completed;
 * ```
 */
export interface TorrentSession {
  /**
   * The torrent. A session added from a magnet link has none until its
   * metadata arrives: reading it earlier throws (await
   * {@linkcode TorrentSession.metadata}, or listen for the `metadata` event).
   */
  readonly torrent: Torrent;
  /** Resolves with the torrent once its metadata is known (at once unless added from a magnet link). */
  readonly metadata: Promise<Torrent>;
  /** Events: progress, peers, pieces, completion, errors. */
  readonly events: Emitter<SessionEvents>;
  /** Resolves when every wanted piece is verified; rejects if the session fails first. */
  readonly completed: Promise<SessionStats>;
  /** Lowercase hex info hash. */
  readonly infoHash: string;
  /** Whether the session is running (started and not stopped or paused). */
  readonly running: boolean;
  /** Names of the extended messages this session's agents speak. */
  readonly extensionNames: string[];
  /** Pieces verified so far (a copy). */
  readonly verified: Bitfield;
  /** Indices of the files being downloaded. */
  readonly wantedFiles: ReadonlySet<number>;
  /** Current transfer figures. */
  stats(): SessionStats;
  /** The connected peers. */
  peers(): PeerInfo[];
  /**
   * Offers peer addresses to connect to.
   *
   * @param addresses Where peers listen.
   * @param source Where they came from, for logs (default `"user"`).
   */
  addPeers(addresses: readonly PeerAddress[], source?: string): void;
  /**
   * Changes this torrent's rate limits while it runs (the runtime's,
   * {@linkcode Runtime.setLimits}, apply too). A limit not named is kept;
   * 0 or `undefined` makes it unlimited.
   *
   * @example Capping uploads once the download is done
   * ```ts
   * import type { TorrentSession } from "@bittern/bittern";
   *
   * declare const session: TorrentSession;
   * await session.completed;
   * session.setLimits({ uploadLimit: 512 * 1024 });
   * ```
   *
   * @param limits Bytes per second of piece payload.
   */
  setLimits(limits: RateLimits): void;
  /** This torrent's own rate limits in force (0: unlimited). */
  limits(): Required<RateLimits>;
  /**
   * Selects the files to download (indices into `torrent.files`); pieces,
   * interest and piece selection follow at once.
   *
   * @param indices The files wanted.
   */
  setWantedFiles(indices: Iterable<number>): void;
  /** Verifies every piece against the data again (transfers pause meanwhile). */
  recheck(): Promise<void>;
  /**
   * A stream of a file's bytes (`start..end`, both inclusive; the whole file
   * by default), yielded in order as their pieces verify, read back from
   * storage. While it is open, the pieces just ahead of its reader are
   * fetched before anything else (the next one from several peers at once),
   * the rest of the torrent at lower priority; a file that was not selected
   * is fetched as far as the stream reads. Cancelling it frees everything.
   * Several streams may be open at once; each holds at most 256 KiB read ahead.
   *
   * @example Reading the middle of file 0 while it downloads
   * ```ts
   * import type { TorrentSession } from "@bittern/bittern";
   *
   * declare const session: TorrentSession;
   * const stream = session.createReadStream(0, { start: 1 << 20, end: (2 << 20) - 1 });
   * for await (const chunk of stream) console.log(chunk.length);
   * ```
   *
   * @param fileIndex The file, by the index `bittern info` shows (padding files not counted).
   * @param options The byte range.
   * @throws {StreamError} `bad-file`, `bad-range`, `unreadable` (write-only
   * storage) or `stopped`; a session that stops under an open stream errors it
   * with `stopped`. A magnet link's session waits for its metadata first.
   */
  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array>;
  /**
   * Answers an HTTP request for one file with {@linkcode serveFile}: `Range`
   * (206, 416), `HEAD`, `Content-Type` by extension; the body streams as the
   * file downloads.
   *
   * @example
   * ```ts
   * import type { TorrentSession } from "@bittern/bittern";
   *
   * declare const session: TorrentSession;
   * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, (request) => session.serveFile(request, 0));
   * ```
   *
   * @param request The HTTP request.
   * @param fileIndex The file.
   * @returns The response.
   */
  serveFile(request: Request, fileIndex: number): Promise<Response>;
  /** Starts (or resumes) connecting, downloading and serving. */
  start(): void;
  /** Disconnects every peer and stops transferring; {@linkcode TorrentSession.start} resumes. */
  pause(): void;
  /**
   * Stops the session for good: peers are closed, pending writes finish,
   * storage is flushed and closed.
   *
   * @param reason Why, for the `stopped` event (default `"stopped"`).
   */
  stop(reason?: string): Promise<void>;
}
