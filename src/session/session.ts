import type { MessagingAgent, PeerAddress } from "../agents/agent.ts";
import { pieceLengthAt, type Torrent } from "../metainfo/torrent.ts";
import type { PieceStore } from "../storage/piece_store.ts";
import type { Emitter } from "../util/emitter.ts";
import type { PieceMessage } from "../wire/messages.ts";
import type { PeerWire } from "../wire/peer_wire.ts";
import { chokerAgent } from "./agents/choker.ts";
import { downloadAgent, fillRequests, releaseAll, updateInterestIn } from "./agents/download.ts";
import { pieceExchangeAgent } from "./agents/exchange.ts";
import { uploadAgent } from "./agents/upload.ts";
import { type SessionConfig, SessionCore } from "./core.ts";
import type { PeerInfo, SessionEvents, SessionStats } from "./events.ts";
import { BlockPool } from "./block_pool.ts";
import { WireLink } from "./link.ts";
import { addressKey, Peer } from "./peer.ts";
import type { PieceSelector } from "../picker/selector.ts";
import type { PeerSourceContext } from "../peers/source.ts";
import type { SourceRunner } from "./sources.ts";

/** What a session needs from the runtime it runs on. */
export interface SessionHost {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The runtime's listening port, if listening. */
  readonly port: number | undefined;
  /** Whether the runtime allows one more connection. */
  canConnect(): boolean;
  /** Dials `address` for `session`; calls `session.attach` or `session.dialFailed`. */
  dial(session: TorrentSession, address: PeerAddress): void;
  /** Names a client from its peer id. */
  clientName(peerId: Uint8Array): string;
  /** The session stopped: forget it. */
  removed(session: TorrentSession): void;
}

const TICK_MS = 1000;

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
export class TorrentSession {
  /** The torrent. */
  readonly torrent: Torrent;
  /** Events: progress, peers, pieces, completion, errors. */
  readonly events: Emitter<SessionEvents>;
  /** Resolves when every wanted piece is verified; rejects if the session fails first. */
  readonly completed: Promise<SessionStats>;
  /** The pieces and storage of this torrent. */
  readonly store: PieceStore;
  readonly #core: SessionCore;
  readonly #host: SessionHost;
  readonly #sources: SourceRunner;
  readonly #dialing = new Set<string>();
  readonly #hashStrikes = new Map<string, number>();
  readonly #blockPool: BlockPool;
  #timer: ReturnType<typeof setInterval> | undefined;
  #resolveCompleted!: (stats: SessionStats) => void;
  #rejectCompleted!: (error: Error) => void;
  #stopped = false;
  /** When the resume file was last written, and whether pieces verified since. */
  #resumeSavedAt = Date.now();
  #verifiedSinceSave = false;
  /** Whether every wanted piece was already there when the session started. */
  #completeAtStart: boolean | undefined;
  #stopping: Promise<void> | undefined;
  #failed: Error | undefined;

  /** @internal Created by {@linkcode Runtime.add}. */
  constructor(
    host: SessionHost,
    store: PieceStore,
    selector: PieceSelector,
    config: SessionConfig,
    agents: readonly MessagingAgent[],
    sources: SourceRunner,
  ) {
    this.#host = host;
    this.#sources = sources;
    this.store = store;
    this.torrent = store.torrent;
    const core = new SessionCore(store.torrent, store, selector, config);
    this.#core = core;
    // A few MiB of idle buffers cover the steady state; bursts allocate and GC takes the rest.
    this.#blockPool = new BlockPool(
      config.blockSize,
      Math.min(256, config.maxPendingWriteBytes / config.blockSize),
    );
    this.events = core.events;
    core.port = host.port;
    selector.init(store.torrent.pieceCount);
    for (let i = 0; i < store.torrent.pieceCount; i++) {
      if (!core.needs(i)) selector.pieceDone(i);
    }
    core.useAgents([
      pieceExchangeAgent(core),
      downloadAgent(core, (peer, message) => this.#onBlock(peer, message)),
      uploadAgent(core),
      chokerAgent(core),
      ...agents,
    ]);
    for (const agent of core.agents) agent.attach?.(core);
    this.completed = new Promise((resolve, reject) => {
      this.#resolveCompleted = resolve;
      this.#rejectCompleted = reject;
    });
    // Awaiting is optional: a failure is also an `error` event.
    this.completed.catch(() => {});
  }

  /** Lowercase hex info hash. */
  get infoHash(): string {
    return this.torrent.infoHashHex;
  }

  /** Whether the session is running (started and not stopped or paused). */
  get running(): boolean {
    return this.#core.running;
  }

  /** Names of the extended messages this session's agents speak. */
  get extensionNames(): string[] {
    return this.#core.extensionNames();
  }

  /** Current transfer figures. */
  stats(): SessionStats {
    return this.#core.stats();
  }

  /** The connected peers. */
  peers(): PeerInfo[] {
    return [...this.#core.peerMap.values()].map((peer) => this.#core.info(peer));
  }

  /**
   * Offers peer addresses to connect to.
   *
   * @param addresses Where peers listen.
   * @param source Where they came from, for logs (e.g. `"tracker"`).
   */
  addPeers(addresses: readonly PeerAddress[], source = "user"): void {
    this.#core.addPeers(addresses, source);
    if (this.#core.running) this.#connectMore();
  }

  /** Starts (or resumes) connecting, downloading and serving. */
  start(): void {
    if (this.#stopped || this.#core.running) return;
    this.#core.running = true;
    this.events.emit("started", {
      infoHash: this.infoHash,
      name: this.torrent.name,
      verifiedPieces: this.store.verified.count(),
    });
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    const port = this.#host.port;
    if (port) {
      for (const host of ["127.0.0.1", "0.0.0.0", "localhost", "::1"]) {
        this.#core.pool.exclude(addressKey(host, port));
      }
    }
    this.#completeAtStart ??= this.store.complete;
    this.#sources.start(this.#sourceContext(), (peers, source) => this.addPeers(peers, source));
    this.#checkCompleted();
    this.#connectMore();
  }

  #sourceContext(): PeerSourceContext {
    const core = this.#core;
    return {
      torrent: this.torrent,
      peerId: this.#host.peerId,
      port: this.#host.port ?? 0,
      stats: () => {
        const stats = core.stats();
        return {
          uploaded: stats.uploaded,
          downloaded: stats.downloaded,
          left: stats.wantedBytes - stats.verifiedBytes,
        };
      },
      report: (event) => this.events.emit("tracker", event),
      warn: (message) => this.events.emit("warning", { source: "peers", message }),
    };
  }

  /** Disconnects every peer and stops transferring; {@linkcode TorrentSession.start} resumes. */
  pause(): void {
    if (!this.#core.running) return;
    this.#core.running = false;
    clearInterval(this.#timer);
    void this.#sources.stop();
    for (const peer of [...this.#core.peerMap.values()]) peer.close("paused");
  }

  /**
   * Stops the session for good: peers are closed, pending writes finish,
   * storage is flushed and closed.
   *
   * @param reason Why, for the `stopped` event.
   */
  stop(reason = "stopped"): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    this.pause();
    this.#stopped = true;
    await this.#sources.stop();
    for (const agent of this.#core.agents) agent.detach?.();
    // Let blocks already handed to storage land before closing it.
    for (let i = 0; i < 1000 && this.#core.pendingWriteBytes > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    try {
      await this.store.close();
    } catch (error) {
      this.events.emit("error", { error: error as Error });
    }
    if (!this.#core.completed) {
      this.#rejectCompleted(this.#failed ?? new Error(`session ${reason} before completing`));
    }
    this.events.emit("stopped", { reason });
    this.#host.removed(this);
  }

  /** @internal Whether this session will take one more peer at `key`. */
  accepts(key: string): boolean {
    const core = this.#core;
    return core.running && !core.banned.has(key) && !core.peerMap.has(key) &&
      core.peerMap.size < core.config.maxPeers;
  }

  /** @internal A dial for `key` did not produce a connection. */
  dialFailed(key: string): void {
    this.#dialing.delete(key);
    this.#core.pool.failed(key);
  }

  /** @internal Takes over a connection whose handshake succeeded. */
  attach(wire: PeerWire, host: string, port: number, incoming: boolean): void {
    const core = this.#core;
    const key = addressKey(host, port);
    this.#dialing.delete(key);
    const link = new WireLink(wire);
    const selfConnection = link.peerId.every((byte, i) => byte === this.#host.peerId[i]);
    const sameId = [...core.peerMap.values()].some((other) =>
      other.peerId.every((byte, i) => byte === link.peerId[i])
    );
    if (selfConnection || sameId || !this.accepts(key)) {
      if (selfConnection) core.pool.exclude(key);
      link.close();
      return;
    }
    const peer = new Peer(
      link,
      host,
      port,
      this.torrent.pieceCount,
      incoming,
      this.#host.clientName(link.peerId),
      core.config.initialQueueDepth,
    );
    peer.maxRequests = Math.min(link.remoteRequestQueue ?? 250, core.config.maxQueueDepth);
    let closeReason = "closed by peer";
    peer.onClose = (reason) => closeReason = reason;
    core.peerMap.set(key, peer);
    core.pool.succeeded(key);
    this.events.emit("peer-connected", core.info(peer));
    for (const agent of core.agents) agent.opened?.(peer);
    // `connected` waits for the extended handshake, so agents can ask what the peer supports.
    void link.extendedHandshakeArrived(core.config.extendedHandshakeTimeoutMs).then(() => {
      if (peer.closed || core.peerMap.get(peer.key) !== peer) return;
      for (const agent of core.agents) agent.connected?.(peer);
    });
    void this.#read(peer, link).then(
      () => closeReason,
      (error: Error) => error.message,
    ).then((reason) => this.#detach(peer, reason === "closed by peer" ? closeReason : reason));
  }

  async #read(peer: Peer, link: WireLink): Promise<void> {
    const core = this.#core;
    for (;;) {
      const message = await link.next();
      if (message === undefined || peer.closed) return;
      if (message.type === "extended") {
        if (message.id === 0) {
          const queue = link.remoteRequestQueue;
          if (queue) peer.maxRequests = Math.min(queue, core.config.maxQueueDepth);
          const handshake = link.extendedHandshake!;
          for (const agent of core.agents) agent.extendedHandshakeReceived?.(peer, handshake);
        } else {
          const extended = link.extended(message);
          if (extended) core.dispatchExtended(peer, extended.name, extended.payload);
        }
      } else {
        core.dispatch(peer, message);
      }
      const drained = core.writesDrained();
      if (drained) await drained;
    }
  }

  #detach(peer: Peer, reason: string): void {
    const core = this.#core;
    if (core.peerMap.get(peer.key) !== peer) return;
    if (!peer.closed) peer.close(reason);
    core.peerMap.delete(peer.key);
    for (const agent of core.agents) {
      try {
        agent.disconnected?.(peer, reason);
      } catch { /* an agent's failure must not keep a dead peer around */ }
    }
    if (core.banned.has(peer.key)) core.pool.exclude(peer.key);
    else core.pool.released(peer.key);
    this.events.emit("peer-disconnected", { ...core.info(peer), reason });
    if (core.running) this.#connectMore();
  }

  #onBlock(peer: Peer, message: PieceMessage): void {
    const core = this.#core;
    const { blocks, config } = core;
    const length = message.block.length;
    const now = Date.now();
    peer.download.add(length, now);
    core.downloadMeter.add(length, now);
    peer.lastBlockAt = now;
    if (message.begin % config.blockSize !== 0) return;
    const block = message.begin / config.blockSize;
    const key = blocks.key(message.index, block);
    const wasOutstanding = peer.outstanding.delete(key);
    if (
      message.begin >= pieceLengthAt(this.torrent, message.index) ||
      blocks.lengthOf(key) !== length
    ) return;
    const download = blocks.downloads.get(message.index);
    const duplicates = download ? download.requesters[block] > 1 : false;
    if (!blocks.receive(key, peer.key)) return fillRequests(core, peer);
    if (wasOutstanding && peer.queueDepth < peer.maxRequests) peer.queueDepth++;
    if (duplicates) this.#cancelElsewhere(peer, key, message.index, message.begin, length);
    core.pendingWriteBytes += length;
    // The block is a view into the socket's read buffer, which the next read overwrites.
    const copy = this.#blockPool.copy(message.block);
    this.store.writeBlock(message.index, message.begin, copy).then(
      (result) => {
        this.#blockPool.release(copy);
        core.writeSettled(length);
        if (result.status === "verified") this.#pieceVerified(result.piece);
        else if (result.status === "failed") this.#pieceFailed(result.piece);
      },
      (error: Error) => {
        this.#blockPool.release(copy);
        core.writeSettled(length);
        this.#fail(error);
      },
    );
    fillRequests(core, peer);
  }

  #cancelElsewhere(receiver: Peer, key: number, index: number, begin: number, length: number) {
    for (const other of this.#core.peerMap.values()) {
      if (other === receiver || !other.outstanding.delete(key)) continue;
      other.send({ type: "cancel", index, begin, length });
    }
  }

  #pieceVerified(index: number): void {
    const core = this.#core;
    core.blocks.finish(index);
    core.selector.pieceDone(index);
    for (const peer of core.peerMap.values()) {
      peer.send({ type: "have", index });
      // Interest stays exact: a peer whose last useful piece this was stops being interesting.
      if (peer.amInterested && peer.pieces.get(index)) updateInterestIn(core, peer);
    }
    this.#verifiedSinceSave = true;
    this.events.emit("piece-verified", { index });
    this.#checkCompleted();
  }

  #pieceFailed(index: number): void {
    const core = this.#core;
    const contributors = core.blocks.fail(index);
    this.events.emit("piece-failed", { index, peers: [...contributors] });
    for (const key of contributors) {
      const strikes = (this.#hashStrikes.get(key) ?? 0) + 1;
      this.#hashStrikes.set(key, strikes);
      if (strikes < core.config.maxHashFailures) continue;
      core.banned.add(key);
      core.pool.exclude(key);
      const peer = core.peerMap.get(key);
      const reason = `sent ${strikes} pieces that failed the hash check`;
      if (peer) {
        this.events.emit("peer-banned", { ...core.info(peer), reason });
        peer.close(`banned: ${reason}`);
      }
    }
    for (const peer of core.peerMap.values()) fillRequests(core, peer);
  }

  #checkCompleted(): void {
    const core = this.#core;
    if (core.completed || !this.store.complete) return;
    core.completed = true;
    const stats = core.stats();
    this.events.emit("completed", stats);
    this.#resolveCompleted(stats);
    // Trackers hear `completed` only for a download that finished here, not for a seed.
    if (!this.#completeAtStart) this.#sources.completed();
    for (const peer of core.peerMap.values()) {
      updateInterestIn(core, peer);
      // Seeds have nothing for each other.
      if (peer.pieces.hasAll()) peer.close("both complete");
    }
    if (!core.config.seed) void this.stop("completed");
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = error;
    this.events.emit("error", { error });
    void this.stop("failed");
  }

  #tick(): void {
    const core = this.#core;
    if (!core.running) return;
    const now = Date.now();
    for (const agent of core.agents) agent.tick?.(core);
    for (const peer of core.peerMap.values()) {
      if (peer.outstanding.size && now - peer.lastBlockAt > core.config.requestTimeoutMs) {
        // Snubbed: give its requests to others and ask it for one block at a time.
        peer.queueDepth = 1;
        peer.lastBlockAt = now;
        releaseAll(core, peer);
      }
      core.produce(peer);
    }
    this.#connectMore();
    if (this.#verifiedSinceSave && now - this.#resumeSavedAt >= core.config.resumeIntervalMs) {
      this.#resumeSavedAt = now;
      this.#verifiedSinceSave = false;
      this.store.saveResume().catch((error: Error) =>
        this.events.emit("warning", { source: "resume", message: error.message })
      );
    }
    this.events.emit("progress", core.stats());
  }

  #connectMore(): void {
    const core = this.#core;
    if (!core.running || core.completed && !core.config.seed) return;
    const room = core.config.maxPeers - core.peerMap.size - this.#dialing.size;
    if (room <= 0) return;
    const busy = (key: string) => core.peerMap.has(key) || this.#dialing.has(key);
    for (const address of core.pool.take(room, busy)) {
      if (!this.#host.canConnect()) {
        core.pool.released(addressKey(address.host, address.port));
        break;
      }
      this.#dialing.add(addressKey(address.host, address.port));
      this.#host.dial(this, address);
    }
  }
}
