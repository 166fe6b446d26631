/**
 * A DHT node (BEP 5) over `node:dgram`: answers `ping`, `find_node`, `get_peers` and
 * `announce_peer`, and runs iterative lookups and announces. Everything a remote node sends is
 * checked and bounded: the pending-query table, the rate limiter's map, the peer store and
 * the routing table all have fixed maxima, and no datagram can throw out of the handler.
 */
import { addressKey, type PeerAddress } from "../util/address.ts";
import { bytesEqual, toHex } from "../util/bytes.ts";
import { lookupHost } from "../util/dns.ts";
import { parseIpv4 } from "../util/ip.ts";
import { explainPermission, PermissionError } from "../util/permissions.ts";
import { createUdpSocket, type UdpRemoteInfo, type UdpSocket } from "../util/udp.ts";
import { DhtError, KrpcErrorCode } from "./errors.ts";
import {
  decodeKrpc,
  encodeKrpcError,
  encodeKrpcQuery,
  encodeKrpcResponse,
  isUsableAddress,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type NodeContact,
} from "./krpc.ts";
import { compareDistance, ID_LENGTH, randomIdWithPrefix, randomNodeId } from "./node_id.ts";
import { PeerStore, type PeerStoreOptions } from "./peer_store.ts";
import { QueryRateLimiter } from "./rate_limit.ts";
import { BUCKET_SIZE, RoutingTable } from "./routing_table.ts";
import { TokenManager } from "./tokens.ts";

/**
 * Public routers used when no bootstrap list is given.
 *
 * @example
 * ```ts
 * import { DEFAULT_DHT_BOOTSTRAP } from "@bittern/bittern";
 *
 * console.log(DEFAULT_DHT_BOOTSTRAP[0]); // { host: "router.bittorrent.com", port: 6881 }
 * ```
 */
export const DEFAULT_DHT_BOOTSTRAP: readonly PeerAddress[] = Object.freeze([
  { host: "router.bittorrent.com", port: 6881 },
  { host: "dht.transmissionbt.com", port: 6881 },
  { host: "router.utorrent.com", port: 6881 },
  { host: "dht.libtorrent.org", port: 25401 },
]);

/**
 * Options of a {@linkcode DhtNode}.
 *
 * @example
 * ```ts
 * import type { DhtNodeOptions } from "@bittern/bittern";
 *
 * const options: DhtNodeOptions = {
 *   host: "127.0.0.1",
 *   port: 0,
 *   bootstrap: [{ host: "127.0.0.1", port: 6881 }],
 *   rateLimit: { key: "ip-port" },
 * };
 * ```
 */
export interface DhtNodeOptions {
  /** Our node id. Default: random (or the saved one in `state`). */
  readonly id?: Uint8Array;
  /** Address to bind (IPv4). Default `"0.0.0.0"`. A node bound to a loopback address only talks to loopback addresses. */
  readonly host?: string;
  /** UDP port. Default 0 (any free port). */
  readonly port?: number;
  /** Routers and nodes to start from (host names are resolved). Default {@linkcode DEFAULT_DHT_BOOTSTRAP}. */
  readonly bootstrap?: readonly PeerAddress[];
  /** Known nodes (a saved node list) tried before the bootstrap list: a warm start. */
  readonly nodes?: readonly PeerAddress[];
  /** Queries in flight per lookup (α). Default 4. */
  readonly alpha?: number;
  /** Give up on a query after this many ms. Default 2 000. */
  readonly queryTimeoutMs?: number;
  /** A query unanswered this long stops holding its α slot (aggressive lookups). Default 500. */
  readonly slowQueryMs?: number;
  /** Read-only (BEP 43): queries carry `ro`, incoming queries are not answered. Default `false`. */
  readonly readOnly?: boolean;
  /**
   * Incoming queries per requester: `perSecond`, `burst`, and the key: `ip` (default) or
   * `ip-port` where many nodes share one address (loopback networks).
   */
  readonly rateLimit?: {
    readonly perSecond?: number;
    readonly burst?: number;
    readonly key?: "ip" | "ip-port";
  };
  /** Bounds of the announced-peer store. */
  readonly peerStore?: PeerStoreOptions;
  /** Our queries awaiting answers at most; more fail at once with `overloaded`. Default 512. */
  readonly maxPendingQueries?: number;
  /** Housekeeping period in ms (bucket refresh, questionable pings, peer expiry). Default 60 000. */
  readonly maintenanceIntervalMs?: number;
}

/**
 * The outcome of a lookup: the closest nodes found (with the tokens they gave), the peers,
 * and what it cost.
 *
 * @example
 * ```ts
 * import type { LookupResult } from "@bittern/bittern";
 *
 * declare const result: LookupResult;
 * console.log(result.peers.length, result.messages, result.durationMs);
 * ```
 */
export interface LookupResult {
  /** Up to K nodes closest to the target that answered, closest first. */
  readonly closest: readonly (NodeContact & { readonly token?: Uint8Array })[];
  /** Peers found (`get_peers`), de-duplicated. */
  readonly peers: readonly PeerAddress[];
  /** Queries sent. */
  readonly messages: number;
  /** Time from start to convergence. */
  readonly durationMs: number;
}

/**
 * Counters of a {@linkcode DhtNode}, for tests and monitoring.
 *
 * @example
 * ```ts
 * import type { DhtStats } from "@bittern/bittern";
 *
 * declare const stats: DhtStats;
 * console.log(stats.queriesSent, stats.dropped);
 * ```
 */
export interface DhtStats {
  /** Queries we sent. */
  queriesSent: number;
  /** Queries we answered. */
  queriesAnswered: number;
  /** Datagrams dropped: malformed, rate-limited, unexpected answers, wrong sender. */
  dropped: number;
  /** Our queries that timed out. */
  timeouts: number;
}

interface Pending {
  readonly host: string;
  readonly port: number;
  readonly resolve: (response: KrpcResponse) => void;
  readonly reject: (error: DhtError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Candidate {
  host: string;
  port: number;
  id: Uint8Array | undefined;
  state: "new" | "pending" | "slow" | "done" | "failed";
  token?: Uint8Array;
}

/** Candidates kept per lookup: far ones beyond this are forgotten (hostile answers cannot grow it). */
const MAX_CANDIDATES = 128;

/**
 * A BEP 5 DHT node.
 *
 * @example Two nodes on loopback
 * ```ts
 * import { DhtNode } from "@bittern/bittern";
 *
 * const a = new DhtNode({ host: "127.0.0.1", bootstrap: [] });
 * await a.listen();
 * const b = new DhtNode({ host: "127.0.0.1", bootstrap: [a.address!] });
 * await b.listen();
 * await b.bootstrap();
 * console.log(b.table.size); // 1
 * await Promise.all([a.close(), b.close()]);
 * ```
 */
export class DhtNode {
  /** Our node id. */
  readonly id: Uint8Array;
  /** The routing table. */
  readonly table: RoutingTable;
  /** Counters. */
  readonly stats: DhtStats = { queriesSent: 0, queriesAnswered: 0, dropped: 0, timeouts: 0 };
  readonly #options: DhtNodeOptions;
  readonly #alpha: number;
  readonly #timeoutMs: number;
  readonly #slowMs: number;
  readonly #maxPending: number;
  readonly #readOnly: boolean;
  readonly #loopbackOnly: boolean;
  readonly #tokens = new TokenManager();
  readonly #store: PeerStore;
  readonly #limiter: QueryRateLimiter;
  readonly #limitByPort: boolean;
  readonly #pending = new Map<string, Pending>();
  /** Nodes pinged because their bucket is full: not again for a while. */
  readonly #recentlyPinged = new Map<string, number>();
  #socket: UdpSocket | undefined;
  #address: PeerAddress | undefined;
  #listening: Promise<void> | undefined;
  #bootstrapping: Promise<void> | undefined;
  #seedsResolved: Promise<void> | undefined;
  /** The resolved saved nodes and bootstrap list, for lookups while the table is small. */
  #seedList: PeerAddress[] = [];
  #nextTransaction = Math.floor(Math.random() * 65536);
  #maintenance: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /**
   * Creates a node; {@linkcode DhtNode.listen} binds its socket.
   *
   * @param options Address, bootstrap list, lookup tuning, limits.
   */
  constructor(options: DhtNodeOptions = {}) {
    this.#options = options;
    this.id = options.id?.length === ID_LENGTH ? options.id.slice() : randomNodeId();
    this.table = new RoutingTable(this.id);
    this.#alpha = Math.max(1, options.alpha ?? 4);
    this.#timeoutMs = options.queryTimeoutMs ?? 2000;
    this.#slowMs = options.slowQueryMs ?? 500;
    this.#maxPending = options.maxPendingQueries ?? 512;
    this.#readOnly = options.readOnly ?? false;
    this.#loopbackOnly = (options.host ?? "0.0.0.0").startsWith("127.");
    this.#store = new PeerStore(options.peerStore);
    this.#limiter = new QueryRateLimiter(options.rateLimit);
    this.#limitByPort = options.rateLimit?.key === "ip-port";
  }

  /** Our bound address, once listening. */
  get address(): PeerAddress | undefined {
    return this.#address;
  }

  /** Whether the node is read-only (BEP 43). */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /**
   * Binds the UDP socket (once).
   *
   * @throws {DhtError} `socket` when the address cannot be bound; a `PermissionError` naming
   * `--allow-net` when the permission is missing.
   */
  listen(): Promise<void> {
    this.#listening ??= this.#bind();
    return this.#listening;
  }

  async #bind(): Promise<void> {
    const host = this.#options.host ?? "0.0.0.0";
    const port = this.#options.port ?? 0;
    // Deno's node:dgram reports a missing --allow-net from bind() as an uncaught error, not
    // through the callback or "error": ask first.
    const wanted = port ? `${host}:${port}` : host;
    if (Deno.permissions.querySync({ name: "net", host: wanted }).state !== "granted") {
      throw new PermissionError(`network access to UDP ${wanted}`, `--allow-net=${wanted}`);
    }
    const socket = await createUdpSocket("udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.#options.port ?? 0, host, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      const explained = explainPermission(error, "net", host);
      if (explained !== error) throw explained;
      throw new DhtError("socket", `cannot bind UDP ${host}:${this.#options.port ?? 0}: ${error}`, {
        cause: error,
      });
    }
    if (this.#closed) {
      socket.close();
      throw new DhtError("closed", "the node was closed while binding");
    }
    this.#socket = socket;
    const bound = socket.address();
    this.#address = { host: bound.address, port: bound.port };
    socket.on("message", (message: Uint8Array, remote: UdpRemoteInfo) => {
      try {
        this.#receive(new Uint8Array(message), remote.address, remote.port);
      } catch {
        this.stats.dropped++;
      }
    });
    // ICMP unreachable and the like: nothing to do, queries time out.
    socket.on("error", () => {});
    this.#maintenance = setInterval(
      () => this.#maintain(),
      this.#options.maintenanceIntervalMs ?? 60_000,
    );
  }

  /**
   * Fills the routing table: a lookup of our own id from the saved nodes and the bootstrap
   * list (once; later calls wait for the first).
   */
  bootstrap(): Promise<void> {
    this.#bootstrapping ??= (async () => {
      await this.#ready();
      await this.#lookup(this.id, "find_node", {});
    })();
    return this.#bootstrapping;
  }

  /**
   * Listening, with the seed list resolved. Lookups start the bootstrap lookup but wait only
   * for this: while the table is small they start from the seeds themselves, so a
   * slow or dead node in the bootstrap lookup never delays the first peers.
   */
  #ready(): Promise<void> {
    this.#seedsResolved ??= (async () => {
      await this.listen();
      this.#seedList = await this.#seeds();
    })();
    return this.#seedsResolved;
  }

  /** The saved nodes and the bootstrap list, resolved (names that fail are skipped). */
  async #seeds(): Promise<PeerAddress[]> {
    const given = [
      ...this.#options.nodes ?? [],
      ...this.#options.bootstrap ?? DEFAULT_DHT_BOOTSTRAP,
    ];
    const resolved = await Promise.all(given.map(async (address) => {
      if (parseIpv4(address.host)) return address;
      // A loopback node cannot reach the outside: do not even ask the resolver.
      if (this.#loopbackOnly && address.host !== "localhost") return undefined;
      try {
        const found = await lookupHost(address.host, { family: 4 });
        return { host: found.address, port: address.port };
      } catch {
        return undefined;
      }
    }));
    return resolved.filter((address): address is PeerAddress =>
      address !== undefined && this.#reachable(address.host, address.port)
    );
  }

  #reachable(host: string, port: number): boolean {
    if (!isUsableAddress(host, port)) return false;
    if (this.#loopbackOnly && !host.startsWith("127.")) return false;
    return !(this.#address && host === this.#address.host && port === this.#address.port);
  }

  /**
   * Pings an address and adds the node to the table when it answers (nodes learned from
   * peers' `port` messages).
   *
   * @param address The node's UDP address.
   * @returns The node, or `undefined` when it did not answer.
   */
  async addNode(address: PeerAddress): Promise<NodeContact | undefined> {
    if (!this.#reachable(address.host, address.port)) return undefined;
    try {
      const response = await this.query(address, { method: "ping", id: this.id });
      return { id: response.id, host: address.host, port: address.port };
    } catch {
      return undefined;
    }
  }

  /**
   * Iterative `find_node` for `target`.
   *
   * @param target An id.
   * @param signal Stops the lookup.
   * @returns The closest nodes found.
   */
  async findNode(target: Uint8Array, signal?: AbortSignal): Promise<LookupResult> {
    void this.bootstrap().catch(() => {});
    await this.#ready();
    return await this.#lookup(target, "find_node", { signal });
  }

  /**
   * Iterative `get_peers` for an info hash; with `announce`, then `announce_peer` to the 8
   * closest nodes that gave a token (not in read-only mode).
   *
   * @param infoHash The 20-byte info hash.
   * @param options `onPeers` hears each new batch as it arrives; `announce` gives our port
   * (`impliedPort`: take the UDP source port); `signal` stops the lookup.
   * @returns The closest nodes and every peer found.
   */
  async getPeers(infoHash: Uint8Array, options: {
    onPeers?: (peers: readonly PeerAddress[]) => void;
    announce?: { readonly port: number; readonly impliedPort?: boolean };
    signal?: AbortSignal;
  } = {}): Promise<LookupResult> {
    void this.bootstrap().catch(() => {});
    await this.#ready();
    const result = await this.#lookup(infoHash, "get_peers", options);
    const announce = options.announce;
    if (announce && !this.#readOnly && !options.signal?.aborted) {
      const withToken = result.closest.filter((node) => node.token).slice(0, BUCKET_SIZE);
      await Promise.allSettled(withToken.map((node) =>
        this.query(node, {
          method: "announce_peer",
          id: this.id,
          infoHash,
          port: announce.port,
          token: node.token!,
          impliedPort: announce.impliedPort ?? false,
        })
      ));
    }
    return result;
  }

  /**
   * Sends one query and waits for the answer from that address.
   *
   * @param address Where to.
   * @param query Method and arguments.
   * @returns The answer.
   * @throws {DhtError} `timeout`, `remote-error`, `overloaded`, `closed`.
   */
  query(address: PeerAddress, query: KrpcQuery): Promise<KrpcResponse> {
    if (this.#closed || !this.#socket) {
      return Promise.reject(new DhtError("closed", "the node is not listening"));
    }
    if (!this.#reachable(address.host, address.port)) {
      return Promise.reject(
        new DhtError("malformed", `unusable address ${addressKey(address.host, address.port)}`),
      );
    }
    if (this.#pending.size >= this.#maxPending) {
      return Promise.reject(new DhtError("overloaded", "too many queries in flight"));
    }
    let key: string;
    let t: Uint8Array;
    do {
      const n = this.#nextTransaction = (this.#nextTransaction + 1) & 0xffff;
      t = new Uint8Array([n >> 8, n & 0xff]);
      key = toHex(t);
    } while (this.#pending.has(key));
    const where = addressKey(address.host, address.port);
    return new Promise<KrpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        this.stats.timeouts++;
        reject(new DhtError("timeout", `no answer to ${query.method} from ${where}`));
      }, this.#timeoutMs);
      this.#pending.set(key, { host: address.host, port: address.port, resolve, reject, timer });
      this.stats.queriesSent++;
      this.#send(encodeKrpcQuery(t, query, this.#readOnly), address.host, address.port);
    });
  }

  #send(packet: Uint8Array, host: string, port: number): void {
    try {
      this.#socket?.send(packet, port, host);
    } catch {
      // Closed socket or a bad port slipped through: the query times out.
    }
  }

  #receive(bytes: Uint8Array, host: string, port: number): void {
    if (this.#closed) return;
    let message: KrpcMessage;
    try {
      message = decodeKrpc(bytes);
    } catch (error) {
      this.stats.dropped++;
      const bad = error as DhtError;
      if (
        !this.#readOnly && bad.krpcCode !== undefined && bad.transactionId &&
        this.#limiter.allow(this.#limitKey(host, port))
      ) {
        this.#send(
          encodeKrpcError(bad.transactionId, bad.krpcCode, bad.message.replace(/^dht: /, "")),
          host,
          port,
        );
      }
      return;
    }
    if (message.kind === "query") return this.#answer(message, host, port);
    const key = toHex(message.transactionId);
    const pending = this.#pending.get(key);
    // Unknown transaction, or an answer from another address than we asked: ignore it.
    if (!pending || pending.host !== host || pending.port !== port) {
      this.stats.dropped++;
      return;
    }
    this.#pending.delete(key);
    clearTimeout(pending.timer);
    if (message.kind === "error") {
      pending.reject(
        new DhtError(
          "remote-error",
          `${addressKey(host, port)} answered ${message.code} ${message.message}`,
          {
            krpcCode: message.code,
          },
        ),
      );
      return;
    }
    if (bytesEqual(message.response.id, this.id)) {
      pending.reject(
        new DhtError("malformed", `${addressKey(host, port)} answered with our own id`),
      );
      return;
    }
    this.table.add({ id: message.response.id, host, port }, { responded: true });
    pending.resolve(message.response);
  }

  #limitKey(host: string, port: number): string {
    return this.#limitByPort ? addressKey(host, port) : host;
  }

  #answer(message: KrpcMessage & { kind: "query" }, host: string, port: number): void {
    // BEP 43: a read-only node does not answer.
    if (this.#readOnly) return;
    if (!isUsableAddress(host, port) || !this.#limiter.allow(this.#limitKey(host, port))) {
      this.stats.dropped++;
      return;
    }
    const { query, transactionId: t } = message;
    if (!message.readOnly && !bytesEqual(query.id, this.id)) {
      const added = this.table.add({ id: query.id, host, port }, { responded: false });
      for (const node of added.ping) this.#pingQuestionable(node);
    }
    this.stats.queriesAnswered++;
    switch (query.method) {
      case "ping":
        return this.#send(encodeKrpcResponse(t, { id: this.id }), host, port);
      case "find_node":
        return this.#send(
          encodeKrpcResponse(t, {
            id: this.id,
            nodes: this.table.closest(query.target, BUCKET_SIZE),
          }),
          host,
          port,
        );
      case "get_peers": {
        const values = this.#store.get(toHex(query.infoHash), 50);
        return this.#send(
          encodeKrpcResponse(t, {
            id: this.id,
            token: this.#tokens.issue(host),
            nodes: this.table.closest(query.infoHash, BUCKET_SIZE),
            values: values.length ? values : undefined,
          }),
          host,
          port,
        );
      }
      case "announce_peer": {
        if (!this.#tokens.verify(query.token, host)) {
          return this.#send(encodeKrpcError(t, KrpcErrorCode.protocol, "bad token"), host, port);
        }
        this.#store.add(toHex(query.infoHash), {
          host,
          port: query.impliedPort ? port : query.port,
        });
        return this.#send(encodeKrpcResponse(t, { id: this.id }), host, port);
      }
    }
  }

  /** Pings a questionable node of a full bucket (at most once a minute): a dead one is replaced. */
  #pingQuestionable(node: NodeContact): void {
    const key = addressKey(node.host, node.port);
    const now = Date.now();
    if ((this.#recentlyPinged.get(key) ?? 0) > now - 60_000) return;
    this.#recentlyPinged.set(key, now);
    if (this.#recentlyPinged.size > 1024) {
      this.#recentlyPinged.delete(this.#recentlyPinged.keys().next().value!);
    }
    this.query(node, { method: "ping", id: this.id }).catch(() => this.table.failed(node));
  }

  #maintain(): void {
    if (this.#closed) return;
    this.#store.expire();
    if (!this.table.size) {
      // Lost every node (or never had one): try the bootstrap list again.
      this.#bootstrapping = undefined;
      this.#seedsResolved = undefined;
      void this.bootstrap().catch(() => {});
      return;
    }
    for (const index of this.table.staleBuckets()) {
      this.table.touchBucket(index);
      void this.#lookup(randomIdWithPrefix(this.id, index), "find_node", {}).catch(() => {});
    }
  }

  /** The iterative lookup: query the α closest unqueried nodes until the K closest answered. */
  #lookup(
    target: Uint8Array,
    method: "find_node" | "get_peers",
    options: {
      onPeers?: (peers: readonly PeerAddress[]) => void;
      signal?: AbortSignal;
    },
  ): Promise<LookupResult> {
    const started = performance.now();
    const candidates = new Map<string, Candidate>();
    const peers = new Map<string, PeerAddress>();
    let messages = 0;
    const consider = (host: string, port: number, id: Uint8Array | undefined) => {
      if (!this.#reachable(host, port) || (id && bytesEqual(id, this.id))) return;
      const key = addressKey(host, port);
      if (candidates.has(key)) return;
      candidates.set(key, { host, port, id, state: "new" });
    };
    for (const node of this.table.closest(target, BUCKET_SIZE * 2)) {
      consider(node.host, node.port, node.id);
    }
    if (this.table.size < BUCKET_SIZE) {
      for (const seed of this.#seedList) consider(seed.host, seed.port, undefined);
    }
    return new Promise<LookupResult>((resolve) => {
      let finished = false;
      const ordered = (): Candidate[] => {
        const known = [...candidates.values()].filter((c) => c.id && c.state !== "failed");
        known.sort((a, b) => compareDistance(target, a.id!, b.id!));
        // Forget the farthest unqueried candidates beyond the cap.
        for (const far of known.slice(MAX_CANDIDATES)) {
          if (far.state === "new") candidates.delete(addressKey(far.host, far.port));
        }
        return known;
      };
      const finish = () => {
        if (finished) return;
        finished = true;
        options.signal?.removeEventListener("abort", finish);
        const closest = ordered().filter((c) => c.state === "done").slice(0, BUCKET_SIZE);
        resolve({
          closest: closest.map((c) => ({ id: c.id!, host: c.host, port: c.port, token: c.token })),
          peers: [...peers.values()],
          messages,
          durationMs: performance.now() - started,
        });
      };
      options.signal?.addEventListener("abort", finish, { once: true });
      const ask = (candidate: Candidate) => {
        candidate.state = "pending";
        messages++;
        const slow = setTimeout(() => {
          if (candidate.state === "pending") {
            candidate.state = "slow";
            pump();
          }
        }, this.#slowMs);
        const query: KrpcQuery = method === "get_peers"
          ? { method, id: this.id, infoHash: target }
          : { method, id: this.id, target };
        this.query(candidate, query).then((response) => {
          clearTimeout(slow);
          if (candidate.id && !bytesEqual(candidate.id, response.id)) {
            // Another node answers at that address now: trust the answer's id.
            candidate.id = response.id;
          }
          candidate.id ??= response.id;
          candidate.state = "done";
          candidate.token = response.token;
          if (finished) return;
          for (const node of response.nodes ?? []) consider(node.host, node.port, node.id);
          const fresh: PeerAddress[] = [];
          for (const peer of response.values ?? []) {
            const key = addressKey(peer.host, peer.port);
            if (!isUsableAddress(peer.host, peer.port) || peers.has(key) || peers.size >= 1000) {
              continue;
            }
            peers.set(key, peer);
            fresh.push(peer);
          }
          if (fresh.length) options.onPeers?.(fresh);
          pump();
        }, () => {
          clearTimeout(slow);
          candidate.state = "failed";
          if (candidate.id) this.table.failed(candidate as NodeContact);
          pump();
        });
      };
      const pump = () => {
        if (finished) return;
        if (this.#closed || options.signal?.aborted) return finish();
        let active = 0;
        for (const c of candidates.values()) if (c.state === "pending") active++;
        // Seeds (no id yet: saved nodes, then bootstrap routers) only until K nodes with ids
        // are known: a long saved list must not cost a query per entry before the lookup
        // heads for the target.
        let known = ordered();
        const needSeeds = known.length < BUCKET_SIZE;
        for (const c of candidates.values()) {
          if (!needSeeds || active >= this.#alpha) break;
          if (!c.id && c.state === "new") {
            ask(c);
            active++;
          }
        }
        known = ordered();
        let unsettled = false;
        let counted = 0;
        for (const c of known) {
          if (counted++ >= BUCKET_SIZE) break;
          if (c.state === "new" && active < this.#alpha) {
            ask(c);
            active++;
          }
          if (c.state !== "done") unsettled = true;
        }
        const seedsWaiting = [...candidates.values()].some((c) =>
          !c.id &&
          (c.state === "pending" || (needSeeds && (c.state === "slow" || c.state === "new")))
        );
        if (!unsettled && !seedsWaiting) finish();
      };
      pump();
    });
  }

  /**
   * The nodes worth saving for a warm start: good ones first.
   *
   * @returns Addresses and ids.
   */
  savedNodes(): NodeContact[] {
    const nodes = this.table.nodes();
    nodes.sort((a, b) => b.lastResponse - a.lastResponse);
    return nodes.map((node) => ({ id: node.id, host: node.host, port: node.port }));
  }

  /** Closes the socket; pending queries fail with `closed`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#maintenance);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new DhtError("closed", "the node was closed"));
    }
    this.#pending.clear();
    await this.#listening?.catch(() => {});
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
