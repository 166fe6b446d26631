import type { AgentPeer, MessagingAgent, MetadataSession } from "../agents/agent.ts";
import { metainfoFromInfo } from "../metainfo/from_info.ts";
import type { Magnet } from "../metainfo/magnet.ts";
import { parseTorrent } from "../metainfo/parse.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { PeerSourceContext } from "../peers/source.ts";
import { addressKey, type PeerAddress } from "../util/address.ts";
import { Bitfield } from "../util/bitfield.ts";
import { Emitter } from "../util/emitter.ts";
import { DEFAULT_WIRE_LIMITS } from "../wire/limits.ts";
import type { Message } from "../wire/messages.ts";
import type { PeerWire } from "../wire/peer_wire.ts";
import { Bans } from "./bans.ts";
import type { SessionConfig } from "./core.ts";
import type { PeerInfo, SessionEvents, SessionStats } from "./events.ts";
import type { HostedSession } from "./hosted.ts";
import type { RateLimits } from "./options.ts";
import { admitConnection } from "./duplicates.ts";
import { WireLink } from "./link.ts";
import { MAX_ALLOWED_FAST, MAX_SUGGESTED, Peer, PeerViolation } from "./peer.ts";
import { PeerPool, stallReason } from "./pool.ts";
import {
  announceStats,
  describeFailure,
  failureCode,
  type SessionEngine,
  type SessionHost,
  type TorrentSession,
} from "./session.ts";
import type { SourceRunner } from "./sources.ts";
import { StreamError } from "../stream/errors.ts";
import type { ReadStreamOptions } from "../stream/read_stream.ts";
import { serveFile } from "../stream/serve.ts";

const TICK_MS = 1000;

/** Highest piece index a `have` may name before the piece count is known (the bitfield bound). */
const MAX_HELD_PIECES = DEFAULT_WIRE_LIMITS.maxBitfieldLength * 8;

/** What announces say is left while the size is unknown (libtorrent does the same). */
const UNKNOWN_LEFT = 16 * 1024;

/** Opens the torrent's session once its metadata is known (not started). */
export type OpenSession = (
  torrent: Torrent,
  host: SessionHost,
  pool: PeerPool,
  wantedFiles: readonly number[] | undefined,
) => Promise<SessionEngine>;

/** One connection of the metadata phase, and what it said that waits for the piece count. */
interface PhasePeer {
  readonly peer: Peer;
  readonly link: WireLink;
  readonly wire: PeerWire;
  readonly incoming: boolean;
  /** The latest extended handshake message, replayed to the session's agents. */
  extendedHandshake?: Message;
  /** The peer's bitfield (a copy), applied once the piece count is known. */
  bitfield?: Uint8Array;
  /** Fast extension: the peer said `have-all` or `have-none` instead of a bitfield. */
  haveAll?: "have-all" | "have-none";
  /** Fast extension: `allowed-fast` and `suggest-piece` messages, replayed once in range. */
  hints?: Message[];
  /** Pieces announced by `have`, as bits (grows up to {@linkcode MAX_HELD_PIECES}). */
  haves?: Uint8Array;
  /** The read in flight; the session takes it over. */
  pending?: Promise<Message | undefined>;
  handedOver: boolean;
}

/**
 * A session started from a magnet link. Until the metadata is known it runs
 * the metadata phase itself: peers from the magnet's trackers and `x.pe`,
 * the user's peers and sources, connected under the runtime's limits, with
 * `bitfield` and `have` held, and the agents that have a `beforeMetadata`
 * part (the `ut_metadata` agent) fetching the info dictionary. Once it is
 * known, the torrent's session opens over the same peer pool, sources and
 * agents, takes the same connections over (held messages first), and this
 * object delegates to it.
 */
export class MagnetSession implements TorrentSession, HostedSession {
  readonly events: Emitter<SessionEvents> = new Emitter<SessionEvents>();
  readonly completed: Promise<SessionStats>;
  readonly metadata: Promise<Torrent>;
  readonly infoHash: string;
  readonly infoHashBytes: Uint8Array;
  readonly magnet: Magnet;
  readonly #host: SessionHost;
  readonly #config: SessionConfig;
  readonly #agents: readonly MessagingAgent[];
  readonly #sources: SourceRunner;
  readonly #open: OpenSession;
  readonly #pool = new PeerPool();
  readonly #peers = new Map<string, PhasePeer>();
  readonly #dialing = new Set<string>();
  readonly #bans: Bans;
  readonly #view: MetadataSession;
  #engine: SessionEngine | undefined;
  #torrent: Torrent | undefined;
  /** The info dictionary's torrent while its v2 piece layers are fetched (BEP 52). */
  #partial: Torrent | undefined;
  #wantedFiles: readonly number[] | undefined;
  /** Rate limits set before the metadata arrived, for the torrent's session. */
  #limits: RateLimits;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #phaseStarted = false;
  #phaseOver = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #stall: string | undefined;
  /** Set while connections move to the session: their second `peer-connected` is not news. */
  #handingOver = false;
  #resolveCompleted!: (stats: SessionStats) => void;
  #rejectCompleted!: (error: Error) => void;
  #resolveMetadata!: (torrent: Torrent) => void;
  #rejectMetadata!: (error: Error) => void;
  /** The torrent's session, once open (streams opened before wait for it). */
  readonly #engineOpened: Promise<SessionEngine>;
  #resolveEngine!: (engine: SessionEngine) => void;
  #rejectEngine!: (error: Error) => void;

  /**
   * @param host The runtime.
   * @param magnet The parsed link.
   * @param config Tunables (`maxPeers`, `maxHashFailures`, `maxMetadataSize`, ...).
   * @param agents Every agent of the session-to-be; those with `beforeMetadata` run now.
   * @param sources Trackers, static peers and custom sources; they keep running afterwards.
   * @param open Opens the torrent's session once the metadata is known.
   * @param wantedFiles Files to download (indices among the visible files), if chosen.
   */
  constructor(
    host: SessionHost,
    magnet: Magnet,
    config: SessionConfig,
    agents: readonly MessagingAgent[],
    sources: SourceRunner,
    open: OpenSession,
    wantedFiles?: readonly number[],
  ) {
    this.#host = host;
    this.#bans = new Bans(host.identity);
    this.magnet = magnet;
    this.infoHash = magnet.infoHashHex;
    this.infoHashBytes = magnet.infoHash;
    this.#config = config;
    this.#agents = agents;
    this.#sources = sources;
    this.#open = open;
    this.#wantedFiles = wantedFiles;
    this.#limits = { downloadLimit: config.downloadLimit, uploadLimit: config.uploadLimit };
    this.completed = new Promise((resolve, reject) => {
      this.#resolveCompleted = resolve;
      this.#rejectCompleted = reject;
    });
    this.completed.catch(() => {});
    this.metadata = new Promise((resolve, reject) => {
      this.#resolveMetadata = resolve;
      this.#rejectMetadata = reject;
    });
    this.metadata.catch(() => {});
    this.#engineOpened = new Promise((resolve, reject) => {
      this.#resolveEngine = resolve;
      this.#rejectEngine = reject;
    });
    this.#engineOpened.catch(() => {});
    const peers = this.#peers;
    const partial = () => this.#partial;
    this.#view = {
      infoHash: magnet.infoHash,
      infoHashV2: magnet.infoHashV2,
      get torrent() {
        return partial();
      },
      maxMetadataSize: config.maxMetadataSize,
      peers: () => [...peers.values()].map((entry) => entry.peer),
      addPeers: (addresses, source) => this.addPeers(addresses, source),
      strike: (peer, reason) => this.#strike(peer, reason),
      ban: (peer, reason) => this.#ban(peer, reason),
      metadataReceived: (info) => this.#metadataReceived(info),
      pieceLayersReceived: (layers) => this.#pieceLayersReceived(layers),
    };
  }

  get torrent(): Torrent {
    if (this.#torrent) return this.#torrent;
    throw new Error(
      `the metadata of ${this.infoHash} is not known yet: await session.metadata first`,
    );
  }

  /** Whether the metadata is known. */
  get hasMetadata(): boolean {
    return this.#torrent !== undefined;
  }

  /** A hybrid's truncated v2 info hash, once known (a link with both `xt`s, or the metadata). */
  get infoHashV2Bytes(): Uint8Array | undefined {
    if (this.magnet.version === "hybrid") return this.magnet.infoHashV2?.subarray(0, 20);
    return this.#torrent?.version === "hybrid" ? this.#torrent.infoHashV2Truncated : undefined;
  }

  /** Whether the torrent is known to have a v2 info hash (BEP 52): its handshakes set the v2 bit. */
  get hasV2(): boolean {
    return this.magnet.version !== 1 ||
      (this.#torrent !== undefined && this.#torrent.version !== 1);
  }

  get wireContext(): Torrent | undefined {
    return this.#torrent;
  }

  get running(): boolean {
    return this.#engine ? this.#engine.running : this.#running;
  }

  get extensionNames(): string[] {
    return [...new Set(this.#agents.flatMap((agent) => agent.extensions ?? []))];
  }

  get verified(): Bitfield {
    return this.#engine?.verified ?? new Bitfield(0);
  }

  get wantedFiles(): ReadonlySet<number> {
    return this.#engine?.wantedFiles ?? new Set(this.#wantedFiles ?? []);
  }

  stats(): SessionStats {
    if (this.#engine) return this.#engine.stats();
    return {
      verifiedBytes: 0,
      wantedBytes: 0,
      verifiedPieces: 0,
      pieceCount: 0,
      downloaded: 0,
      wastedBytes: 0,
      uploaded: 0,
      downloadRate: 0,
      uploadRate: 0,
      peers: this.#peers.size,
      bufferedBytes: [...this.#peers.values()].reduce(
        (sum, { peer }) => sum + peer.bufferedBytes,
        0,
      ),
      eta: undefined,
      progress: 0,
    };
  }

  peers(): PeerInfo[] {
    if (this.#engine) return this.#engine.peers();
    return [...this.#peers.values()].map(({ peer }) => info(peer));
  }

  addPeers(addresses: readonly PeerAddress[], source = "user"): void {
    if (this.#engine) return this.#engine.addPeers(addresses, source);
    this.#pool.add(addresses, source);
    if (this.#running) this.#connectMore();
  }

  setLimits(limits: RateLimits): void {
    this.#limits = { ...this.#limits, ...limits };
    this.#engine?.setLimits(limits);
  }

  limits(): Required<RateLimits> {
    if (this.#engine) return this.#engine.limits();
    return {
      downloadLimit: this.#limits.downloadLimit || 0,
      uploadLimit: this.#limits.uploadLimit || 0,
    };
  }

  setWantedFiles(indices: Iterable<number>): void {
    if (this.#engine) return this.#engine.setWantedFiles(indices);
    this.#wantedFiles = [...indices];
  }

  recheck(): Promise<void> {
    return this.#engine ? this.#engine.recheck() : Promise.resolve();
  }

  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array> {
    if (this.#engine) return this.#engine.createReadStream(fileIndex, options);
    // Before the metadata: a stream that opens the real one once the torrent's session is open.
    let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let cancelled = false;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (!inner) {
          const engine = await this.#engineOpened;
          if (cancelled) return;
          inner = engine.createReadStream(fileIndex, options).getReader();
        }
        const { done, value } = await inner.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: async (reason) => {
        cancelled = true;
        await inner?.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }

  serveFile(request: Request, fileIndex: number): Promise<Response> {
    return serveFile(this, request, fileIndex);
  }

  start(): void {
    if (this.#engine) return this.#engine.start();
    if (this.#stopped || this.#running || this.#torrent) return;
    this.#running = true;
    const port = this.#host.port;
    if (port) {
      for (const host of ["127.0.0.1", "0.0.0.0", "localhost", "::1"]) {
        this.#pool.exclude(addressKey(host, port));
      }
    }
    if (!this.#phaseStarted) {
      this.#phaseStarted = true;
      this.#forPhase((phase) => phase.start?.(this.#view));
    }
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#sources.start(this.#sourceContext(), (peers, source) => this.addPeers(peers, source));
    this.#connectMore();
  }

  pause(): void {
    if (this.#engine) return this.#engine.pause();
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#timer);
    void this.#sources.stop();
    for (const { peer } of [...this.#peers.values()]) peer.close("paused");
  }

  stop(reason = "stopped"): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    this.#stopped = true;
    if (this.#engine) return await this.#engine.stop(reason);
    this.pause();
    await this.#sources.stop();
    this.#endPhase();
    const error = new Error(`session ${reason} before its metadata arrived`);
    this.#rejectMetadata(error);
    this.#rejectCompleted(error);
    this.#rejectEngine(
      new StreamError(
        "stopped",
        "the torrent",
        `the session ${reason} before its metadata arrived`,
      ),
    );
    this.events.emit("stopped", { reason });
    this.#host.removed(this);
  }

  accepts(key: string, host: string, port: number): boolean {
    if (this.#engine) return this.#engine.accepts(key, host, port);
    if (!this.#running || this.#torrent || this.#peers.has(key)) return false;
    if (this.#peers.size >= this.#config.maxPeers) return false;
    return !this.#bans.refuses(host, addressKey(host, port));
  }

  dialFailed(address: PeerAddress, error: unknown): void {
    if (this.#engine) return this.#engine.dialFailed(address, error);
    const key = addressKey(address.host, address.port);
    this.#dialing.delete(key);
    this.#pool.failed(key, failureCode(error));
    this.events.emit("peer-failed", { address: key, reason: describeFailure(error) });
  }

  dialCancelled(address: PeerAddress): void {
    if (this.#engine) return this.#engine.dialCancelled(address);
    const key = addressKey(address.host, address.port);
    this.#dialing.delete(key);
    this.#pool.released(key);
  }

  attach(wire: PeerWire, host: string, port: number, incoming: boolean): void {
    if (this.#engine) return this.#engine.attach(wire, host, port, incoming);
    const key = addressKey(host, port);
    this.#dialing.delete(key);
    // Under a btmh link's truncated hash a connection speaks v2 (hash requests allowed).
    const link = new WireLink(wire, undefined, this.magnet.infoHashV2?.subarray(0, 20));
    const connection = { ownId: this.#host.peerId, peerId: link.peerId, incoming, key };
    const connected = [...this.#peers.values()].map(({ peer }) => peer);
    if (!admitConnection(connection, connected, this.#pool, () => this.accepts(key, host, port))) {
      link.close();
      return;
    }
    const config = this.#config;
    // No pieces yet: `bitfield` and `have` are held below, never applied to this peer.
    const peer = new Peer(link, host, port, incoming, this.#host.clientName(link.peerId), {
      pieceCount: 0,
      maxQueueDepth: config.maxQueueDepth,
      maxUploadQueue: config.maxUploadQueue,
      requestTimeoutMs: config.requestTimeoutMs,
      maxUnrequestedBlocks: config.maxUnrequestedBlocks,
      requestProblem: (block) => link.requestProblem(block),
      has: () => false,
      countDownload: () => {},
      countUpload: () => {},
    });
    const entry: PhasePeer = { peer, link, wire, incoming, handedOver: false };
    let closeReason = "closed by peer";
    peer.onClose = (reason) => closeReason = reason;
    this.#peers.set(key, entry);
    this.#pool.succeeded(key);
    this.#stall = undefined;
    this.events.emit("peer-connected", info(peer));
    void link.extendedHandshakeArrived(config.extendedHandshakeTimeoutMs).then(() => {
      if (peer.closed || entry.handedOver || this.#phaseOver) return;
      this.#forPhase((phase) => phase.connected?.(peer));
    });
    void this.#read(entry).then(
      () => ({ reason: closeReason, code: "closed" }),
      (error: Error) => ({ reason: error.message, code: failureCode(error) }),
    ).then(({ reason, code }) => {
      if (!entry.handedOver) this.#detach(entry, reason, code);
    });
  }

  async #read(entry: PhasePeer): Promise<void> {
    for (;;) {
      const pending = entry.pending = entry.link.next();
      const message = await pending;
      // The session took the connection over, with this very read: it is its message now.
      if (entry.handedOver) return;
      if (message === undefined || entry.peer.closed) return;
      this.#receive(entry, message);
    }
  }

  /** Holds what waits for the piece count; applies choke and interest; routes extended messages. */
  #receive(entry: PhasePeer, message: Message): void {
    const { peer } = entry;
    switch (message.type) {
      case "extended": {
        if (message.id === 0) {
          if (this.#bans.has(peer)) return peer.close("banned");
          entry.extendedHandshake = message; // the wire made it a copy
          return;
        }
        const extended = entry.link.extended(message);
        if (!extended) return;
        for (const agent of this.#agents) {
          if (peer.closed) return;
          agent.beforeMetadata?.consumesExtended?.[extended.name]?.(peer, extended.payload);
        }
        return;
      }
      case "bitfield":
        checkAnnouncement(entry, "bitfield", message.bitfield);
        // Bounded by the wire's `maxBitfieldLength` while the piece count is unknown.
        entry.bitfield = message.bitfield.slice();
        entry.haveAll = undefined;
        return;
      case "have-all":
      case "have-none":
        checkAnnouncement(entry, message.type, message.type === "have-all" ? "all" : "none");
        entry.haveAll = message.type;
        entry.bitfield = undefined;
        return;
      case "allowed-fast":
      case "suggest-piece": {
        // Checked against the piece count at the hand-over; bounded until then.
        const hints = entry.hints ??= [];
        if (hints.length < MAX_ALLOWED_FAST + MAX_SUGGESTED) hints.push(message);
        return;
      }
      case "have": {
        if (message.index >= MAX_HELD_PIECES) {
          throw new PeerViolation(
            "out-of-range",
            `have for piece ${message.index} (more than any bitfield allows)`,
          );
        }
        const byte = message.index >> 3;
        let haves = entry.haves ?? new Uint8Array(64);
        if (byte >= haves.length) {
          const grown = new Uint8Array(
            Math.min(MAX_HELD_PIECES / 8, Math.max(byte + 1, haves.length * 2)),
          );
          grown.set(haves);
          haves = grown;
        }
        haves[byte] |= 0x80 >> (message.index & 7);
        entry.haves = haves;
        return;
      }
      default: {
        // Choke and interest apply; requests are void (we have nothing) and unasked blocks count.
        const passed = peer.receive(message);
        if (!passed) return;
        for (const agent of this.#agents) {
          if (peer.closed) return;
          const handler = agent.beforeMetadata?.consumes?.[passed.type] as
            | ((peer: AgentPeer, message: Message) => void)
            | undefined;
          handler?.(peer, passed);
        }
      }
    }
  }

  #detach(entry: PhasePeer, reason: string, code: string): void {
    const { peer } = entry;
    if (this.#peers.get(peer.key) !== entry) return;
    if (!peer.closed) peer.close(reason);
    this.#peers.delete(peer.key);
    if (!this.#phaseOver) {
      for (const agent of this.#agents) {
        try {
          agent.beforeMetadata?.disconnected?.(peer, reason);
        } catch { /* an agent's failure must not keep a dead peer around */ }
      }
    }
    if (!peer.incoming) {
      if (this.#bans.has(peer)) this.#pool.exclude(peer.key);
      else if (/^(paused|session stopped)/.test(reason)) this.#pool.released(peer.key);
      else this.#pool.failed(peer.key, code);
    }
    this.events.emit("peer-disconnected", { ...info(peer), reason });
    if (this.#running) this.#connectMore();
  }

  #strike(peer: AgentPeer, reason: string): void {
    const strikes = this.#bans.strike(peer);
    if (strikes >= this.#config.maxHashFailures) this.#ban(peer, `${reason} (strike ${strikes})`);
  }

  #ban(peer: AgentPeer, reason: string): void {
    const connected = [...this.#peers.values()].map((entry) => entry.peer);
    this.#bans.ban(
      peer,
      reason,
      this.#pool,
      connected,
      () => this.events.emit("peer-banned", { ...info(peer), reason }),
    );
  }

  #metadataReceived(info: Uint8Array): void {
    if (this.#torrent || this.#partial || this.#stopped) return;
    let torrent: Torrent;
    try {
      torrent = parseTorrent(metainfoFromInfo(info, { trackers: this.magnet.trackers }));
    } catch (error) {
      // The bytes match the info hash, so every peer would send the same: the magnet is unusable.
      return this.#fail(error as Error);
    }
    // A btmh link's v2 files are verified by their piece layers, which the info lacks (BEP 52).
    if (this.magnet.infoHashV2 && missesPieceLayers(torrent)) {
      this.#partial = torrent;
      this.#forPhase((phase) => phase.pieceLayersWanted?.(torrent));
      return;
    }
    this.#metadataComplete(torrent);
  }

  #pieceLayersReceived(layers: ReadonlyMap<number, Uint8Array>): void {
    const partial = this.#partial;
    if (!partial || this.#torrent || this.#stopped) return;
    let torrent: Torrent;
    try {
      const pieceLayers = [...layers].map(([index, layer]) => {
        const root = partial.files[index]?.piecesRoot;
        if (!root) throw new Error(`piece layers: file ${index} has no pieces root`);
        return { root, layer };
      });
      torrent = parseTorrent(
        metainfoFromInfo(partial.infoBytes, { trackers: this.magnet.trackers, pieceLayers }),
      );
      // A hybrid may go on without layers (SHA-1 checks its pieces), not with some missing.
      if (missesPieceLayers(torrent) && (torrent.version === 2 || layers.size > 0)) {
        throw new Error(`piece layers: not every file of more than one piece has its layer`);
      }
    } catch (error) {
      return this.#fail(error as Error);
    }
    this.#metadataComplete(torrent);
  }

  #metadataComplete(torrent: Torrent): void {
    this.#torrent = torrent;
    if (torrent.private) this.#privateOnly();
    this.#endPhase();
    clearInterval(this.#timer);
    this.events.emit("metadata", { torrent });
    this.#resolveMetadata(torrent);
    void this.#continue(torrent);
  }

  /**
   * BEP 27: a private torrent uses only its trackers and the user's peers. The DHT and custom
   * sources stop; the addresses they gave are forgotten (never dialled again); connections
   * already made stay, as in libtorrent, which only stops taking such peers once it knows.
   */
  #privateOnly(): void {
    const kept = new Set([...this.#sources.restrictToPrivate(), "user"]);
    this.#pool.forgetSources((source) => kept.has(source));
  }

  /** Opens the torrent's session and moves every connection into it. */
  async #continue(torrent: Torrent): Promise<void> {
    const host: SessionHost = {
      peerId: this.#host.peerId,
      port: this.#host.port,
      uploads: this.#host.uploads,
      bandwidth: this.#host.bandwidth,
      canDial: (address) => this.#host.canDial(address),
      dial: (_engine, address) => this.#host.dial(this, address),
      clientName: (peerId) => this.#host.clientName(peerId),
      identity: (peer) => this.#host.identity(peer),
      removed: () => this.#host.removed(this),
    };
    let engine: SessionEngine;
    try {
      engine = await this.#open(torrent, host, this.#pool, this.#wantedFiles);
    } catch (error) {
      return this.#fail(error as Error);
    }
    if (this.#stopped) {
      // Stopped while the storage opened: the connections and the new session go too.
      for (const { peer } of [...this.#peers.values()]) peer.close("session stopped");
      await engine.stop("stopped");
      return;
    }
    engine.events.onAny(({ type, event }) => {
      if (type === "peer-connected" && this.#handingOver) return;
      this.events.emit(type, event as never);
    });
    engine.completed.then(this.#resolveCompleted, this.#rejectCompleted);
    engine.core.bans.carryOver(this.#bans);
    engine.setLimits(this.#limits);
    this.#engine = engine;
    this.#resolveEngine(engine);
    const wasRunning = this.#running;
    this.#running = false;
    if (wasRunning) engine.start();
    this.#handingOver = true;
    try {
      for (const entry of [...this.#peers.values()]) this.#handOver(entry, engine, torrent);
    } finally {
      this.#handingOver = false;
    }
    this.#peers.clear();
  }

  #handOver(entry: PhasePeer, engine: SessionEngine, torrent: Torrent): void {
    entry.handedOver = true;
    const { peer, wire } = entry;
    if (peer.closed) return;
    wire.context = torrent;
    const held: Message[] = [];
    if (entry.extendedHandshake) held.push(entry.extendedHandshake);
    if (entry.bitfield) held.push({ type: "bitfield", bitfield: entry.bitfield });
    if (entry.haveAll) held.push({ type: entry.haveAll });
    const haves = entry.haves;
    if (haves) {
      for (let byte = 0; byte < haves.length; byte++) {
        if (haves[byte] === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          if (haves[byte] & (0x80 >> bit)) held.push({ type: "have", index: byte * 8 + bit });
        }
      }
    }
    held.push(...entry.hints ?? []);
    if (!peer.peerChoking) held.push({ type: "unchoke" });
    if (peer.peerInterested) held.push({ type: "interested" });
    engine.attach(wire, peer.host, peer.port, entry.incoming, { held, pending: entry.pending });
  }

  #fail(error: Error): void {
    this.events.emit("error", { error });
    this.#rejectMetadata(error);
    this.#rejectCompleted(error);
    this.#rejectEngine(error);
    this.#engine = undefined;
    void this.stop("failed");
  }

  #endPhase(): void {
    if (this.#phaseOver) return;
    this.#phaseOver = true;
    if (this.#phaseStarted) this.#forPhase((phase) => phase.end?.());
  }

  #forPhase(call: (phase: NonNullable<MessagingAgent["beforeMetadata"]>) => void): void {
    for (const agent of this.#agents) if (agent.beforeMetadata) call(agent.beforeMetadata);
  }

  #tick(): void {
    if (!this.#running || this.#phaseOver) return;
    this.#forPhase((phase) => phase.tick?.());
    for (const { peer } of this.#peers.values()) {
      for (const agent of this.#agents) {
        if (peer.closed) break;
        agent.beforeMetadata?.produce?.(peer);
      }
    }
    this.#connectMore();
    this.#checkStalled();
    this.events.emit("metadata-progress", {
      peers: this.#peers.size,
      stage: this.#partial ? "piece layers" : "info",
    });
  }

  #checkStalled(): void {
    if (this.#peers.size > 0 || this.#dialing.size > 0) {
      this.#stall = undefined;
      return;
    }
    const reason = stallReason(this.#pool, this.#bans.size, this.#sources.names);
    if (reason === undefined || reason === this.#stall) return;
    this.#stall = reason;
    this.events.emit("stalled", { reason });
  }

  #connectMore(): void {
    if (!this.#running || this.#torrent) return;
    const room = this.#config.maxPeers - this.#peers.size - this.#dialing.size;
    if (room <= 0) return;
    const skip = (address: PeerAddress, key: string) =>
      this.#peers.has(key) || this.#dialing.has(key) || this.#bans.refuses(address.host, key);
    for (const address of this.#pool.take(room, skip)) {
      if (!this.#host.canDial(address)) {
        this.#pool.released(addressKey(address.host, address.port));
        continue;
      }
      this.#dialing.add(addressKey(address.host, address.port));
      this.#host.dial(this, address);
    }
  }

  #sourceContext(): PeerSourceContext {
    const torrent = () => this.torrent;
    return {
      get torrent() {
        return torrent();
      },
      infoHash: this.magnet.infoHash,
      infoHashHex: this.magnet.infoHashHex,
      infoHashV2: this.magnet.version === "hybrid" ? this.infoHashV2Bytes : undefined,
      trackers: this.magnet.trackers.map((url) => [url]),
      peerId: this.#host.peerId,
      port: this.#host.port ?? 0,
      stats: () => {
        if (!this.#engine) return { uploaded: 0, downloaded: 0, left: UNKNOWN_LEFT };
        return announceStats(this.#engine.stats());
      },
      report: (event) => this.events.emit("tracker", event),
      warn: (message) => this.events.emit("warning", { source: "peers", message }),
    };
  }
}

/**
 * Fast extension (BEP 6), as `Peer` checks it: a later bitfield, `have-all` or `have-none` may
 * add pieces (aria2 sends `have-none`, then a bitfield) but not take back any announced before.
 * With the piece count unknown, `have-all` is a bitfield of ones (spare bits aside).
 */
function checkAnnouncement(
  entry: PhasePeer,
  what: string,
  next: Uint8Array | "all" | "none",
): void {
  if (!entry.peer.fast || next === "all") return;
  const known = [entry.bitfield, entry.haves].filter((bits) => bits !== undefined);
  const hasBit = (bits: Uint8Array, byte: number) => bits[byte] ?? 0;
  let retracted = false;
  if (entry.haveAll === "have-all") {
    // Every byte but the last (spare bits) must be full.
    retracted = next === "none" || next.subarray(0, -1).some((byte) => byte !== 0xff);
  }
  for (const bits of known) {
    for (let byte = 0; byte < bits.length && !retracted; byte++) {
      const nextByte = next === "none" ? 0 : hasBit(next, byte);
      if ((bits[byte] & ~nextByte) !== 0) retracted = true;
    }
  }
  if (retracted) {
    throw new PeerViolation(
      "retracted-pieces",
      `sent ${what} without pieces it announced before`,
    );
  }
}

/** Whether a v2 file of more than one piece lacks its piece layer. */
function missesPieceLayers(torrent: Torrent): boolean {
  return torrent.version !== 1 &&
    torrent.files.some((file) =>
      file.piecesRoot !== undefined && !file.padding && file.pieceLayer === undefined &&
      file.length > torrent.pieceLength
    );
}

function info(peer: AgentPeer): PeerInfo {
  return { address: peer.key, client: peer.client, incoming: peer.incoming };
}
