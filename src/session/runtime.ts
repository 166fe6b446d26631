import { fetchTorrent } from "../fetch/registry.ts";
import { type Magnet, parseMagnet } from "../metainfo/magnet.ts";
import { parseTorrent } from "../metainfo/parse.ts";
import { type Torrent, visibleFiles } from "../metainfo/torrent.ts";
import { clientName } from "../peers/client_name.ts";
import { generatePeerId } from "../peers/peer_id.ts";
import { createSelector } from "../picker/named.ts";
import { FileSystemStorage } from "../storage/filesystem.ts";
import { NodeCryptoHasher, type Sha1Hasher } from "../storage/hasher.ts";
import { PieceStore } from "../storage/piece_store.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import { BandwidthLimiter } from "../util/bandwidth.ts";
import { explainPermission, PermissionError } from "../util/permissions.ts";
import { isWebSeedUrl } from "../metainfo/web_seeds.ts";
import { WebSeedError } from "../webseed/errors.ts";
import { ExtensionProtocol } from "../wire/extension_protocol.ts";
import { FastExtension } from "../wire/fast_extension.ts";
import { V2Extension } from "../wire/v2_extension.ts";
import { ExtensionRegistry } from "../wire/extensions.ts";
import type { HandshakeHandler } from "../wire/handlers.ts";
import { PeerWire } from "../wire/peer_wire.ts";
import { ProtocolError } from "../wire/errors.ts";
import {
  acceptIncoming,
  CryptoMethod,
  type EncryptionPolicy,
  encryptOutgoing,
} from "../wire/mse/mse.ts";
import { resolveWireLimits } from "../wire/limits.ts";
import { TcpTransport } from "../transport/tcp.ts";
import type { Transport, TransportConnection, TransportListener } from "../transport/types.ts";
import { pexAgent } from "../peers/pex.ts";
import { type PeerSource, StaticPeerSource } from "../peers/source.ts";
import { TrackerPeerSource } from "../peers/tracker_source.ts";
import type { MessagingAgent } from "../agents/agent.ts";
import { addressKey, type PeerAddress } from "../util/address.ts";
import { Emitter } from "../util/emitter.ts";
import { DhtPeerSource } from "../dht/peer_source.ts";
import { hashesAgent } from "./agents/hashes.ts";
import { metadataAgent } from "./agents/metadata.ts";
import type { SessionConfig } from "./core.ts";
import type { RuntimeEvents } from "./events.ts";
import type { HostedSession } from "./hosted.ts";
import { rawExtension } from "./link.ts";
import { MagnetSession } from "./magnet_session.ts";
import type { PeerPool } from "./pool.ts";
import { SourceRunner } from "./sources.ts";
import {
  type RateLimits,
  resolveSessionConfig,
  type RuntimeOptions,
  type SessionOptions,
} from "./options.ts";
import { SessionEngine, type SessionHost, type TorrentSession } from "./session.ts";
import { UploadBuffers } from "./upload_buffers.ts";

/** BEP 53 `so` as the session's file indices (among the visible files); out-of-range ones are ignored. */
function selectOnly(torrent: Torrent, magnet: Magnet): number[] | undefined {
  if (!magnet.selectOnly) return undefined;
  const visible = visibleFiles(torrent).length;
  const chosen = magnet.selectOnly.filter((index) => index < visible);
  return chosen.length ? chosen : undefined;
}

/**
 * Buffers of every connection: one reused read buffer, and reads and coalesced
 * writes of at most 128 KiB. Larger ones gain nothing measurable on loopback
 * and would cost up to 2 MiB per busy connection.
 */
const SOCKET_BUFFERS = {
  reuseReadBuffer: true,
  readBufferLength: 128 * 1024,
  writer: { maxWriteLength: 128 * 1024 },
} as const;
/**
 * Read buffers of all connections together, beyond which a new connection's largest read
 * buffer shrinks (to 32 KiB at least, the smallest): with many busy connections, their read
 * buffers at full size were most of the memory per connection, and each one's share of the
 * bandwidth needs no large reads.
 */
const READ_BUFFERS_BYTES = 2 * 1024 * 1024;
const MIN_READ_BUFFER = 32 * 1024;

/** {@linkcode SOCKET_BUFFERS} for a connection among `connections` (itself included). */
function socketBuffers(connections: number): {
  readonly reuseReadBuffer: boolean;
  readonly readBufferLength: number;
  readonly writer: typeof SOCKET_BUFFERS.writer;
} {
  const share = Math.floor(READ_BUFFERS_BYTES / Math.max(1, connections));
  if (share >= SOCKET_BUFFERS.readBufferLength) return SOCKET_BUFFERS;
  return { ...SOCKET_BUFFERS, readBufferLength: Math.max(MIN_READ_BUFFER, share) };
}

/**
 * The shared runtime: one listening socket for every torrent, outgoing
 * connections under global limits, hashing, and the torrent sessions.
 * Incoming connections are routed to their session by info hash.
 *
 * @example Two torrents on one runtime
 * ```ts
 * import { Runtime } from "@bittern/bittern";
 *
 * declare const first: Uint8Array;
 * declare const second: Uint8Array;
 * const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
 * const a = await runtime.add(first, { out: "./a" });
 * const b = await runtime.add(second, { out: "./b" });
 * await Promise.all([a.completed, b.completed]);
 * await runtime.close();
 * ```
 */
export class Runtime {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /**
   * What happens outside any one torrent: `incoming-failed` when a connection a peer made
   * fails its handshake (each torrent's own events are on its session).
   *
   * @example
   * ```ts
   * import { Runtime } from "@bittern/bittern";
   *
   * const runtime = new Runtime();
   * runtime.events.on("incoming-failed", ({ address, reason }) => {
   *   console.log(`refused ${address}: ${reason}`);
   * });
   * ```
   */
  readonly events: Emitter<RuntimeEvents> = new Emitter<RuntimeEvents>();
  readonly #options: RuntimeOptions;
  /** Sessions by hex info hash: a hybrid torrent's under its v1 and its truncated v2 hash. */
  readonly #sessions = new Map<string, HostedSession & TorrentSession>();
  /** Info hashes being added (reserved before the first `await` of `add`). */
  readonly #adding = new Set<string>();
  readonly #handlers = new Map<HostedSession, readonly HandshakeHandler[]>();
  /** Each torrent's encryption policy, by info hash (hex). */
  readonly #encryption = new Map<string, EncryptionPolicy>();
  readonly #hasher: Sha1Hasher;
  readonly #ownsHasher: boolean;
  readonly #maxConnections: number;
  readonly #maxHalfOpen: number;
  readonly #maxPerIp: number;
  readonly #transport: Transport;
  #listener: TransportListener | undefined;
  #listening: Promise<void> | undefined;
  /** Open connections and attempts (half-open included). */
  #connections = 0;
  /** Outgoing attempts not yet through the handshake. */
  #halfOpen = 0;
  /** Connections and attempts per remote IP address. */
  readonly #perIp = new Map<string, number>();
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #host: SessionHost;
  /** The DHT shared by non-private torrents, when on. */
  readonly #dht: DhtPeerSource | undefined;
  /** Rate limits of all torrents together. */
  readonly #bandwidth: { readonly download: BandwidthLimiter; readonly upload: BandwidthLimiter };

  /**
   * Creates a runtime; it listens once the first torrent is added.
   *
   * @param options Listening address, limits, peer id, fetchers, hasher.
   */
  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
    this.#transport = options.transport ?? new TcpTransport();
    this.peerId = options.peerId ?? generatePeerId();
    this.#hasher = options.hasher ?? new NodeCryptoHasher();
    this.#ownsHasher = options.hasher === undefined;
    this.#maxConnections = options.maxConnections ?? 200;
    this.#maxHalfOpen = options.maxHalfOpen ?? 32;
    this.#maxPerIp = options.maxConnectionsPerIp ?? 1;
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    const dht = options.dht ?? options.listen !== false;
    const listenHost = options.listen ? options.listen.hostname ?? "0.0.0.0" : "0.0.0.0";
    this.#dht = dht === false ? undefined : new DhtPeerSource(dht === true ? {} : dht, async () => {
      await this.#listening?.catch(() => {});
      // The DHT speaks IPv4: a host name or IPv6 listening address binds it to every address.
      const host = /^\d+\.\d+\.\d+\.\d+$/.test(listenHost) ? listenHost : "0.0.0.0";
      return { host, port: this.port ?? 0 };
    });
    const port = () => this.port;
    const perIp = this.#maxPerIp;
    const clock = options.bandwidthClock;
    this.#bandwidth = {
      download: new BandwidthLimiter({
        limit: options.downloadLimit,
        clock,
        name: "RuntimeOptions.downloadLimit",
      }),
      upload: new BandwidthLimiter({
        limit: options.uploadLimit,
        clock,
        name: "RuntimeOptions.uploadLimit",
      }),
    };
    this.#host = {
      peerId: this.peerId,
      get port() {
        return port();
      },
      uploads: new UploadBuffers({
        maxBlockBytes: options.maxUploadBufferBytes ?? 8 * 1024 * 1024,
      }),
      bandwidth: this.#bandwidth,
      canDial: (address) =>
        !this.#closed && this.#connections < this.#maxConnections &&
        this.#halfOpen < this.#maxHalfOpen && (this.#perIp.get(address.host) ?? 0) < perIp,
      dial: (engine, address) => void this.#dial(engine, address),
      clientName,
      identity: (peer) =>
        perIp <= 1 ? peer.host : addressKey(peer.host, peer.listenPort ?? peer.port),
      removed: (engine) => {
        if (this.#sessions.get(engine.infoHash) === engine) {
          for (const [key, session] of this.#sessions) {
            if (session === engine) this.#sessions.delete(key);
          }
          this.#encryption.delete(engine.infoHash);
        }
        this.#handlers.delete(engine);
      },
    };
  }

  /** The listening port, once listening. */
  get port(): number | undefined {
    return this.#listener?.addr.port;
  }

  /** Open connections (and attempts) across all torrents. */
  get connections(): number {
    return this.#connections;
  }

  /**
   * Changes the rate limits of all torrents together while they run (each
   * torrent's own, `TorrentSession.setLimits`, apply too). A limit not named
   * is kept; 0 or `undefined` makes it unlimited.
   *
   * @example Halving the download limit at night
   * ```ts
   * import { Runtime } from "@bittern/bittern";
   *
   * const runtime = new Runtime({ downloadLimit: 8 * 1024 * 1024 });
   * runtime.setLimits({ downloadLimit: 4 * 1024 * 1024 });
   * console.log(runtime.limits()); // { downloadLimit: 4194304, uploadLimit: 0 }
   * await runtime.close();
   * ```
   *
   * @param limits Bytes per second of piece payload.
   */
  setLimits(limits: RateLimits): void {
    if ("downloadLimit" in limits) this.#bandwidth.download.setLimit(limits.downloadLimit);
    if ("uploadLimit" in limits) this.#bandwidth.upload.setLimit(limits.uploadLimit);
  }

  /** The rate limits of all torrents together in force (0: unlimited). */
  limits(): Required<RateLimits> {
    return {
      downloadLimit: this.#bandwidth.download.limit,
      uploadLimit: this.#bandwidth.upload.limit,
    };
  }

  /** The running sessions. */
  sessions(): TorrentSession[] {
    return [...new Set(this.#sessions.values())];
  }

  /**
   * Adds a torrent: a parsed {@linkcode Torrent}, metainfo bytes, a magnet
   * link, or a source string for the metainfo fetchers (a path, `file:` or
   * `http(s):` URL). Opens its storage, checks existing data and (by default)
   * starts it.
   *
   * A magnet link (BEP 9) gives a session without metadata at once: it
   * connects to the link's trackers (`tr`) and peers (`x.pe`), `peers` and
   * the sources, fetches the info dictionary from peers (at most
   * `maxMetadataSize` bytes), then opens storage and downloads over the same
   * connections. Its `torrent` is there once `metadata` resolves (the
   * `metadata` event); `so` selects files unless `wantedFiles` is given. A
   * malformed link throws {@linkcode MagnetError} naming the parameter.
   *
   * @example Starting from a magnet link
   * ```ts
   * import { Runtime } from "@bittern/bittern";
   *
   * const runtime = new Runtime();
   * const session = await runtime.add(
   *   "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&tr=udp%3A%2F%2Ftracker.example%3A1337",
   *   { out: "./downloads" },
   * );
   * const torrent = await session.metadata;
   * console.log(torrent.name, torrent.length);
   * await session.completed;
   * ```
   *
   * The session starts before `add` returns unless `options.start` is `false`, so listeners
   * attached afterwards miss `started` and the first tracker events: to see every event, add
   * with `start: false`, attach listeners, then call `session.start()`.
   *
   * @example Attach listeners before the session starts
   * ```ts
   * import { Runtime, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * const runtime = new Runtime();
   * const session = await runtime.add(torrent, { out: "./downloads", start: false });
   * session.events.on("tracker", ({ url, event }) => console.log(url, event));
   * session.start();
   * ```
   *
   * @param source The torrent.
   * @param options Storage, selector, agents, peers, files, tunables.
   * @returns The session.
   */
  async add(
    source: Torrent | Uint8Array | string,
    options: SessionOptions = {},
  ): Promise<TorrentSession> {
    if (this.#closed) throw new Error("runtime is closed");
    checkWebSeedOptions(options.webSeeds ?? []);
    if (typeof source === "string" && /^magnet:/i.test(source)) {
      const magnet = parseMagnet(source);
      return await this.#reserve(
        magnet.version === "hybrid" && magnet.infoHashV2
          ? [magnet.infoHashHex, toHex(magnet.infoHashV2.subarray(0, 20))]
          : [magnet.infoHashHex],
        (parsed) => this.#openMagnet(parsed, options),
        magnet,
      );
    }
    const torrent = typeof source === "string"
      ? await fetchTorrent(source, {
        fetchers: this.#options.fetchers,
        signal: this.#options.signal,
      })
      : source instanceof Uint8Array
      ? parseTorrent(source)
      : source;
    // A hybrid torrent is one torrent under two info hashes: either one already here refuses it.
    const keys = torrent.version === "hybrid" && torrent.infoHashV2Truncated
      ? [torrent.infoHashHex, toHex(torrent.infoHashV2Truncated)]
      : [torrent.infoHashHex];
    return await this.#reserve(keys, (known) => this.#open(known, options), torrent);
  }

  /** Runs `open` with `infoHashes` reserved (before any await: a concurrent add of one fails). */
  async #reserve<T>(
    infoHashes: readonly string[],
    open: (source: T) => Promise<TorrentSession>,
    source: T,
  ): Promise<TorrentSession> {
    for (const infoHash of infoHashes) {
      if (this.#sessions.has(infoHash) || this.#adding.has(infoHash)) {
        throw new Error(`torrent ${infoHash} is already in this runtime`);
      }
    }
    for (const infoHash of infoHashes) this.#adding.add(infoHash);
    try {
      return await open(source);
    } finally {
      for (const infoHash of infoHashes) this.#adding.delete(infoHash);
    }
  }

  async #open(torrent: Torrent, options: SessionOptions): Promise<TorrentSession> {
    await this.#ensureListening();
    const config = resolveSessionConfig(options);
    const agents = this.#agentsFor(torrent.private, options);
    const engine = await this.#openEngine(
      torrent,
      options,
      config,
      this.#host,
      agents.all,
      this.#sourcesFor(torrent, options),
    );
    const metadataSize = torrent.private ? undefined : torrent.infoBytes.length;
    this.#register(
      engine,
      engine.core.extensionNames(),
      config,
      options,
      () => metadataSize,
      !torrent.private,
    );
    if (options.start !== false) engine.start();
    return engine;
  }

  /** A session for a magnet link: no metadata yet (see {@linkcode MagnetSession}). */
  #openMagnet(magnet: Magnet, options: SessionOptions): Promise<TorrentSession> {
    this.#ensureListening();
    const config = resolveSessionConfig(options);
    const agents = this.#agentsFor(undefined, options);
    const sources = this.#sourcesFor(magnet, options);
    const session: MagnetSession = new MagnetSession(
      this.#host,
      magnet,
      config,
      agents.all,
      sources,
      (torrent, host, pool, wantedFiles) =>
        this.#openEngine(
          torrent,
          {
            ...options,
            wantedFiles: wantedFiles ?? selectOnly(torrent, magnet),
            webSeeds: [...magnet.webSeeds, ...options.webSeeds ?? []],
          },
          config,
          host,
          // A private torrent has no PEX nor DHT (BEP 27); its peers may still ask for metadata: rejected.
          agents.all.filter((agent) =>
            !torrent.private || (agent !== agents.pex && agent !== agents.dht)
          ),
          sources,
          pool,
        ),
      options.wantedFiles,
    );
    const names = [...new Set(agents.all.flatMap((agent) => agent.extensions ?? []))];
    this.#register(
      session,
      names,
      config,
      options,
      () =>
        session.hasMetadata && !session.torrent.private
          ? session.torrent.infoBytes.length
          : undefined,
      true,
    );
    // A hybrid's session is reachable under its truncated v2 hash too: registered already for a
    // link with both `xt`s, added once the metadata shows a hybrid for a `btih`-only one.
    session.events.on("metadata", ({ torrent }) => {
      const key = torrent.version === "hybrid" && toHex(torrent.infoHashV2Truncated!);
      if (!key || this.#sessions.get(session.infoHash) !== session) return;
      if (!this.#sessions.has(key)) this.#sessions.set(key, session);
    });
    if (options.start !== false) session.start();
    return Promise.resolve(session);
  }

  /** Opens a torrent's storage (checking existing data) and builds its session, not started. */
  async #openEngine(
    torrent: Torrent,
    options: SessionOptions,
    config: SessionConfig,
    host: SessionHost,
    agents: readonly MessagingAgent[],
    sources: SourceRunner,
    pool?: PeerPool,
  ): Promise<SessionEngine> {
    const storage = options.storage ?? new FileSystemStorage(options.out ?? ".");
    const store = await PieceStore.open(torrent, storage, {
      hasher: this.#hasher,
      blockSize: config.blockSize,
      wantedFiles: options.wantedFiles,
      resumePath: options.resumePath,
      restore: options.restore,
      batchWrites: true,
      writeBufferBytes: config.maxPendingWriteBytes,
    });
    if (this.#closed) {
      await store.close();
      throw new Error("runtime is closed");
    }
    const selector = typeof options.selector === "object"
      ? options.selector
      : createSelector(options.selector ?? "rarest");
    const webSeeds = [
      ...torrent.webSeeds ?? [],
      ...(options.webSeeds ?? []).map((url) => ({ url, kind: "getright" as const })),
    ];
    return new SessionEngine(host, store, selector, config, agents, sources, pool, webSeeds);
  }

  /** Makes `session` reachable: its handshake handlers, and incoming connections by info hash. */
  #register(
    session: HostedSession & TorrentSession,
    extensionNames: readonly string[],
    config: SessionConfig,
    options: SessionOptions,
    metadataSize: () => number | undefined,
    dht: boolean,
  ): void {
    const registry = new ExtensionRegistry();
    for (const name of extensionNames) registry.register(rawExtension(name));
    this.#handlers.set(session, [
      new ExtensionProtocol({
        registry,
        listenPort: this.port,
        requestQueueLength: config.maxUploadQueue,
        metadataSize,
      }),
      ...options.fastExtension ?? this.#options.fastExtension ?? true ? [new FastExtension()] : [],
      // Never for a v1-only torrent: libtorrent drops a peer setting the v2 bit there (a magnet
      // link's torrent sets it once its metadata shows a v2 hash).
      new V2Extension(() => session.hasV2 === true),
      ...dht && this.#dht ? [this.#dht.handshakeHandler()] : [],
      ...this.#options.handshakeHandlers ?? [],
      ...options.handshakeHandlers ?? [],
    ]);
    this.#encryption.set(
      session.infoHash,
      options.encryption ?? this.#options.encryption ?? "prefer",
    );
    for (const key of infoHashKeys(session)) this.#sessions.set(key, session);
  }

  /**
   * Built-in optional agents and the user's: BEP 52 merkle hashes (serving piece layers,
   * fetching a btmh magnet's), metadata exchange (BEP 9) and PEX unless the torrent is
   * private (`undefined`: a magnet link, not known yet).
   */
  #agentsFor(
    isPrivate: boolean | undefined,
    options: SessionOptions,
  ): { all: MessagingAgent[]; pex: MessagingAgent | undefined; dht: MessagingAgent | undefined } {
    const agents: MessagingAgent[] = [];
    let pex: MessagingAgent | undefined;
    let dht: MessagingAgent | undefined;
    agents.push(hashesAgent());
    if (!isPrivate) {
      agents.push(metadataAgent());
      if (options.pex !== false) {
        agents.push(pex = pexAgent(typeof options.pex === "object" ? options.pex : {}));
      }
      if (this.#dht) agents.push(dht = this.#dht.agent(() => this.port));
    }
    return { all: [...agents, ...options.agents ?? []], pex, dht };
  }

  /**
   * Trackers, the user's static peers (always: like libtorrent's `connect_peer`,
   * even for a private torrent), then, unless the torrent is private (BEP 27),
   * custom sources. A magnet link's torrent may turn out private only once its
   * metadata is in: its runner then keeps just the first group (see
   * `SourceRunner.restrictToPrivate`).
   */
  #sourcesFor(torrent: Torrent | Magnet, options: SessionOptions): SourceRunner {
    const sources: PeerSource[] = [];
    const magnet = "announce" in torrent ? undefined : torrent;
    const trackers = magnet ? magnet.trackers.length : (torrent as Torrent).announce.length;
    if (options.trackers !== false && trackers) {
      sources.push(
        new TrackerPeerSource(typeof options.trackers === "object" ? options.trackers : {}),
      );
    }
    const peers = [...magnet?.peers ?? [], ...options.peers ?? []];
    if (peers.length) sources.push(new StaticPeerSource(peers));
    const custom = [...this.#options.peerSources ?? [], ...options.peerSources ?? []];
    const allowedWhenPrivate = options.allowPrivatePeerSources ? [...sources, ...custom] : sources;
    if (!magnet && (torrent as Torrent).private && !options.allowPrivatePeerSources) {
      return new SourceRunner(sources);
    }
    return new SourceRunner(
      [...sources, ...this.#dht ? [this.#dht] : [], ...custom],
      allowedWhenPrivate,
    );
  }

  /** The session of a torrent, by hex info hash (a hybrid's v1 or truncated v2 hash). */
  get(infoHashHex: string): TorrentSession | undefined {
    return this.#sessions.get(infoHashHex.toLowerCase());
  }

  /** Stops every session (flushing storage) and closes the listener. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the runtime (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener?.close();
    } catch { /* already closed */ }
    // Nothing waits for tokens any more: sessions stop at once.
    this.#bandwidth.download.close();
    this.#bandwidth.upload.close();
    await Promise.all(this.sessions().map((engine) => engine.stop("runtime closed")));
    // Give in-flight dials and handshakes a moment to notice.
    for (let i = 0; i < 200 && this.#connections > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.#dht?.close().catch(() => {});
    if (this.#ownsHasher) this.#hasher.close();
  }

  #ensureListening(): Promise<void> {
    const listen = this.#options.listen;
    if (listen === false) return Promise.resolve();
    this.#listening ??= (async () => {
      const hostname = listen?.hostname ?? "0.0.0.0";
      const port = listen?.port ?? 6881;
      try {
        this.#listener = await this.#transport.listen({ hostname, port });
      } catch (error) {
        this.#listening = undefined;
        throw explainPermission(error, "net", `${hostname}:${port}`);
      }
      if (this.#closed) this.#listener.close();
      else void this.#acceptLoop(this.#listener);
    })();
    return this.#listening;
  }

  async #acceptLoop(listener: TransportListener): Promise<void> {
    try {
      for await (const conn of listener) {
        const host = conn.remoteAddr.hostname;
        if (
          this.#closed || this.#connections >= this.#maxConnections ||
          (this.#perIp.get(host) ?? 0) >= this.#maxPerIp
        ) {
          conn.close();
          continue;
        }
        void this.#accept(conn);
      }
    } catch {
      // The listener was closed.
    }
  }

  /** Counts a connection (or attempt) to `host`; the returned function uncounts it once. */
  #count(host: string): () => void {
    this.#host.uploads.connections = ++this.#connections;
    this.#perIp.set(host, (this.#perIp.get(host) ?? 0) + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.#host.uploads.connections = --this.#connections;
      const left = (this.#perIp.get(host) ?? 1) - 1;
      if (left > 0) this.#perIp.set(host, left);
      else this.#perIp.delete(host);
    };
  }

  async #accept(conn: TransportConnection): Promise<void> {
    const remote = conn.remoteAddr;
    const uncount = this.#count(remote.hostname);
    let engine: HostedSession | undefined;
    try {
      // Plain or MSE, told apart by the first bytes: one port serves both.
      const incoming = await acceptIncoming(conn, {
        infoHashes: () => this.#encryptedTorrents(),
        // With encryption off everywhere, hang up on MSE at once, as a plain-only peer does.
        allowEncrypted: this.#encryptedTorrents().next().done !== true,
        select: (infoHash, provide) => selectMethod(this.#policyOf(infoHash)!, provide),
        timeout: resolveWireLimits(this.#options.limits).handshakeTimeout,
      });
      const wire = await PeerWire.accept(incoming.connection, {
        peerId: this.peerId,
        limits: this.#options.limits,
        writeTimeout: this.#options.writeTimeoutMs,
        ...socketBuffers(this.#connections),
        findTorrent: (infoHash) => {
          engine = this.#sessions.get(toHex(infoHash));
          const key = addressKey(remote.hostname, remote.port);
          if (!engine || !engine.accepts(key, remote.hostname, remote.port)) return undefined;
          const mseEngine = incoming.infoHash && this.#sessions.get(toHex(incoming.infoHash));
          checkIncoming(incoming.infoHash, mseEngine, engine, infoHash, this.#policyOf(infoHash));
          return { context: engine.wireContext, handlers: this.#handlers.get(engine) };
        },
      });
      void wire.closed.then(uncount);
      engine!.attach(wire, remote.hostname, remote.port, true);
    } catch (error) {
      uncount();
      // Closing ends every handshake in progress: that is no peer's failure.
      if (!this.#closed) {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.events.emit("incoming-failed", {
          address: addressKey(remote.hostname, remote.port),
          reason: failure.message,
          error: failure,
        });
      }
    }
  }

  /** The encryption policy of the torrent under `infoHash` (either hash of a hybrid). */
  #policyOf(infoHash: Uint8Array): EncryptionPolicy | undefined {
    const session = this.#sessions.get(toHex(infoHash));
    return session && this.#encryption.get(session.infoHash);
  }

  /** The info hashes an incoming MSE connection may ask for (a hybrid torrent's both). */
  *#encryptedTorrents(): Generator<Uint8Array> {
    for (const [key, session] of this.#sessions) {
      if (this.#encryption.get(session.infoHash) === "off") continue;
      yield key === session.infoHash ? session.infoHashBytes : fromHex(key)!;
    }
  }

  /**
   * The handshake with `address`: MSE first unless encryption is off; with
   * `prefer`, a peer that fails the MSE handshake is dialled again in plain
   * text (once), as libtorrent does.
   */
  async #handshake(
    engine: HostedSession,
    address: PeerAddress,
    signal: AbortSignal,
  ): Promise<PeerWire> {
    const policy = this.#encryption.get(engine.infoHash) ?? "prefer";
    if (policy === "off") return await this.#connect(engine, address, signal);
    try {
      return await this.#connect(engine, address, signal, policy);
    } catch (error) {
      if (policy === "require" || signal.aborted || !failedEncryption(error)) throw error;
      return await this.#connect(engine, address, signal);
    }
  }

  async #connect(
    engine: HostedSession,
    address: PeerAddress,
    signal: AbortSignal,
    encryption?: "prefer" | "require",
  ): Promise<PeerWire> {
    const tcp = await this.#transport.dial({ hostname: address.host, port: address.port }, {
      signal,
    });
    // A hybrid torrent's peer from its v2 swarm is dialled under the v2 hash, any other under
    // the v1 hash (as libtorrent), which newer libtorrents answer with the v2 hash when both
    // set the v2 bit (BEP 52's upgrade): taken too.
    const v2 = engine.infoHashV2Bytes;
    const infoHash = v2 && address.swarm === "v2" ? v2 : engine.infoHashBytes;
    const conn = encryption
      ? await encryptOutgoing(tcp, {
        infoHash,
        provide: encryption === "require"
          ? CryptoMethod.rc4
          : CryptoMethod.plaintext | CryptoMethod.rc4,
        timeout: resolveWireLimits(this.#options.limits).handshakeTimeout,
      })
      : tcp;
    return await PeerWire.connect(conn, {
      infoHash,
      answerInfoHashes: v2 && infoHash !== v2 ? [v2] : [],
      peerId: this.peerId,
      handlers: this.#handlers.get(engine),
      limits: this.#options.limits,
      writeTimeout: this.#options.writeTimeoutMs,
      ...socketBuffers(this.#connections),
      context: engine.wireContext,
      signal,
    });
  }

  async #dial(engine: HostedSession, address: PeerAddress): Promise<void> {
    const uncount = this.#count(address.host);
    this.#halfOpen++;
    let halfOpen = true;
    const handshakeDone = () => {
      if (halfOpen) this.#halfOpen--;
      halfOpen = false;
    };
    try {
      const signal = AbortSignal.timeout(this.#options.connectTimeoutMs ?? 10_000);
      const wire = await this.#handshake(engine, address, signal);
      handshakeDone();
      void wire.closed.then(uncount);
      if (this.#closed) {
        engine.dialCancelled(address);
        return wire.close();
      }
      engine.attach(wire, address.host, address.port, false);
    } catch (error) {
      handshakeDone();
      uncount();
      if (this.#closed) engine.dialCancelled(address);
      else engine.dialFailed(address, error);
    }
  }
}

/** `crypto_select` for a torrent's policy from what the peer offers. */
function selectMethod(policy: EncryptionPolicy, provide: number): number {
  // With both offered, "prefer" keeps the payload plain (as libtorrent's defaults do).
  if (policy === "prefer" && provide & CryptoMethod.plaintext) return CryptoMethod.plaintext;
  if (policy !== "off" && provide & CryptoMethod.rc4) return CryptoMethod.rc4;
  throw new ProtocolError(
    "encryption-policy",
    `MSE: the peer offers methods ${provide}, our policy is ${policy}`,
    { provide, policy },
  );
}

/** A session's keys in the runtime: its info hash, and a hybrid torrent's truncated v2 hash. */
function infoHashKeys(session: HostedSession): string[] {
  return session.infoHashV2Bytes
    ? [session.infoHash, toHex(session.infoHashV2Bytes)]
    : [session.infoHash];
}

/**
 * An incoming handshake must name the MSE torrent (either hash of a hybrid), and be
 * encrypted where that is required.
 */
function checkIncoming(
  mseInfoHash: Uint8Array | undefined,
  mseSession: HostedSession | undefined,
  session: HostedSession,
  infoHash: Uint8Array,
  policy: EncryptionPolicy | undefined,
): void {
  if (mseInfoHash && mseSession !== session) {
    throw new ProtocolError(
      "bad-handshake",
      `handshake for ${toHex(infoHash)} after MSE for ${toHex(mseInfoHash)}`,
    );
  }
  if (!mseInfoHash && policy === "require") {
    throw new ProtocolError("encryption-policy", "a plain connection where MSE is required");
  }
}

/** Whether a dial failed in the MSE handshake (then a plain retry may work). */
function failedEncryption(error: unknown): boolean {
  return error instanceof ProtocolError && (
    error.code === "connection-closed" || error.code === "encryption-refused" ||
    error.code === "no-encryption-sync" || error.code === "encryption-mismatch" ||
    error.code === "encryption-policy" || error.code === "bad-encryption-key" ||
    error.code === "bad-encryption-padding"
  );
}

/** The user's web seeds: http(s) URLs the process may reach (a `PermissionError` otherwise). */
function checkWebSeedOptions(urls: readonly string[]): void {
  for (const url of urls) {
    if (!isWebSeedUrl(url)) {
      throw new WebSeedError("url", url, "not an http: or https: URL");
    }
    const { hostname, port, protocol } = new URL(url);
    const host = `${hostname}:${port || (protocol === "https:" ? 443 : 80)}`;
    if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
      throw new PermissionError(`network access to ${host} (web seed)`, `--allow-net=${host}`);
    }
  }
}
