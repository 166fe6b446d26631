/**
 * The swarm builder: seeders and leechers, each on its own runtime on 127.0.0.1, sharing
 * one generated payload, optionally through the built-in tracker.
 */
import { join } from "node:path";
import type { MessagingAgent, PeerAddress } from "../agents/agent.ts";
import { DhtNode } from "../dht/node.ts";
import { createTorrent } from "../metainfo/create.ts";
import { formatMagnet } from "../metainfo/magnet.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { SelectorName } from "../picker/named.ts";
import type { PieceSelector } from "../picker/selector.ts";
import type { RuntimeOptions, SessionOptions } from "../session/options.ts";
import { Runtime } from "../session/runtime.ts";
import { FileSystemStorage } from "../storage/filesystem.ts";
import { MemoryStorage } from "../storage/memory.ts";
import type { Storage, TorrentStorage } from "../storage/types.ts";
import { TrackerServer, type TrackerServerOptions } from "../tracker/server.ts";
import { toHex } from "../util/bytes.ts";
import type { HandshakeHandler } from "../wire/handlers.ts";
import { SwarmError, SwarmTimeoutError } from "./errors.ts";
import { createPayload, type Payload, type PayloadOptions } from "./payload.ts";
import { SwarmPeer, type SwarmRole, type WaitOptions } from "./peer.ts";
import { MessageLog, type MessageMatcher, type ReceivedMessage } from "./recorder.ts";
import { verifyPeerPayload } from "./verify.ts";
import { waitWithTimeout } from "./wait.ts";

/**
 * Where a swarm peer keeps its bytes: `"memory"` (no files at all), `"filesystem"` (a
 * directory inside the swarm's temp directory, removed by `close()`), or your own
 * {@linkcode Storage}.
 *
 * @example
 * ```ts
 * import type { SwarmStorage } from "@bittern/bittern/testing";
 *
 * const storage: SwarmStorage = "filesystem";
 * ```
 */
export type SwarmStorage = "memory" | "filesystem" | Storage;

/**
 * Per-peer settings, returned by {@linkcode SwarmOptions.peer} for each seeder and leecher.
 * Agents and handshake handlers must be fresh instances for each peer.
 *
 * @example A leecher that downloads in order and speaks an extension
 * ```ts
 * import type { SwarmPeerOptions } from "@bittern/bittern/testing";
 *
 * const options: SwarmPeerOptions = {
 *   selector: "sequential",
 *   agents: [{ name: "x_hello", extensions: ["x_hello"] }],
 * };
 * ```
 */
export interface SwarmPeerOptions {
  /** Piece order. Default `"rarest"`. */
  readonly selector?: PieceSelector | SelectorName;
  /** Messaging agents for this peer's session. */
  readonly agents?: readonly MessagingAgent[];
  /** Handshake handlers for this peer's session. */
  readonly handshakeHandlers?: readonly HandshakeHandler[];
  /** Storage for this peer; default: the swarm's {@linkcode SwarmOptions.storage}. */
  readonly storage?: SwarmStorage;
  /** More session options (tunables such as `requestTimeoutMs`, `pex`, `peers`). */
  readonly session?: Omit<SessionOptions, "storage" | "out" | "agents" | "start">;
  /** More runtime options (the kit always listens on 127.0.0.1, port 0). */
  readonly runtime?: Omit<RuntimeOptions, "listen">;
  /**
   * Start this leecher from a magnet link (the info hash and name, with the tracker as `tr`
   * when the swarm has one): it fetches the metadata from its peers first (BEP 9). Ignored
   * for seeders. Default `false`.
   */
  readonly magnet?: boolean;
}

/**
 * How to build a swarm.
 *
 * @example 1 seeder and 8 leechers over the built-in tracker, files on disk
 * ```ts
 * import type { SwarmOptions } from "@bittern/bittern/testing";
 *
 * const options: SwarmOptions = {
 *   seeders: 1,
 *   leechers: 8,
 *   payload: { size: 4 << 20, files: 3, pieceLength: 65536, seed: 42 },
 *   tracker: true,
 *   storage: "filesystem",
 * };
 * ```
 */
export interface SwarmOptions {
  /** Peers that start with the whole payload. Default 1. */
  readonly seeders?: number;
  /** Peers that download it. Default 1. */
  readonly leechers?: number;
  /** The payload to share: how to generate it, or one made by `createPayload`. */
  readonly payload?: PayloadOptions | Payload;
  /**
   * Run the built-in {@linkcode TrackerServer} on 127.0.0.1 and announce to it (optionally
   * with these server options). Without a tracker, each leecher is told directly about the
   * seeders and the leechers started before it. Default `false`.
   */
  readonly tracker?: boolean | TrackerServerOptions;
  /** Default storage of every peer. Default `"memory"`. */
  readonly storage?: "memory" | "filesystem";
  /**
   * Run a DHT bootstrap node on 127.0.0.1 and join every peer's DHT to it; peers then find
   * each other through the DHT alone (no tracker unless `tracker` is set, no direct peers).
   * Default `false`: the peers' DHT is off.
   */
  readonly dht?: boolean;
  /** Make the torrent private (BEP 27). Without a tracker, direct peers are still allowed. */
  readonly private?: boolean;
  /** Settings of each peer, by role and index. */
  readonly peer?: (role: SwarmRole, index: number) => SwarmPeerOptions;
  /** Default timeout of every wait, in milliseconds. Default 30 000. */
  readonly timeoutMs?: number;
  /** Received messages kept per peer for `messageReceived` and `messages()`. Default 1000. */
  readonly messageHistory?: number;
}

const MAX_PEERS = 500;

/**
 * Builds a swarm: generates the payload, creates the torrent, starts the tracker (when
 * asked) and fills the seeders' storage. Nothing connects until {@linkcode Swarm.start}.
 * Always close it: `await using swarm = await createSwarm(...)` does.
 *
 * @example 1 seeder, 8 leechers, every byte checked
 * ```ts
 * import { createSwarm } from "@bittern/bittern/testing";
 *
 * Deno.test("1 seeder and 8 leechers complete", async () => {
 *   await using swarm = await createSwarm({
 *     seeders: 1,
 *     leechers: 8,
 *     payload: { size: 4 << 20, files: 3, pieceLength: 65536, seed: 42 },
 *   });
 *   await swarm.start();
 *   await swarm.allComplete({ timeoutMs: 60_000 });
 *   await swarm.verifyPayload();
 * });
 * ```
 *
 * @param options Peers, payload, tracker, storage, per-peer settings.
 * @returns The swarm, not yet started.
 * @throws {SwarmError} When an option is out of range (everything made so far is cleaned up).
 */
export async function createSwarm(options: SwarmOptions = {}): Promise<Swarm> {
  const swarm = new Swarm(options);
  try {
    await swarm.prepare();
  } catch (error) {
    await swarm.close().catch(() => {});
    throw error;
  }
  return swarm;
}

/**
 * A swarm of seeders and leechers on 127.0.0.1, each with its own {@linkcode Runtime}. Make
 * one with {@linkcode createSwarm}; {@linkcode Swarm.close} releases every socket, timer and
 * temp directory.
 *
 * @example A custom extension tested in a 2-peer swarm
 * ```ts
 * import { createSwarm } from "@bittern/bittern/testing";
 *
 * await using swarm = await createSwarm({
 *   seeders: 1,
 *   leechers: 1,
 *   peer: () => ({
 *     agents: [{
 *       name: "hello",
 *       extensions: ["x_hello"],
 *       extendedHandshakeReceived: (peer) => {
 *         if (peer.supports("x_hello")) peer.sendExtended("x_hello", new TextEncoder().encode("hi"));
 *       },
 *       consumesExtended: { x_hello: () => {} },
 *     }],
 *   }),
 * });
 * await swarm.start();
 * await swarm.messageReceived("seeder-0", { type: "extended", name: "x_hello" }, { timeoutMs: 10_000 });
 * ```
 */
export class Swarm implements AsyncDisposable {
  /** The storage each peer's session opened (read back by {@linkcode Swarm.verifyPayload}). */
  readonly #openedStorage = new Map<SwarmPeer, TorrentStorage>();
  /** Every peer: seeders first, then leechers. */
  readonly peers: readonly SwarmPeer[] = [];
  readonly #options: SwarmOptions;
  readonly #timeoutMs: number;
  readonly #peerIds = new Map<string, string>();
  readonly #peerOptions = new Map<SwarmPeer, { options: SwarmPeerOptions; log: MessageLog }>();
  #payload: Payload | undefined;
  #torrent: Torrent | undefined;
  #torrentBytes: Uint8Array | undefined;
  #tracker: TrackerServer | undefined;
  #dht: DhtNode | undefined;
  #root: string | undefined;
  #starting: Promise<this> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Use {@linkcode createSwarm}, which also prepares the swarm.
   *
   * @param options How to build the swarm.
   */
  constructor(options: SwarmOptions = {}) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    checkCount("seeders", options.seeders ?? 1);
    checkCount("leechers", options.leechers ?? 1);
    checkCount("timeoutMs", this.#timeoutMs, 1, 2 ** 31 - 1);
    checkCount("messageHistory", options.messageHistory ?? 1000, 0, 10_000_000);
  }

  /** The shared payload: every file's expected bytes. */
  get payload(): Payload {
    if (!this.#payload) throw new SwarmError("swarm: not prepared (use createSwarm)");
    return this.#payload;
  }

  /** The torrent every peer shares. */
  get torrent(): Torrent {
    if (!this.#torrent) throw new SwarmError("swarm: not prepared (use createSwarm)");
    return this.#torrent;
  }

  /** The `.torrent` file bytes. */
  get torrentBytes(): Uint8Array {
    if (!this.#torrentBytes) throw new SwarmError("swarm: not prepared (use createSwarm)");
    return this.#torrentBytes;
  }

  /** The built-in tracker, when the swarm has one. */
  get tracker(): TrackerServer | undefined {
    return this.#tracker;
  }

  /** The DHT bootstrap node, when the swarm has one (`dht: true`). */
  get dht(): DhtNode | undefined {
    return this.#dht;
  }

  /** The swarm's temp directory (filesystem mode only); `close()` removes it. */
  get dir(): string | undefined {
    return this.#root;
  }

  /** The seeders, by index. */
  get seeders(): readonly SwarmPeer[] {
    return this.peers.filter((peer) => peer.role === "seeder");
  }

  /** The leechers, by index. */
  get leechers(): readonly SwarmPeer[] {
    return this.peers.filter((peer) => peer.role === "leecher");
  }

  /**
   * A peer by name, e.g. `"leecher-2"`.
   *
   * @param name `seeder-N` or `leecher-N`.
   * @returns The peer.
   * @throws {SwarmError} Naming the peers there are, when there is none by that name.
   */
  peer(name: string): SwarmPeer {
    const found = this.peers.find((peer) => peer.name === name);
    if (found) return found;
    throw new SwarmError(
      `swarm: no peer named ${name} (peers: ${this.peers.map((peer) => peer.name).join(", ")})`,
    );
  }

  /**
   * Generates the payload, starts the tracker, creates the torrent and fills the seeders'
   * storage. {@linkcode createSwarm} calls it; calling it again does nothing.
   *
   * @returns Nothing.
   */
  async prepare(): Promise<void> {
    if (this.#torrent) return;
    const options = this.#options;
    const payload = options.payload && "data" in options.payload
      ? options.payload
      : createPayload(options.payload);
    this.#payload = payload;
    if (options.tracker) {
      const tracker = new TrackerServer(typeof options.tracker === "object" ? options.tracker : {});
      this.#tracker = tracker;
      await tracker.start();
    }
    if (options.dht) {
      const node = new DhtNode({ host: "127.0.0.1", bootstrap: [], rateLimit: { key: "ip-port" } });
      this.#dht = node;
      await node.listen();
    }
    const source = payload.files.length === 1 && payload.files[0].path.length === 1 &&
        payload.files[0].path[0] === payload.name
      ? { name: payload.name, data: payload.data }
      : { name: payload.name, files: payload.files };
    const created = await createTorrent(source, {
      pieceLength: payload.pieceLength,
      private: options.private ?? false,
      announce: this.#tracker ? [this.#tracker.url] : undefined,
    });
    this.#torrent = created.torrent;
    this.#torrentBytes = created.bytes;
    const peers = this.peers as SwarmPeer[];
    const roles: [SwarmRole, number][] = [
      ["seeder", options.seeders ?? 1],
      ["leecher", options.leechers ?? 1],
    ];
    for (const [role, count] of roles) {
      for (let index = 0; index < count; index++) {
        const peerOptions = options.peer?.(role, index) ?? {};
        const name = `${role}-${index}`;
        const kind = peerOptions.storage ?? options.storage ?? "memory";
        let dir: string | undefined;
        let storage: Storage;
        if (kind === "filesystem") {
          this.#root ??= await Deno.makeTempDir({ prefix: "bittern-swarm-" });
          dir = join(this.#root, name);
          await Deno.mkdir(dir);
          storage = new FileSystemStorage(dir);
        } else {
          storage = kind === "memory" ? new MemoryStorage() : kind;
        }
        if (role === "seeder") await this.#seed(storage, dir);
        const log = new MessageLog(
          options.messageHistory ?? 1000,
          (peerIdHex) => this.#peerIds.get(peerIdHex),
        );
        peers.push(
          new SwarmPeer(role, index, storage, dir, log, {
            timeoutMs: this.#timeoutMs,
            describeOthers: (except) => this.#describeOthers(except),
          }),
        );
        this.#peerOptions.set(peers[peers.length - 1], { options: peerOptions, log });
      }
    }
  }

  /**
   * Starts every peer, seeders first, each on its own runtime listening on 127.0.0.1 with an
   * ephemeral port. With a tracker, each peer's first announce is answered before the next
   * peer starts, so later peers learn about earlier ones; without one, each leecher is given
   * the addresses of the seeders and of the leechers started before it.
   *
   * @returns The swarm.
   */
  start(): Promise<this> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<this> {
    if (this.#closing) throw new SwarmError("swarm: closed");
    const torrent = this.torrent;
    const direct: PeerAddress[] = [];
    for (const peer of this.peers) {
      const { options, log } = this.#peerOptions.get(peer)!;
      const runtime = new Runtime({
        // Every swarm peer is 127.0.0.1: limits and bans go by address and listen port.
        maxConnectionsPerIp: 64,
        dht: this.#dht
          ? { bootstrap: [this.#dht.address!], rateLimit: { key: "ip-port" }, retryMs: 250 }
          : false,
        ...options.runtime,
        listen: { hostname: "127.0.0.1", port: 0 },
      });
      peer.attach(runtime, undefined);
      this.#peerIds.set(toHex(runtime.peerId), peer.name);
      const agents = options.agents ?? [];
      const extensions = new Set(["ut_pex", ...agents.flatMap((agent) => agent.extensions ?? [])]);
      const opened = this.#openedStorage;
      const fromMagnet = options.magnet && peer.role === "leecher";
      const source = fromMagnet
        ? formatMagnet({
          infoHash: torrent.infoHash,
          name: torrent.name,
          trackers: this.#tracker ? torrent.announce.flat() : [],
        })
        : torrent;
      const session = await runtime.add(source, {
        trackers: this.#tracker !== undefined,
        peers: this.#tracker || this.#dht || peer.role === "seeder" ? undefined : [...direct],
        ...options.session,
        // Remember the storage the session opens, to read back where it wrote.
        storage: {
          open: async (torrent, openOptions) => {
            const storage = await peer.storage.open(torrent, openOptions);
            opened.set(peer, storage);
            return storage;
          },
        },
        selector: options.selector,
        agents: [...agents, log.agent(extensions)],
        handshakeHandlers: options.handshakeHandlers,
      });
      peer.attach(runtime, session);
      direct.push({ host: "127.0.0.1", port: peer.port });
      if (this.#tracker) await this.#announced(peer);
    }
    return this;
  }

  /** Waits for the peer's first answer from the tracker. */
  #announced(peer: SwarmPeer): Promise<void> {
    const events = peer.session.events;
    return waitWithTimeout<void>(
      this.#timeoutMs,
      (done) => events.on("tracker", () => done()),
      () =>
        new SwarmTimeoutError(
          `swarm: ${peer.name} got no answer from the tracker after ${this.#timeoutMs} ms`,
          [peer.name],
          this.#timeoutMs,
        ),
    );
  }

  /**
   * Resolves when every leecher has the whole payload.
   *
   * @param options Timeout.
   * @returns Nothing; rejects with a {@linkcode SwarmTimeoutError} naming every leecher still
   * downloading, its progress and peer count, or a {@linkcode SwarmError} naming a leecher
   * whose session failed.
   */
  allComplete(options: WaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const leechers = this.leechers;
    const sessions = leechers.map((peer) => peer.session);
    return waitWithTimeout<void>(
      timeoutMs,
      (done, fail) => {
        let left = sessions.length;
        if (left === 0) done();
        sessions.forEach((session, i) =>
          session.completed.then(
            () => --left === 0 && done(),
            (error: Error) =>
              fail(
                new SwarmError(`swarm: ${leechers[i].name} failed: ${error.message}`, {
                  cause: error,
                }),
              ),
          )
        );
        return () => {};
      },
      () => {
        const stuck = leechers.filter((peer) => peer.progress() < 1);
        const states = stuck.map((peer) => `${peer.name} stuck at ${peer.state()}`);
        return new SwarmTimeoutError(
          `swarm: ${states.join(", ")} after ${timeoutMs} ms; ${this.#describeOthers(stuck)}`,
          stuck.map((peer) => peer.name),
          timeoutMs,
        );
      },
    );
  }

  /**
   * Resolves with the first message matching `matcher` that peer `peerName` received.
   * Shorthand for `swarm.peer(peerName).messageReceived(matcher, options)`.
   *
   * @param peerName The receiving peer, e.g. `"seeder-0"`.
   * @param matcher A message type (`"have"`) or matcher (`{ type: "extended", name: "x_hello" }`).
   * @param options Timeout.
   * @returns The message.
   */
  messageReceived(
    peerName: string,
    matcher: MessageMatcher,
    options: WaitOptions = {},
  ): Promise<ReceivedMessage> {
    return this.peer(peerName).messageReceived(matcher, options);
  }

  /**
   * Checks that every leecher holds exactly the payload. Every piece is read back through the
   * leecher's storage (the session's own open storage while it runs), so a back-end that loses
   * or misplaces writes fails here even though each piece verified as it streamed in (which is
   * all `allComplete` sees); in filesystem mode the files on disk are compared too.
   *
   * @returns Nothing; rejects with a {@linkcode SwarmError} naming the leecher, the file or
   * piece, and the first differing offset.
   */
  async verifyPayload(): Promise<void> {
    for (const peer of this.leechers) {
      // While the session runs its storage is open: read where it wrote.
      const live = peer.started && peer.session.running ? this.#openedStorage.get(peer) : undefined;
      await verifyPeerPayload(peer.name, this.torrent, this.payload, peer.storage, peer.dir, live);
    }
  }

  /**
   * Stops every session and runtime, closes the tracker and removes the temp directory.
   * Safe to call more than once and after a failed start; every step runs even when one
   * fails (then it rejects with a {@linkcode SwarmError} listing what failed).
   *
   * @returns Nothing.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the swarm (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    // A start in progress would add runtimes behind our back: let it finish (or fail) first.
    await this.#starting?.catch(() => {});
    const problems: string[] = [];
    await Promise.all(this.peers.map(async (peer) => {
      let runtime: Runtime | undefined;
      try {
        runtime = peer.runtime;
      } catch {
        return; // never started
      }
      await runtime.close().catch((error: Error) =>
        problems.push(`${peer.name}: ${error.message}`)
      );
    }));
    await this.#tracker?.close().catch((error: Error) =>
      problems.push(`tracker: ${error.message}`)
    );
    await this.#dht?.close();
    if (this.#root) {
      await Deno.remove(this.#root, { recursive: true }).catch((error: Error) => {
        if (!(error instanceof Deno.errors.NotFound)) {
          problems.push(`removing ${this.#root}: ${error.message}`);
        }
      });
    }
    if (problems.length) {
      throw new SwarmError(`swarm: close failed: ${problems.join("; ")}`);
    }
  }

  /** Fills a seeder's storage with the payload, so it starts complete. */
  async #seed(storage: Storage, dir: string | undefined): Promise<void> {
    const torrent = this.torrent;
    const data = this.payload.data;
    if (dir !== undefined) {
      for (const file of torrent.files) {
        const path = join(dir, ...file.path);
        await Deno.mkdir(join(path, ".."), { recursive: true });
        await Deno.writeFile(path, data.subarray(file.offset, file.offset + file.length));
      }
      return;
    }
    const opened = await storage.open(torrent);
    try {
      for (let piece = 0; piece < torrent.pieceCount; piece++) {
        const start = piece * torrent.pieceLength;
        await opened.write(piece, 0, data.subarray(start, start + pieceLengthAt(torrent, piece)));
      }
    } finally {
      await opened.close();
    }
  }

  #describeOthers(except: readonly SwarmPeer[]): string {
    const others = this.peers.filter((peer) => !except.includes(peer));
    return `others: ${others.length ? others.map((peer) => peer.describe()).join(", ") : "none"}`;
  }
}

function checkCount(name: string, value: number, min = 0, max = MAX_PEERS): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SwarmError(`swarm: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
