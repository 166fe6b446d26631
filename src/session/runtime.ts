import type { PeerAddress } from "../agents/agent.ts";
import { fetchTorrent } from "../fetch/registry.ts";
import { parseTorrent } from "../metainfo/parse.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { clientName } from "../peers/client_name.ts";
import { generatePeerId } from "../peers/peer_id.ts";
import { createSelector } from "../picker/named.ts";
import { FileSystemStorage } from "../storage/filesystem.ts";
import { NodeCryptoHasher, type Sha1Hasher } from "../storage/hasher.ts";
import { PieceStore } from "../storage/piece_store.ts";
import { toHex } from "../util/bytes.ts";
import { explainPermission } from "../util/permissions.ts";
import { ExtensionProtocol } from "../wire/extension_protocol.ts";
import { ExtensionRegistry } from "../wire/extensions.ts";
import type { HandshakeHandler } from "../wire/handlers.ts";
import { PeerWire } from "../wire/peer_wire.ts";
import { pexAgent } from "../peers/pex.ts";
import { type PeerSource, StaticPeerSource } from "../peers/source.ts";
import { TrackerPeerSource } from "../peers/tracker_source.ts";
import type { MessagingAgent } from "../agents/agent.ts";
import { rawExtension } from "./link.ts";
import { addressKey } from "./peer.ts";
import { SourceRunner } from "./sources.ts";
import { resolveSessionConfig, type RuntimeOptions, type SessionOptions } from "./options.ts";
import { type SessionHost, TorrentSession } from "./session.ts";

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
  readonly #options: RuntimeOptions;
  readonly #sessions = new Map<string, TorrentSession>();
  readonly #handlers = new Map<TorrentSession, readonly HandshakeHandler[]>();
  readonly #hasher: Sha1Hasher;
  readonly #ownsHasher: boolean;
  readonly #maxConnections: number;
  #listener: Deno.Listener | undefined;
  #connections = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #host: SessionHost;

  /**
   * Creates a runtime; it listens once the first torrent is added.
   *
   * @param options Listening address, limits, peer id, fetchers, hasher.
   */
  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
    this.peerId = options.peerId ?? generatePeerId();
    this.#hasher = options.hasher ?? new NodeCryptoHasher();
    this.#ownsHasher = options.hasher === undefined;
    this.#maxConnections = options.maxConnections ?? 200;
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    const port = () => this.port;
    this.#host = {
      peerId: this.peerId,
      get port() {
        return port();
      },
      canConnect: () => this.#connections < this.#maxConnections && !this.#closed,
      dial: (session, address) => void this.#dial(session, address),
      clientName,
      removed: (session) => {
        if (this.#sessions.get(session.infoHash) === session) {
          this.#sessions.delete(session.infoHash);
        }
        this.#handlers.delete(session);
      },
    };
  }

  /** The listening port, once listening. */
  get port(): number | undefined {
    const addr = this.#listener?.addr;
    return addr?.transport === "tcp" ? addr.port : undefined;
  }

  /** Open connections (and attempts) across all torrents. */
  get connections(): number {
    return this.#connections;
  }

  /** The running sessions. */
  sessions(): TorrentSession[] {
    return [...this.#sessions.values()];
  }

  /**
   * Adds a torrent: a parsed {@linkcode Torrent}, metainfo bytes, or a source
   * string for the metainfo fetchers (a path, `file:` or `http(s):` URL).
   * Opens its storage, checks existing data and (by default) starts it.
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
    const torrent = typeof source === "string"
      ? await fetchTorrent(source, {
        fetchers: this.#options.fetchers,
        signal: this.#options.signal,
      })
      : source instanceof Uint8Array
      ? parseTorrent(source)
      : source;
    if (this.#sessions.has(torrent.infoHashHex)) {
      throw new Error(`torrent ${torrent.infoHashHex} is already in this runtime`);
    }
    this.#ensureListening();
    const config = resolveSessionConfig(options);
    const storage = options.storage ?? new FileSystemStorage(options.out ?? ".");
    const store = await PieceStore.open(torrent, storage, {
      hasher: this.#hasher,
      blockSize: config.blockSize,
      wantedFiles: options.wantedFiles,
      resumePath: options.resumePath,
      restore: options.restore,
    });
    const selector = typeof options.selector === "object"
      ? options.selector
      : createSelector(options.selector ?? "rarest");
    const session = new TorrentSession(
      this.#host,
      store,
      selector,
      config,
      this.#agentsFor(torrent, options),
      new SourceRunner(this.#sourcesFor(torrent, options)),
    );
    const registry = new ExtensionRegistry();
    for (const name of session.extensionNames) registry.register(rawExtension(name));
    this.#handlers.set(session, [
      new ExtensionProtocol({
        registry,
        listenPort: this.port,
        requestQueueLength: config.maxUploadQueue,
        metadataSize: torrent.infoBytes.length,
      }),
      ...this.#options.handshakeHandlers ?? [],
      ...options.handshakeHandlers ?? [],
    ]);
    this.#sessions.set(torrent.infoHashHex, session);
    if (options.start !== false) session.start();
    return session;
  }

  /** Built-in optional agents (PEX unless private) and the user's. */
  #agentsFor(torrent: Torrent, options: SessionOptions): MessagingAgent[] {
    const agents: MessagingAgent[] = [];
    if (!torrent.private && options.pex !== false) {
      agents.push(pexAgent(typeof options.pex === "object" ? options.pex : {}));
    }
    return [...agents, ...options.agents ?? []];
  }

  /** Trackers, then (unless the torrent is private, BEP 27) static peers and custom sources. */
  #sourcesFor(torrent: Torrent, options: SessionOptions): PeerSource[] {
    const sources: PeerSource[] = [];
    if (options.trackers !== false && torrent.announce.length) {
      sources.push(
        new TrackerPeerSource(typeof options.trackers === "object" ? options.trackers : {}),
      );
    }
    if (torrent.private && !options.allowPrivatePeerSources) return sources;
    if (options.peers?.length) sources.push(new StaticPeerSource(options.peers));
    return [...sources, ...this.#options.peerSources ?? [], ...options.peerSources ?? []];
  }

  /** The session of a torrent, by hex info hash. */
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
    await Promise.all(
      [...this.#sessions.values()].map((session) => session.stop("runtime closed")),
    );
    // Give in-flight dials and handshakes a moment to notice.
    for (let i = 0; i < 200 && this.#connections > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.#ownsHasher) this.#hasher.close();
  }

  #ensureListening(): void {
    const listen = this.#options.listen;
    if (listen === false || this.#listener) return;
    const hostname = listen?.hostname ?? "0.0.0.0";
    const port = listen?.port ?? 6881;
    try {
      this.#listener = Deno.listen({ hostname, port, transport: "tcp" });
    } catch (error) {
      throw explainPermission(error, "net", `${hostname}:${port}`);
    }
    void this.#acceptLoop(this.#listener);
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#closed || this.#connections >= this.#maxConnections) {
          conn.close();
          continue;
        }
        void this.#accept(conn);
      }
    } catch {
      // The listener was closed.
    }
  }

  async #accept(conn: Deno.Conn): Promise<void> {
    this.#connections++;
    const remote = conn.remoteAddr as Deno.NetAddr;
    let session: TorrentSession | undefined;
    try {
      const wire = await PeerWire.accept(conn, {
        peerId: this.peerId,
        limits: this.#options.limits,
        reuseReadBuffer: true,
        findTorrent: (infoHash) => {
          session = this.#sessions.get(toHex(infoHash));
          if (!session || !session.running) return undefined;
          return { context: session.torrent, handlers: this.#handlers.get(session) };
        },
      });
      void wire.closed.then(() => this.#connections--);
      session!.attach(wire, remote.hostname, remote.port, true);
    } catch {
      this.#connections--;
    }
  }

  async #dial(session: TorrentSession, address: PeerAddress): Promise<void> {
    const key = addressKey(address.host, address.port);
    this.#connections++;
    let conn: Deno.Conn | undefined;
    try {
      const signal = AbortSignal.timeout(this.#options.connectTimeoutMs ?? 10_000);
      conn = await Deno.connect({ hostname: address.host, port: address.port, signal });
      const wire = await PeerWire.connect(conn, {
        infoHash: session.torrent.infoHash,
        peerId: this.peerId,
        handlers: this.#handlers.get(session),
        limits: this.#options.limits,
        reuseReadBuffer: true,
        context: session.torrent,
        signal,
      });
      void wire.closed.then(() => this.#connections--);
      if (this.#closed) return wire.close();
      session.attach(wire, address.host, address.port, false);
    } catch {
      this.#connections--;
      session.dialFailed(key);
    }
  }
}
