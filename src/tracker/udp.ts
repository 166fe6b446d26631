/**
 * UDP trackers (BEP 15): connect, announce, scrape and error over `node:dgram`, with BEP 41 URL
 * data. One socket per call, bound to the loopback or wildcard address of the tracker's family
 * and closed when the call settles.
 *
 * Retransmission: a request is sent, then re-sent after 15·2^n seconds without an answer
 * (n = 0, 1, …, BEP 15), at most `maxAttempts` sends per request (default 4), and the whole
 * call (lookup, connect, announce or scrape) ends at the `timeout` deadline (default 60 s):
 * with the defaults, sends at 0 s, 15 s and 45 s, and a `timeout` error at 60 s.
 */
import { toHex } from "../util/bytes.ts";
import { lookupHost } from "../util/dns.ts";
import { ipVersion } from "../util/ip.ts";
import { createUdpSocket, type UdpRemoteInfo, type UdpSocket } from "../util/udp.ts";
import { explainPermission } from "../util/permissions.ts";
import { checkAnnounceParams } from "./announce.ts";
import { decodeCompactPeers } from "./compact.ts";
import { TrackerError } from "./errors.ts";
import type {
  AnnounceParams,
  AnnounceResponse,
  ScrapeCounts,
  TrackerRequestOptions,
} from "./types.ts";

/**
 * Limits of one UDP tracker call. `timeout` is the deadline of the whole call (default
 * 60 000 ms); `maxResponseBytes` and `maxRedirects` do not apply to UDP.
 *
 * @example
 * ```ts
 * import type { UdpTrackerOptions } from "@bittern/bittern";
 *
 * // Quick give-up for an interactive tool: sends at 0 s, 2 s and 6 s, error at 10 s.
 * const options: UdpTrackerOptions = { timeout: 10_000, retryBaseMs: 2_000, maxAttempts: 3 };
 * ```
 */
export interface UdpTrackerOptions extends TrackerRequestOptions {
  /** Wait before the first re-send in ms; doubles per re-send (default 15 000, BEP 15). */
  readonly retryBaseMs?: number;
  /** Sends of one request (connect, announce or scrape) at most (default 4). */
  readonly maxAttempts?: number;
  /** Peers accepted in one announce answer at most (default 2 000); more is a bad response. */
  readonly maxPeers?: number;
}

/** BEP 15 protocol id sent in `connect`. */
const PROTOCOL_ID = 0x41727101980n;
const ACTION_CONNECT = 0;
const ACTION_ANNOUNCE = 1;
const ACTION_SCRAPE = 2;
const ACTION_ERROR = 3;
const ACTION_NAMES = ["connect", "announce", "scrape", "error"];
/** A client may use a connection id for one minute after receiving it (BEP 15). */
const CONNECTION_ID_LIFETIME_MS = 60_000;
/** Info hashes per scrape request: 74 keeps the request and answer small (BEP 15 limit). */
const SCRAPE_BATCH = 74;
const DEFAULT_UDP_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_BASE_MS = 15_000;
const DEFAULT_MAX_ATTEMPTS = 4;
const DEFAULT_MAX_PEERS = 2_000;
const MAX_CACHED_CONNECTIONS = 256;
const EVENTS = { completed: 1, started: 2, stopped: 3 } as const;

/** Connection ids by resolved `address|port`, with when they were received. */
const connections = new Map<string, { id: Uint8Array; at: number }>();

/** Thrown inside a call when its connection id is too old for another send. */
class ConnectionExpired extends Error {}

interface Target {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The path and query, sent as BEP 41 URL data. */
  readonly urlData: string;
}

function parseUdpUrl(url: string): { host: string; port: number; urlData: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackerError("unsupported", url, "not a valid URL");
  }
  if (parsed.protocol !== "udp:") {
    throw new TrackerError("unsupported", url, `unsupported scheme ${parsed.protocol}`);
  }
  const port = Number(parsed.port);
  if (!parsed.port || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TrackerError("unsupported", url, "a UDP tracker URL needs a port from 1 to 65535");
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new TrackerError("unsupported", url, "no host");
  const urlData = parsed.pathname + parsed.search;
  return { host, port, urlData: urlData === "/" ? "" : urlData };
}

function bounded<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function resolveTarget(url: string, signal: AbortSignal): Promise<Target> {
  const { host, port, urlData } = parseUdpUrl(url);
  const literal = ipVersion(host);
  if (literal === 4 || literal === 6) return { address: host, port, family: literal, urlData };
  let found: { address: string; family: number };
  try {
    found = await bounded(lookupHost(host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const explained = explainPermission(error, "net", host);
    if (explained !== error) throw explained;
    const detail = error instanceof Error ? error.message : String(error);
    throw new TrackerError("unreachable", url, `cannot resolve ${host}: ${detail}`, {
      cause: error,
    });
  }
  return { address: found.address, port, family: found.family === 6 ? 6 : 4, urlData };
}

/** The local address to bind: loopback for a loopback tracker, so `--allow-net=127.0.0.1` works. */
function localAddress(target: Target): string {
  if (target.family === 6) return target.address === "::1" ? "::1" : "::";
  return target.address.startsWith("127.") ? "127.0.0.1" : "0.0.0.0";
}

/** 32 bits of the announce `key`: the hex value when it is hex, else a hash of the text. */
function keyBits(key: string | undefined): number {
  if (key === undefined) return 0;
  if (/^[0-9a-f]{1,8}$/i.test(key)) return parseInt(key, 16) >>> 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function randomTransactionId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** One call's socket, datagram inbox, deadline and transaction bookkeeping. */
class Exchange {
  readonly #url: string;
  readonly #target: Target;
  readonly #socket: UdpSocket;
  readonly #signal: AbortSignal;
  readonly #deadline: number;
  readonly #timeout: number;
  readonly #retryBaseMs: number;
  readonly #maxAttempts: number;
  readonly #inbox: Uint8Array[] = [];
  /** Transaction ids of this call's earlier requests: late answers to them are dropped. */
  readonly #spent = new Set<number>();
  #wake: (() => void) | undefined;
  #socketError: unknown;

  private constructor(url: string, target: Target, socket: UdpSocket, options: {
    signal: AbortSignal;
    deadline: number;
    timeout: number;
    retryBaseMs: number;
    maxAttempts: number;
  }) {
    this.#url = url;
    this.#target = target;
    this.#socket = socket;
    this.#signal = options.signal;
    this.#deadline = options.deadline;
    this.#timeout = options.timeout;
    this.#retryBaseMs = options.retryBaseMs;
    this.#maxAttempts = options.maxAttempts;
    socket.on("message", (message: Uint8Array, remote: UdpRemoteInfo) => {
      // Stray datagrams from anyone but the tracker are ignored.
      if (remote.address !== target.address || remote.port !== target.port) return;
      if (this.#inbox.length < 64) this.#inbox.push(new Uint8Array(message));
      this.#notify();
    });
    socket.on("error", (error: unknown) => {
      this.#socketError ??= error;
      this.#notify();
    });
  }

  /** Opens and binds a socket for `target`. */
  static async open(url: string, target: Target, options: {
    signal: AbortSignal;
    deadline: number;
    timeout: number;
    retryBaseMs: number;
    maxAttempts: number;
  }): Promise<Exchange> {
    const socket = await createUdpSocket(target.family === 6 ? "udp6" : "udp4");
    const local = localAddress(target);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, local, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      const explained = explainPermission(error, "net", local);
      if (explained !== error) throw explained;
      const detail = error instanceof Error ? error.message : String(error);
      throw new TrackerError(
        "unreachable",
        url,
        `cannot bind a UDP socket on ${local}: ${detail}`,
        {
          cause: error,
        },
      );
    }
    return new Exchange(url, target, socket, options);
  }

  get #where(): string {
    const { address, port, family } = this.#target;
    return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  }

  get url(): string {
    return this.#url;
  }

  get family(): 4 | 6 {
    return this.#target.family;
  }

  get key(): string {
    return `${this.#target.address}|${this.#target.port}`;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next datagram from the tracker, or `undefined` when `until` passes first. */
  async #next(until: number): Promise<Uint8Array | undefined> {
    while (true) {
      this.#signal.throwIfAborted();
      if (this.#socketError !== undefined) {
        const error = this.#socketError;
        const explained = explainPermission(error, "net", this.#where);
        if (explained !== error) throw explained;
        const detail = error instanceof Error ? error.message : String(error);
        throw new TrackerError("unreachable", this.#url, `UDP socket error: ${detail}`, {
          cause: error,
        });
      }
      const message = this.#inbox.shift();
      if (message) return message;
      const wait = until - Date.now();
      if (wait <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => this.#notify();
      this.#signal.addEventListener("abort", onAbort, { once: true });
      try {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          timer = setTimeout(() => this.#notify(), wait);
        });
      } finally {
        clearTimeout(timer);
        this.#signal.removeEventListener("abort", onAbort);
      }
    }
  }

  #send(packet: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        const explained = explainPermission(error, "net", this.#where);
        if (explained !== error) return reject(explained);
        const detail = error instanceof Error ? error.message : String(error);
        reject(
          new TrackerError("unreachable", this.#url, `cannot send to ${this.#where}: ${detail}`, {
            cause: error,
          }),
        );
      };
      try {
        this.#socket.send(packet, this.#target.port, this.#target.address, (error) => {
          if (error) fail(error);
          else resolve();
        });
      } catch (error) {
        fail(error);
      }
    });
  }

  bad(what: string, detail: string): TrackerError {
    return new TrackerError(
      "bad-response",
      this.#url,
      `bad ${what} from ${this.#where}: ${detail}`,
    );
  }

  /**
   * Sends `packet` (whose transaction id is `transactionId`) with retransmissions and returns
   * the answer with `action`, at least `minLength` bytes long. An error answer (action 3) is a
   * `failure`; a late answer to an earlier request of this call is dropped; anything else
   * unexpected is a `bad-response`.
   */
  async request(
    what: string,
    packet: Uint8Array,
    transactionId: number,
    action: number,
    minLength: number,
    validUntil = Infinity,
  ): Promise<Uint8Array> {
    try {
      for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
        if (Date.now() >= this.#deadline) break;
        if (attempt > 0 && Date.now() >= validUntil) throw new ConnectionExpired();
        await this.#send(packet);
        const until = Math.min(this.#deadline, Date.now() + this.#retryBaseMs * 2 ** attempt);
        for (let answer = await this.#next(until); answer; answer = await this.#next(until)) {
          const parsed = this.#check(what, answer, transactionId, action, minLength);
          if (parsed) return parsed;
        }
      }
      const tries = this.#maxAttempts;
      throw new TrackerError(
        "timeout",
        this.#url,
        Date.now() >= this.#deadline
          ? `no ${what} from ${this.#where} within ${this.#timeout} ms`
          : `no ${what} from ${this.#where} after ${tries} ${tries === 1 ? "try" : "tries"}`,
      );
    } finally {
      this.#spent.add(transactionId);
    }
  }

  #check(
    what: string,
    answer: Uint8Array,
    transactionId: number,
    action: number,
    minLength: number,
  ): Uint8Array | undefined {
    if (answer.length < 8) {
      throw this.bad(what, `${answer.length}-byte datagram is shorter than the 8-byte header`);
    }
    const view = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
    const gotAction = view.getUint32(0);
    const gotTransaction = view.getUint32(4);
    if (gotTransaction !== transactionId) {
      if (this.#spent.has(gotTransaction)) return undefined; // a retransmission's late answer
      throw this.bad(
        what,
        `transaction id ${gotTransaction.toString(16)} at byte 4 is not ${
          transactionId.toString(16)
        }`,
      );
    }
    if (gotAction === ACTION_ERROR) {
      const reason = new TextDecoder().decode(answer.subarray(8, 8 + 1024));
      throw new TrackerError("failure", this.#url, reason || "error without a message", {
        reason,
      });
    }
    if (gotAction !== action) {
      const name = ACTION_NAMES[gotAction] ?? `unknown action ${gotAction}`;
      throw this.bad(what, `action ${gotAction} (${name}) at byte 0 where ${action} was expected`);
    }
    if (answer.length < minLength) {
      throw this.bad(what, `${answer.length}-byte answer is shorter than ${minLength} bytes`);
    }
    return answer;
  }

  close(): Promise<void> {
    this.#socket.removeAllListeners("message");
    return new Promise<void>((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Gets a connection id (cached for up to a minute) and runs `use` with it, reconnecting once
 * when the cached id is refused or expires mid-call. */
async function withConnection<T>(
  exchange: Exchange,
  use: (connectionId: Uint8Array, validUntil: number) => Promise<T>,
): Promise<T> {
  for (let round = 0;; round++) {
    const cached = connections.get(exchange.key);
    const fresh = !cached || Date.now() - cached.at >= CONNECTION_ID_LIFETIME_MS || round > 0;
    const connection = fresh ? await connect(exchange) : cached;
    try {
      return await use(connection.id, connection.at + CONNECTION_ID_LIFETIME_MS);
    } catch (error) {
      const retry = round === 0 &&
        (error instanceof ConnectionExpired ||
          (!fresh && error instanceof TrackerError && error.kind === "failure"));
      if (error instanceof ConnectionExpired || retry) connections.delete(exchange.key);
      if (!retry) {
        if (error instanceof ConnectionExpired) {
          throw new TrackerError("timeout", exchange.url, "connection id expired twice");
        }
        throw error;
      }
    }
  }
}

async function connect(exchange: Exchange): Promise<{ id: Uint8Array; at: number }> {
  const transactionId = randomTransactionId();
  const packet = new Uint8Array(16);
  const view = new DataView(packet.buffer);
  view.setBigUint64(0, PROTOCOL_ID);
  view.setUint32(8, ACTION_CONNECT);
  view.setUint32(12, transactionId);
  const answer = await exchange.request(
    "connect response",
    packet,
    transactionId,
    ACTION_CONNECT,
    16,
  );
  const connection = { id: answer.slice(8, 16), at: Date.now() };
  connections.delete(exchange.key);
  if (connections.size >= MAX_CACHED_CONNECTIONS) {
    connections.delete(connections.keys().next().value!);
  }
  connections.set(exchange.key, connection);
  return connection;
}

/** Runs `body` over a fresh exchange under the call's deadline and signal; always closes it. */
async function call<T>(
  url: string,
  options: UdpTrackerOptions,
  body: (exchange: Exchange) => Promise<T>,
): Promise<T> {
  options.signal?.throwIfAborted();
  const timeout = options.timeout ?? DEFAULT_UDP_TIMEOUT_MS;
  const deadline = Date.now() + timeout;
  const timer = new AbortController();
  const handle = setTimeout(
    () => timer.abort(new TrackerError("timeout", url, `no answer within ${timeout} ms`)),
    timeout,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  try {
    const target = await resolveTarget(url, signal);
    const exchange = await Exchange.open(url, target, {
      signal,
      deadline,
      timeout,
      retryBaseMs: Math.max(1, options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS),
      maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)),
    });
    try {
      return await body(exchange);
    } finally {
      await exchange.close();
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    clearTimeout(handle);
  }
}

function encodeUrlData(urlData: string): Uint8Array {
  const bytes = new TextEncoder().encode(urlData);
  const parts: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255) {
    const chunk = bytes.subarray(offset, offset + 255);
    parts.push(2, chunk.length, ...chunk);
  }
  return new Uint8Array(parts);
}

/**
 * Announces to one UDP tracker (BEP 15) and returns its answer. Peers are IPv4 (6 bytes each)
 * or IPv6 (18 bytes each) by the address family the tracker was reached over. The URL's path
 * and query go along as BEP 41 URL data.
 *
 * @param url The tracker's URL, e.g. `udp://tracker.example:6969/announce`.
 * @param params What to announce (`compact` and `trackerId` do not apply to UDP).
 * @param options Signal, overall deadline, retransmission and peer-count limits.
 * @returns The tracker's answer: `interval`, `complete` (seeders), `incomplete` (leechers),
 * peers.
 * @throws {TrackerError} `failure` (the tracker's error message), `bad-response`, `timeout`,
 * `unreachable` or `unsupported`.
 *
 * @example
 * ```ts
 * import { generatePeerId, udpAnnounce } from "@bittern/bittern";
 *
 * const response = await udpAnnounce("udp://127.0.0.1:6969/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 1024,
 *   event: "started",
 * }, { timeout: 10_000, retryBaseMs: 2_000 });
 * for (const peer of response.peers) console.log(peer.host, peer.port);
 * ```
 */
export async function udpAnnounce(
  url: string,
  params: AnnounceParams,
  options: UdpTrackerOptions = {},
): Promise<AnnounceResponse> {
  checkAnnounceParams(params, url);
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  return await call(
    url,
    options,
    (exchange) =>
      withConnection(exchange, async (connectionId, validUntil) => {
        const transactionId = randomTransactionId();
        const { urlData } = parseUdpUrl(url);
        const urlOption = encodeUrlData(urlData);
        const packet = new Uint8Array(98 + urlOption.length);
        const view = new DataView(packet.buffer);
        packet.set(connectionId, 0);
        view.setUint32(8, ACTION_ANNOUNCE);
        view.setUint32(12, transactionId);
        packet.set(params.infoHash, 16);
        packet.set(params.peerId, 36);
        view.setBigUint64(56, BigInt(params.downloaded));
        view.setBigUint64(64, BigInt(params.left));
        view.setBigUint64(72, BigInt(params.uploaded));
        view.setUint32(80, params.event ? EVENTS[params.event] : 0);
        view.setUint32(84, 0); // IP: the sender's
        view.setUint32(88, keyBits(params.key));
        view.setInt32(
          92,
          params.numwant === undefined
            ? -1
            : Math.min(Math.max(0, Math.floor(params.numwant)), 0x7fffffff),
        );
        view.setUint16(96, params.port);
        packet.set(urlOption, 98);
        const what = "announce response";
        const answer = await exchange.request(
          what,
          packet,
          transactionId,
          ACTION_ANNOUNCE,
          20,
          validUntil,
        );
        const answerView = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
        const size = exchange.family === 6 ? 18 : 6;
        const list = answer.subarray(20);
        if (list.length % size !== 0) {
          throw exchange.bad(
            what,
            `peer list of ${list.length} bytes at byte 20 ends in a truncated ${size}-byte entry`,
          );
        }
        if (list.length / size > maxPeers) {
          throw exchange.bad(
            what,
            `${list.length / size} peers at byte 20, more than the ${maxPeers} accepted`,
          );
        }
        return {
          interval: answerView.getUint32(8),
          incomplete: answerView.getUint32(12),
          complete: answerView.getUint32(16),
          peers: decodeCompactPeers(list, exchange.family) ?? [],
        };
      }),
  );
}

/**
 * Scrapes a UDP tracker (BEP 15) for the given info hashes, 74 per request. A UDP tracker
 * answers every hash, with zeros for torrents it does not know.
 *
 * @param url The tracker's URL, e.g. `udp://tracker.example:6969/announce`.
 * @param infoHashes 20-byte info hashes.
 * @param options Signal, overall deadline and retransmission limits.
 * @returns Counts keyed by lowercase hex info hash.
 * @throws {TrackerError} as {@linkcode udpAnnounce}.
 *
 * @example
 * ```ts
 * import { udpScrape } from "@bittern/bittern";
 *
 * const counts = await udpScrape("udp://127.0.0.1:6969", [new Uint8Array(20)], {
 *   timeout: 10_000,
 * });
 * console.log(counts.get("00".repeat(20))?.complete);
 * ```
 */
export async function udpScrape(
  url: string,
  infoHashes: readonly Uint8Array[],
  options: UdpTrackerOptions = {},
): Promise<Map<string, ScrapeCounts>> {
  for (const hash of infoHashes) {
    if (hash.length !== 20) {
      throw new TrackerError("unsupported", url, `info hash ${toHex(hash)} is not 20 bytes`);
    }
  }
  const counts = new Map<string, ScrapeCounts>();
  if (infoHashes.length === 0) return counts;
  return await call(url, options, async (exchange) => {
    for (let start = 0; start < infoHashes.length; start += SCRAPE_BATCH) {
      const batch = infoHashes.slice(start, start + SCRAPE_BATCH);
      await withConnection(exchange, async (connectionId, validUntil) => {
        const transactionId = randomTransactionId();
        const packet = new Uint8Array(16 + 20 * batch.length);
        const view = new DataView(packet.buffer);
        packet.set(connectionId, 0);
        view.setUint32(8, ACTION_SCRAPE);
        view.setUint32(12, transactionId);
        batch.forEach((hash, index) => packet.set(hash, 16 + 20 * index));
        const answer = await exchange.request(
          "scrape response",
          packet,
          transactionId,
          ACTION_SCRAPE,
          8 + 12 * batch.length,
          validUntil,
        );
        const answerView = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
        batch.forEach((hash, index) => {
          const at = 8 + 12 * index;
          counts.set(toHex(hash), {
            complete: answerView.getUint32(at),
            downloaded: answerView.getUint32(at + 4),
            incomplete: answerView.getUint32(at + 8),
          });
        });
      });
    }
    return counts;
  });
}
