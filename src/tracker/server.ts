/**
 * A small HTTP and UDP tracker (announce + scrape) for tests, demos and local swarms.
 */
import { BencodeDict, encode } from "../bencode/mod.ts";
import type { Encodable } from "../bencode/mod.ts";
import { concatBytes, fromHex, toHex } from "../util/bytes.ts";
import { explainPermission } from "../util/permissions.ts";
import { ipVersion } from "../util/ip.ts";
import { createUdpSocket, type UdpRemoteInfo, type UdpSocket } from "../util/udp.ts";
import { encodeCompactPeer } from "./compact.ts";
import { parseQueryBytes } from "./percent.ts";

/**
 * Settings of a {@linkcode TrackerServer}.
 *
 * @example
 * ```ts
 * import type { TrackerServerOptions } from "@bittern/bittern";
 *
 * const options: TrackerServerOptions = { port: 0, interval: 60 };
 * ```
 */
export interface TrackerServerOptions {
  /** Address to listen on (default `127.0.0.1`). */
  readonly hostname?: string;
  /** Port to listen on; 0 picks a free one (default 0). */
  readonly port?: number;
  /** `interval` sent to clients, in seconds (default 1800). */
  readonly interval?: number;
  /** `min interval` sent to clients, in seconds, when set. */
  readonly minInterval?: number;
  /** Peers returned when the client sends no `numwant` (default 50). */
  readonly defaultNumwant?: number;
  /** Upper bound on `numwant` (default 200). */
  readonly maxNumwant?: number;
  /** Torrents tracked at most (default 10 000); announces for more are refused. */
  readonly maxTorrents?: number;
  /** Peers per torrent at most (default 5 000); new peers beyond are refused. */
  readonly maxPeersPerTorrent?: number;
  /**
   * Also answer UDP tracker requests (BEP 15) on this port of the same hostname, with the same
   * swarms; 0 picks a free port. Unset (the default): HTTP only.
   */
  readonly udpPort?: number;
}

interface PeerRecord {
  host: string;
  port: number;
  peerId: Uint8Array;
  seeding: boolean;
  lastSeen: number;
}

interface Swarm {
  peers: Map<string, PeerRecord>;
  downloaded: number;
}

/** Parameters of one announce after validation. */
interface AnnounceQuery {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  left: number;
  event: string;
  numwant: number;
  compact: boolean;
  noPeerId: boolean;
}

/** What an announce did to the swarm: the peers to send and the counts, or a refusal. */
type AnnounceOutcome =
  | { peers: PeerRecord[]; complete: number; incomplete: number }
  | { failure: string };

class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryError";
  }
}

const latin1 = new TextDecoder("latin1");
const UDP_PROTOCOL_ID = 0x41727101980n;
const UDP_CONNECT = 0;
const UDP_ANNOUNCE = 1;
const UDP_SCRAPE = 2;
const UDP_ERROR = 3;
/** A server accepts a connection id for two minutes (BEP 15). */
const UDP_CONNECTION_LIFETIME_MS = 120_000;
const MAX_URL_LENGTH = 8 * 1024;

function bencoded(value: Encodable, status = 200): Response {
  return new Response(encode(value) as Uint8Array<ArrayBuffer>, {
    status,
    headers: { "content-type": "text/plain" },
  });
}

function failure(reason: string, status = 400): Response {
  return bencoded({ "failure reason": reason }, status);
}

/**
 * An HTTP tracker on `Deno.serve`: announce (compact IPv4/IPv6 or dictionary peers) and scrape;
 * with `udpPort`, also a UDP tracker (BEP 15, `node:dgram`) over the same swarms.
 * Peers are keyed by info hash, IP and port; `stopped` removes a peer; peers silent for two
 * intervals expire. The requester never appears in its own peer list. Garbage queries get a
 * 400 with a bencoded `failure reason`.
 *
 * @example
 * ```ts
 * import { TrackerServer } from "@bittern/bittern";
 *
 * const server = new TrackerServer({ interval: 60 });
 * await server.start();
 * console.log(server.url); // http://127.0.0.1:PORT/announce
 * await server.close();
 * ```
 */
export class TrackerServer {
  readonly #options: TrackerServerOptions;
  readonly #swarms = new Map<string, Swarm>();
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #udp: UdpSocket | undefined;
  /** UDP connection ids (hex) handed out, with when they stop being accepted. */
  readonly #udpConnections = new Map<string, number>();
  #announces = 0;

  /**
   * Creates a server; it listens after {@linkcode TrackerServer.start}.
   *
   * @param options Listen address, intervals and limits.
   */
  constructor(options: TrackerServerOptions = {}) {
    this.#options = options;
  }

  /**
   * Starts listening. Resolves once the port is bound; rejects when it cannot bind (e.g.
   * `Deno.errors.AddrInUse`, or a `PermissionError` naming the `--allow-net` flag).
   *
   * @returns Nothing; read {@linkcode TrackerServer.url} afterwards.
   */
  async start(): Promise<void> {
    if (this.#server) return;
    const hostname = this.#options.hostname ?? "127.0.0.1";
    const port = this.#options.port ?? 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    try {
      this.#server = Deno.serve(
        { hostname, port, onListen: () => resolve() },
        (request, info) => this.#handle(request, info.remoteAddr),
      );
    } catch (error) {
      throw explainPermission(error, "net", `${hostname}:${port}`);
    }
    await promise;
    if (this.#options.udpPort === undefined) return;
    const socket = await createUdpSocket(ipVersion(hostname) === 6 ? "udp6" : "udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.#options.udpPort, hostname, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await this.close();
      throw explainPermission(error, "net", `${hostname}:${this.#options.udpPort}`);
    }
    socket.on("error", () => {}); // a failed send to one client is that client's problem
    socket.on("message", (message: Uint8Array, remote: UdpRemoteInfo) => {
      const reply = this.#udpRequest(new Uint8Array(message), remote.address);
      if (reply) socket.send(reply, remote.port, remote.address, () => {});
    });
    this.#udp = socket;
  }

  /** The bound port. Throws before {@linkcode TrackerServer.start}. */
  get port(): number {
    if (!this.#server) throw new Error("TrackerServer: not started");
    return this.#server.addr.port;
  }

  /** The bound UDP port. Throws unless started with {@linkcode TrackerServerOptions.udpPort}. */
  get udpPort(): number {
    if (!this.#udp) throw new Error("TrackerServer: UDP not started");
    return this.#udp.address().port;
  }

  /** The UDP announce URL, e.g. `udp://127.0.0.1:PORT/announce` (needs `udpPort`). */
  get udpUrl(): string {
    const hostname = this.#options.hostname ?? "127.0.0.1";
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `udp://${host}:${this.udpPort}/announce`;
  }

  /** The announce URL, e.g. `http://127.0.0.1:PORT/announce`. */
  get url(): string {
    const hostname = this.#options.hostname ?? "127.0.0.1";
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `http://${host}:${this.port}/announce`;
  }

  /** Number of announces answered successfully so far. */
  get announceCount(): number {
    return this.#announces;
  }

  /**
   * The peers currently known for a torrent.
   *
   * @param infoHash The torrent's 20-byte info hash.
   * @returns Host, port and peer id of each peer.
   */
  peersOf(infoHash: Uint8Array): { host: string; port: number; peerId: Uint8Array }[] {
    const swarm = this.#swarms.get(toHex(infoHash));
    if (!swarm) return [];
    return [...swarm.peers.values()].map(({ host, port, peerId }) => ({ host, port, peerId }));
  }

  /**
   * Stops listening and waits for in-flight requests to finish.
   *
   * @returns Nothing.
   */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (server) await server.shutdown();
  }

  #handle(request: Request, remote: Deno.NetAddr): Response {
    if (request.method !== "GET") return failure("only GET is supported", 405);
    if (request.url.length > MAX_URL_LENGTH) return failure("request URL too long", 414);
    const url = new URL(request.url);
    const parsed = parseQueryBytes(url.search, 256);
    if ("malformed" in parsed) return failure(`malformed query: ${parsed.malformed}`);
    const last = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
    try {
      if (last === "announce") return this.#announce(parsed.pairs, remote.hostname);
      if (last === "scrape") return this.#scrape(parsed.pairs);
    } catch (error) {
      if (error instanceof QueryError) return failure(error.message);
      throw error;
    }
    return failure(`no such endpoint ${url.pathname.slice(0, 64)}`, 404);
  }

  #announce(pairs: [string, Uint8Array][], remoteHost: string): Response {
    const query = this.#readAnnounce(pairs);
    const result = this.#record(query, remoteHost);
    if ("failure" in result) return failure(result.failure, 200);
    return this.#announceReply(query, result.peers, result.complete, result.incomplete);
  }

  /** Applies one announce to the swarm state (shared by HTTP and UDP); picks the peers to send. */
  #record(query: AnnounceQuery, remoteHost: string): AnnounceOutcome {
    const interval = this.#options.interval ?? 1800;
    const now = Date.now();
    const hash = toHex(query.infoHash);
    let swarm = this.#swarms.get(hash);
    if (!swarm) {
      if (query.event === "stopped") return { peers: [], complete: 0, incomplete: 0 };
      if (this.#swarms.size >= (this.#options.maxTorrents ?? 10_000)) {
        return { failure: "tracker is full (torrents)" };
      }
      swarm = { peers: new Map(), downloaded: 0 };
      this.#swarms.set(hash, swarm);
    }
    // Lazy expiry: no timers to clean up, and an idle tracker costs nothing.
    for (const [key, peer] of swarm.peers) {
      if (now - peer.lastSeen > 2 * interval * 1000) swarm.peers.delete(key);
    }
    const key = `${remoteHost}|${query.port}`;
    if (query.event === "stopped") {
      swarm.peers.delete(key);
    } else {
      const known = swarm.peers.get(key);
      if (!known && swarm.peers.size >= (this.#options.maxPeersPerTorrent ?? 5_000)) {
        return { failure: "tracker is full (peers)" };
      }
      if (query.event === "completed" && known && !known.seeding) swarm.downloaded++;
      swarm.peers.set(key, {
        host: remoteHost,
        port: query.port,
        peerId: query.peerId,
        seeding: query.left === 0,
        lastSeen: now,
      });
    }
    const others = [...swarm.peers.entries()].filter(([peerKey]) => peerKey !== key);
    shuffleInPlace(others);
    const chosen = others.slice(0, query.numwant).map(([, peer]) => peer);
    let complete = 0;
    for (const peer of swarm.peers.values()) if (peer.seeding) complete++;
    // An empty swarm is forgotten unless it counted downloads (scrape keeps reporting them).
    if (swarm.peers.size === 0 && swarm.downloaded === 0) this.#swarms.delete(hash);
    this.#announces++;
    return { peers: chosen, complete, incomplete: swarm.peers.size - complete };
  }

  #announceReply(
    query: AnnounceQuery,
    peers: PeerRecord[],
    complete: number,
    incomplete: number,
  ): Response {
    const interval = this.#options.interval ?? 1800;
    const reply = new BencodeDict()
      .set("complete", complete)
      .set("incomplete", incomplete)
      .set("interval", interval);
    if (this.#options.minInterval !== undefined) {
      reply.set("min interval", this.#options.minInterval);
    }
    if (query.compact) {
      const v4: Uint8Array[] = [];
      const v6: Uint8Array[] = [];
      for (const peer of peers) {
        const compact = encodeCompactPeer(peer);
        if (compact) (compact.family === 4 ? v4 : v6).push(compact.bytes);
      }
      reply.set("peers", concatBytes(v4));
      if (v6.length > 0) reply.set("peers6", concatBytes(v6));
    } else {
      reply.set(
        "peers",
        peers.map((peer) => {
          const entry = new BencodeDict()
            .set("ip", new TextEncoder().encode(peer.host))
            .set("port", peer.port);
          if (!query.noPeerId) entry.set("peer id", peer.peerId);
          return entry;
        }),
      );
    }
    return bencoded(reply);
  }

  #readAnnounce(pairs: [string, Uint8Array][]): AnnounceQuery {
    const single = new Map<string, Uint8Array>();
    for (const [key, value] of pairs) single.set(key, value);
    const bytesParam = (name: string): Uint8Array => {
      const value = single.get(name);
      if (!value) throw new QueryError(`missing ${name}`);
      if (value.length !== 20) throw new QueryError(`${name} is ${value.length} bytes, not 20`);
      return value;
    };
    const numberParam = (name: string, fallback?: number): number => {
      const value = single.get(name);
      if (value === undefined) {
        if (fallback === undefined) throw new QueryError(`missing ${name}`);
        return fallback;
      }
      const text = latin1.decode(value);
      if (!/^\d{1,18}$/.test(text)) throw new QueryError(`${name} is not a non-negative integer`);
      return Number(text);
    };
    const infoHash = bytesParam("info_hash");
    const peerId = bytesParam("peer_id");
    const port = numberParam("port");
    if (port < 1 || port > 65535) throw new QueryError(`port ${port} is out of range`);
    const left = numberParam("left", 0);
    const event = latin1.decode(single.get("event") ?? new Uint8Array());
    if (!["", "started", "completed", "stopped", "empty"].includes(event)) {
      throw new QueryError(`unknown event ${event.slice(0, 32)}`);
    }
    const maxNumwant = this.#options.maxNumwant ?? 200;
    const numwant = Math.min(
      numberParam("numwant", this.#options.defaultNumwant ?? 50),
      maxNumwant,
    );
    const compact = latin1.decode(single.get("compact") ?? new Uint8Array()) !== "0";
    const noPeerId = latin1.decode(single.get("no_peer_id") ?? new Uint8Array()) === "1";
    return { infoHash, peerId, port, left, event, numwant, compact, noPeerId };
  }

  #scrape(pairs: [string, Uint8Array][]): Response {
    const hashes = pairs.filter(([key]) => key === "info_hash").map(([, value]) => value);
    for (const hash of hashes) {
      if (hash.length !== 20) throw new QueryError(`info_hash is ${hash.length} bytes, not 20`);
    }
    const wanted = hashes.length > 0 ? hashes.map(toHex) : [...this.#swarms.keys()].slice(0, 1000);
    const files: [Uint8Array, BencodeDict][] = [];
    for (const hex of new Set(wanted)) {
      const found = this.#counts(hex);
      if (!found) continue;
      const counts = new BencodeDict()
        .set("complete", found.complete)
        .set("downloaded", found.downloaded)
        .set("incomplete", found.incomplete);
      files.push([fromHex(hex)!, counts]);
    }
    return bencoded(new BencodeDict().set("files", new BencodeDict(files)));
  }

  #counts(hex: string): { complete: number; downloaded: number; incomplete: number } | undefined {
    const swarm = this.#swarms.get(hex);
    if (!swarm) return undefined;
    let complete = 0;
    for (const peer of swarm.peers.values()) if (peer.seeding) complete++;
    return { complete, downloaded: swarm.downloaded, incomplete: swarm.peers.size - complete };
  }

  /**
   * Answers one UDP datagram (BEP 15): connect, announce, scrape; problems get an error answer
   * (action 3). Datagrams too short to carry a transaction id are ignored.
   */
  #udpRequest(packet: Uint8Array, remoteHost: string): Uint8Array | undefined {
    if (packet.length < 16) return undefined;
    const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    const action = view.getUint32(8);
    const transactionId = view.getUint32(12);
    const header = (replyAction: number, length: number) => {
      const reply = new Uint8Array(length);
      const replyView = new DataView(reply.buffer);
      replyView.setUint32(0, replyAction);
      replyView.setUint32(4, transactionId);
      return { reply, replyView };
    };
    const error = (message: string) => {
      const text = new TextEncoder().encode(message);
      const { reply } = header(UDP_ERROR, 8 + text.length);
      reply.set(text, 8);
      return reply;
    };
    const now = Date.now();
    if (action === UDP_CONNECT) {
      if (view.getBigUint64(0) !== UDP_PROTOCOL_ID) return error("bad protocol id");
      const id = crypto.getRandomValues(new Uint8Array(8));
      if (this.#udpConnections.size >= 4096) {
        for (const [key, expires] of this.#udpConnections) {
          if (expires <= now) this.#udpConnections.delete(key);
        }
        if (this.#udpConnections.size >= 4096) {
          this.#udpConnections.delete(this.#udpConnections.keys().next().value!);
        }
      }
      this.#udpConnections.set(toHex(id), now + UDP_CONNECTION_LIFETIME_MS);
      const { reply } = header(UDP_CONNECT, 16);
      reply.set(id, 8);
      return reply;
    }
    const expires = this.#udpConnections.get(toHex(packet.subarray(0, 8)));
    if (expires === undefined || expires <= now) return error("unknown or expired connection id");
    if (action === UDP_ANNOUNCE) {
      if (packet.length < 98) return error(`announce of ${packet.length} bytes, not 98`);
      const port = view.getUint16(96);
      if (port < 1) return error("port 0 is out of range");
      const event = ["", "completed", "started", "stopped"][view.getUint32(80)];
      if (event === undefined) return error(`unknown event ${view.getUint32(80)}`);
      const asked = view.getInt32(92);
      const query: AnnounceQuery = {
        infoHash: packet.slice(16, 36),
        peerId: packet.slice(36, 56),
        port,
        left: Number(view.getBigUint64(64)),
        event,
        numwant: Math.min(
          asked < 0 ? this.#options.defaultNumwant ?? 50 : asked,
          this.#options.maxNumwant ?? 200,
        ),
        compact: true,
        noPeerId: true,
      };
      const result = this.#record(query, remoteHost);
      if ("failure" in result) return error(result.failure);
      const family = this.#udp?.address().family === "IPv6" ? 6 : 4;
      const peers = result.peers.map(encodeCompactPeer)
        .filter((entry) => entry?.family === family)
        .map((entry) => entry!.bytes);
      const list = concatBytes(peers);
      const { reply, replyView } = header(UDP_ANNOUNCE, 20 + list.length);
      replyView.setUint32(8, this.#options.interval ?? 1800);
      replyView.setUint32(12, result.incomplete);
      replyView.setUint32(16, result.complete);
      reply.set(list, 20);
      return reply;
    }
    if (action === UDP_SCRAPE) {
      const count = Math.min(Math.floor((packet.length - 16) / 20), 74);
      const { reply, replyView } = header(UDP_SCRAPE, 8 + 12 * count);
      for (let index = 0; index < count; index++) {
        const at = 16 + 20 * index;
        const counts = this.#counts(toHex(packet.subarray(at, at + 20)));
        replyView.setUint32(8 + 12 * index, counts?.complete ?? 0);
        replyView.setUint32(12 + 12 * index, counts?.downloaded ?? 0);
        replyView.setUint32(16 + 12 * index, counts?.incomplete ?? 0);
      }
      return reply;
    }
    return error(`unknown action ${action}`);
  }
}

function shuffleInPlace<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}
