import type { BencodeDict } from "../bencode/mod.ts";
import type { AgentPeer, BlockRef } from "../agents/agent.ts";
import { addressKey } from "../util/address.ts";
import { Bitfield } from "../util/bitfield.ts";
import { NumberMap } from "../util/number_map.ts";
import type { Message } from "../wire/messages.ts";
import { RateMeter } from "./rate.ts";
import { RequestQueue } from "./request_queue.ts";

/** The connection under a {@linkcode Peer}: messages in, messages out. */
export interface PeerLink {
  /** The remote peer id from the handshake. */
  readonly peerId: Uint8Array;
  /** The remote extended handshake, once received (stays valid). */
  readonly extendedHandshake: BencodeDict | undefined;
  /** The remote's `reqq`, when it said. */
  readonly remoteRequestQueue: number | undefined;
  /** The remote's listen port `p`, when it said. */
  readonly remoteListenPort: number | undefined;
  /** Whether both handshakes set the fast extension bit (BEP 6). */
  readonly fast: boolean;
  /** Whether the connection speaks v2 (BEP 52: see `AgentPeer.v2`); absent: no. */
  readonly v2?: boolean;
  /** The 20-byte info hash the connection was made under; absent: the torrent's. */
  readonly infoHash?: Uint8Array;
  /** Bytes queued and not yet written to the socket. */
  readonly queuedBytes: number;
  /** Read and write buffers and queued bytes (`PeerWire.bufferedBytes`). */
  readonly bufferedBytes: number;
  /** Whether the remote announced extension `name`. */
  supports(name: string): boolean;
  /** Queues a message without waiting; `false` when the connection is closed. */
  queue(message: Message): boolean;
  /** Resolves when at most `lowWaterMark` bytes wait to be written; rejects once closed. */
  flush(lowWaterMark?: number): Promise<void>;
  /** Queues an extended message by name; false when the remote lacks it. */
  sendExtended(name: string, payload: Uint8Array): boolean;
  /** Closes the socket. */
  close(): void;
}

/** What a {@linkcode Peer} needs to know of its session. */
export interface PeerPolicy {
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** Most requests we keep in flight to one peer. */
  readonly maxQueueDepth: number;
  /** Most of the peer's requests we queue; more are dropped. */
  readonly maxUploadQueue: number;
  /** Outstanding requests with no block for this long make the peer snubbed. */
  readonly requestTimeoutMs: number;
  /** Unrequested blocks tolerated before the peer is closed. */
  readonly maxUnrequestedBlocks: number;
  /**
   * Why the peer's request (or cancel) for `block` can never be served: out of
   * range, empty, over the block limit; `undefined` when well formed.
   */
  requestProblem(block: BlockRef): string | undefined;
  /** Whether we have verified piece `index` (requests for others are void). */
  has(index: number): boolean;
  /** Counts payload received (requested blocks only), for the session's totals. */
  countDownload(bytes: number, now: number): void;
  /** Counts payload sent, for the session's totals. */
  countUpload(bytes: number, now: number): void;
}

/**
 * Requests a choked fast peer may send beyond its queue before it is dropped:
 * those in flight when it got our choke are rejected, not held against it.
 */
const CHOKED_REQUEST_SLACK = 50;

/**
 * Malformed requests (out of range, empty, over the block limit) a fast peer may send: each is
 * rejected, as libtorrent does, since one is a plausible mistake; past this many it is abuse.
 * (libtorrent's own bound, for choked peers, is 300.)
 */
export const MAX_INVALID_REQUESTS = 300;

/** A block's number for look-ups: piece and offset in one safe integer. */
function blockKey(index: number, begin: number): number {
  return index * 0x1_0000_0000 + begin;
}

/** Cancelled requests remembered so that their late blocks are not held against the peer. */
const MAX_WITHDRAWN = 512;
/** Most allowed-fast pieces kept per peer, each way (libtorrent offers 5 by default, BEP 6 suggests 10). */
export const MAX_ALLOWED_FAST = 64;
/** Most suggested pieces kept per peer: the latest ones. */
export const MAX_SUGGESTED = 32;

/**
 * One connected peer: it owns the protocol state of the connection (choke and
 * interest both ways, the peer's pieces, our requests to it and its requests
 * to us, its extended handshake) and applies every standard message to it
 * before agents see the message. Agents change our side through its methods.
 */
export class Peer implements AgentPeer {
  /** @inheritdoc */
  readonly key: string;
  /** @inheritdoc */
  readonly host: string;
  /** @inheritdoc */
  readonly port: number;
  /** @inheritdoc */
  readonly client: string;
  /** @inheritdoc */
  readonly incoming: boolean;
  /** Rate of requested blocks received. */
  readonly download: RateMeter = new RateMeter();
  /** Rate of blocks sent. */
  readonly upload: RateMeter = new RateMeter();
  /** Called once when the connection closes (by anyone), with the reason. */
  onClose: (reason: string) => void = () => {};
  readonly #link: PeerLink;
  readonly #policy: PeerPolicy;
  #pieces: Bitfield;
  #amChoking = true;
  #amInterested = false;
  #peerChoking = true;
  #peerInterested = false;
  /** Our requests: block key -> length, in the order sent. */
  readonly #outstanding = new NumberMap();
  /** Requests withdrawn (cancelled, or voided by a choke) whose blocks may still arrive. */
  readonly #withdrawn = new Set<number>();
  /** The peer's requests to us, in order: block key -> the request. */
  readonly #peerRequests: RequestQueue;
  /** When a requested block last arrived, or requests last started after a quiet spell. */
  #progressAt = Date.now();
  #unrequested = 0;
  #closed = false;
  /** Resolvers of {@linkcode Peer.requestRoom} waits. */
  #roomWaiters: (() => void)[] = [];
  /** Whether the fast extension (BEP 6) is on for this connection. */
  readonly #fast: boolean;
  /** Pieces the peer lets us request while it chokes us. */
  readonly #allowedFast = new Set<number>();
  /** Pieces we let the peer request while we choke it. */
  readonly #grantedFast = new Set<number>();
  /** Pieces the peer suggested, oldest first. */
  #suggested: number[] = [];
  /** Rejects for requests we never made (or already had answered). */
  #unrequestedRejects = 0;
  /** Requests rejected because we choke the peer, since we last unchoked it. */
  #chokedRejects = 0;
  /** Malformed requests rejected (fast extension only: otherwise the wire drops the peer). */
  #invalidRequests = 0;

  /**
   * @param link The connection.
   * @param host Remote address.
   * @param port Remote port.
   * @param incoming Whether the remote dialled us.
   * @param client Client name decoded from the peer id.
   * @param policy Limits and what we have.
   */
  constructor(
    link: PeerLink,
    host: string,
    port: number,
    incoming: boolean,
    client: string,
    policy: PeerPolicy,
  ) {
    this.#link = link;
    this.#policy = policy;
    this.#peerRequests = new RequestQueue(policy.maxUploadQueue);
    this.host = host;
    this.port = port;
    this.key = addressKey(host, port);
    this.#pieces = new Bitfield(policy.pieceCount);
    this.incoming = incoming;
    this.client = client;
    this.#fast = link.fast;
  }

  /** @inheritdoc */
  get fast(): boolean {
    return this.#fast;
  }

  /** @inheritdoc */
  get v2(): boolean {
    return this.#link.v2 ?? false;
  }

  /** @inheritdoc */
  get infoHash(): Uint8Array | undefined {
    return this.#link.infoHash;
  }

  /** @inheritdoc */
  get allowedFast(): ReadonlySet<number> {
    return this.#allowedFast;
  }

  /** @inheritdoc */
  get grantedFast(): ReadonlySet<number> {
    return this.#grantedFast;
  }

  /** @inheritdoc */
  get suggested(): readonly number[] {
    return this.#suggested;
  }

  /** @inheritdoc */
  get peerId(): Uint8Array {
    return this.#link.peerId;
  }

  /** @inheritdoc */
  get extendedHandshake(): BencodeDict | undefined {
    return this.#link.extendedHandshake;
  }

  /** @inheritdoc */
  get listenPort(): number | undefined {
    return this.incoming ? this.#link.remoteListenPort : this.port;
  }

  /** @inheritdoc */
  get pieces(): Bitfield {
    return this.#pieces;
  }

  /** @inheritdoc */
  get amChoking(): boolean {
    return this.#amChoking;
  }

  /** @inheritdoc */
  get amInterested(): boolean {
    return this.#amInterested;
  }

  /** @inheritdoc */
  get peerChoking(): boolean {
    return this.#peerChoking;
  }

  /** @inheritdoc */
  get peerInterested(): boolean {
    return this.#peerInterested;
  }

  /** @inheritdoc */
  get downloadRate(): number {
    return this.download.rate();
  }

  /** @inheritdoc */
  get uploadRate(): number {
    return this.upload.rate();
  }

  /** @inheritdoc */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** @inheritdoc */
  get maxOutstanding(): number {
    const reqq = this.#link.remoteRequestQueue;
    const max = this.#policy.maxQueueDepth;
    return reqq !== undefined && reqq > 0 ? Math.min(reqq, max) : Math.min(250, max);
  }

  /** @inheritdoc */
  get snubbed(): boolean {
    return this.#outstanding.size > 0 &&
      Date.now() - this.#progressAt > this.#policy.requestTimeoutMs;
  }

  /** @inheritdoc */
  get peerRequests(): number {
    return this.#peerRequests.size;
  }

  /** Whether the peer's request queue is full (reading its messages should wait). */
  get requestQueueFull(): boolean {
    return this.#peerRequests.full;
  }

  /** Resolves when the peer's request queue has room again (or the connection closes). */
  requestRoom(): Promise<void> {
    if (!this.requestQueueFull || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** @inheritdoc */
  get queuedBytes(): number {
    return this.#link.queuedBytes;
  }

  /** Read and write buffers and queued bytes of the connection (`PeerWire.bufferedBytes`). */
  get bufferedBytes(): number {
    return this.#link.bufferedBytes;
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @inheritdoc */
  supports(name: string): boolean {
    return this.#link.supports(name);
  }

  /**
   * Applies a received standard message to the protocol state. Returns the
   * message to hand to agents, or `undefined` when it is not theirs (a block
   * nobody asked for, a `have` the peer already announced, a void request).
   * Throws a {@linkcode PeerViolation} for what closes the connection.
   */
  receive(message: Message): Message | undefined {
    switch (message.type) {
      case "choke":
        // Our requests are void once agents have seen the choke (see `settle`).
        this.#peerChoking = true;
        return message;
      case "unchoke":
        this.#peerChoking = false;
        this.#progressAt = Date.now();
        return message;
      case "interested":
        this.#peerInterested = true;
        return message;
      case "not-interested":
        this.#peerInterested = false;
        return message;
      case "have":
        if (message.index >= this.#policy.pieceCount) {
          throw new PeerViolation(
            "out-of-range",
            `have for piece ${message.index} of a torrent with ${this.#policy.pieceCount} pieces`,
          );
        }
        if (this.#pieces.get(message.index)) return undefined;
        this.#pieces.set(message.index);
        return message;
      case "bitfield": {
        let pieces: Bitfield;
        try {
          pieces = Bitfield.fromBytes(message.bitfield, this.#policy.pieceCount);
        } catch (error) {
          throw new PeerViolation("bad-bitfield", `bad bitfield: ${(error as Error).message}`);
        }
        this.#checkAnnouncement("bitfield", pieces);
        // BEP 3 puts the bitfield first; some clients (aria2) send one later: it replaces ours.
        this.#pieces = pieces;
        return message;
      }
      case "have-all":
      case "have-none": {
        const pieces = new Bitfield(this.#policy.pieceCount);
        if (message.type === "have-all") {
          for (let index = 0; index < pieces.size; index++) pieces.set(index);
        }
        this.#checkAnnouncement(message.type, pieces);
        this.#pieces = pieces;
        return message;
      }
      case "request": {
        const { index } = message;
        // Fast: the wire passes malformed requests on, to be rejected (bounded) like others.
        if (this.#fast && this.#rejectsMalformed(message)) return undefined;
        // A choked peer's requests are void (BEP 3) but for allowed-fast pieces (BEP 6); so are
        // requests for pieces we lack and, past a full queue, any. With the fast extension each
        // is answered with a reject.
        if (this.#amChoking && !this.#grantedFast.has(index)) {
          if (
            this.#fast && ++this.#chokedRejects > this.#policy.maxUploadQueue + CHOKED_REQUEST_SLACK
          ) {
            throw new PeerViolation(
              "requests-while-choked",
              `sent ${this.#chokedRejects} requests while choked`,
            );
          }
          this.#reject(message);
          return undefined;
        }
        if (
          index >= this.#policy.pieceCount || !this.#policy.has(index) || this.#peerRequests.full
        ) {
          this.#reject(message);
          return undefined;
        }
        const queued = this.#peerRequests.push(index, message.begin, message.length);
        return queued ? message : undefined;
      }
      case "cancel":
        // Fast: a malformed one (unchecked by the wire) matches nothing queued.
        if (this.#fast && this.#policy.requestProblem(message) !== undefined) return undefined;
        // BEP 6: a cancelled request is answered too, by a reject when it was still queued.
        if (this.#peerRequests.remove(message.index, message.begin)) this.#reject(message);
        return message;
      case "reject-request": {
        const key = blockKey(message.index, message.begin);
        if (this.#outstanding.get(key) === message.length) {
          // Free to be asked of someone else; agents see which.
          this.#outstanding.delete(key);
          return message;
        }
        // The answer to a cancel of ours.
        if (this.#withdrawn.delete(key)) return undefined;
        if (++this.#unrequestedRejects > this.#policy.maxUnrequestedBlocks) {
          throw new PeerViolation(
            "unrequested-rejects",
            `sent ${this.#unrequestedRejects} rejects for requests we did not make`,
          );
        }
        return undefined;
      }
      case "allowed-fast": {
        const { index } = message;
        // Out of range (or past the bound): ignored, as libtorrent does.
        if (index >= this.#policy.pieceCount || this.#allowedFast.has(index)) return undefined;
        if (this.#allowedFast.size >= MAX_ALLOWED_FAST) return undefined;
        this.#allowedFast.add(index);
        return message;
      }
      case "suggest-piece": {
        const { index } = message;
        if (index >= this.#policy.pieceCount) return undefined;
        const suggested = this.#suggested.filter((other) => other !== index);
        if (suggested.length >= MAX_SUGGESTED) suggested.shift();
        suggested.push(index);
        this.#suggested = suggested;
        return message;
      }
      case "piece": {
        const key = blockKey(message.index, message.begin);
        const length = this.#outstanding.get(key);
        if (length === undefined || length !== message.block.length) {
          if (this.#withdrawn.delete(key)) return undefined;
          this.#unrequested++;
          if (this.#unrequested > this.#policy.maxUnrequestedBlocks) {
            throw new PeerViolation(
              "unrequested-blocks",
              `sent ${this.#unrequested} blocks that were not requested`,
            );
          }
          return undefined;
        }
        this.#outstanding.delete(key);
        const now = Date.now();
        this.#progressAt = now;
        this.download.add(length, now);
        this.#policy.countDownload(length, now);
        return message;
      }
      default:
        return message;
    }
  }

  /**
   * Finishes applying `message` after agents saw it: without the fast
   * extension a `choke` voids our outstanding requests (BEP 3), which agents
   * could still read in their handler; with it they stay until rejected or
   * served (BEP 6).
   */
  settle(message: Message): void {
    if (message.type !== "choke" || this.#fast) return;
    // Their blocks may still be on the way: not held against the peer.
    for (const key of this.#outstanding.keys()) this.#withdraw(key);
    this.#outstanding.clear();
  }

  /** @inheritdoc */
  choke(): void {
    if (this.#amChoking) return;
    this.#amChoking = true;
    // BEP 6: choke first, then reject what will not be served (allowed-fast pieces still are).
    this.#queue({ type: "choke" });
    if (this.#fast) {
      const kept: BlockRef[] = [];
      for (
        let request = this.#peerRequests.shift();
        request;
        request = this.#peerRequests.shift()
      ) {
        if (this.#grantedFast.has(request.index)) kept.push(request);
        else this.#reject(request);
      }
      for (const request of kept) {
        this.#peerRequests.push(request.index, request.begin, request.length);
      }
    } else {
      this.#peerRequests.clear();
    }
    this.#wakeRoomWaiters();
  }

  /** @inheritdoc */
  unchoke(): void {
    if (!this.#amChoking) return;
    this.#amChoking = false;
    this.#chokedRejects = 0;
    this.#queue({ type: "unchoke" });
  }

  /** @inheritdoc */
  allowFast(index: number): void {
    if (!this.#fast || index >= this.#policy.pieceCount || this.#grantedFast.has(index)) return;
    if (this.#grantedFast.size >= MAX_ALLOWED_FAST) return;
    this.#grantedFast.add(index);
    this.#queue({ type: "allowed-fast", index });
  }

  /** @inheritdoc */
  reject(block: BlockRef): void {
    this.#reject(block);
  }

  /** @inheritdoc */
  setInterested(interested: boolean): void {
    if (this.#amInterested === interested) return;
    this.#amInterested = interested;
    this.#queue({ type: interested ? "interested" : "not-interested" });
  }

  /** @inheritdoc */
  request(block: BlockRef): boolean {
    if (this.#closed || !this.#pieces.get(block.index)) return false;
    if (this.#peerChoking && !(this.#fast && this.#allowedFast.has(block.index))) return false;
    const key = blockKey(block.index, block.begin);
    if (this.#outstanding.has(key)) return false;
    // A quiet peer gets a fresh snub clock when asked again.
    if (this.#outstanding.size === 0) this.#progressAt = Date.now();
    this.#outstanding.set(key, block.length);
    this.#withdrawn.delete(key);
    this.#queue({ type: "request", index: block.index, begin: block.begin, length: block.length });
    return true;
  }

  /** @inheritdoc */
  requested(index: number, begin: number): boolean {
    return this.#outstanding.has(blockKey(index, begin));
  }

  /** @inheritdoc */
  *outstandingRequests(): Iterable<BlockRef> {
    for (const key of this.#outstanding.keys()) {
      const length = this.#outstanding.get(key);
      if (length === undefined) continue;
      const index = Math.floor(key / 0x1_0000_0000);
      yield { index, begin: key - index * 0x1_0000_0000, length };
    }
  }

  /** @inheritdoc */
  cancel(block: BlockRef): void {
    const key = blockKey(block.index, block.begin);
    if (!this.#outstanding.delete(key)) return;
    this.#withdraw(key);
    this.#queue({ type: "cancel", index: block.index, begin: block.begin, length: block.length });
  }

  /** @inheritdoc */
  nextPeerRequest(): BlockRef | undefined {
    const request = this.#peerRequests.shift();
    if (request) this.#wakeRoomWaiters();
    return request;
  }

  /** @inheritdoc */
  send(message: Message): void {
    switch (message.type) {
      case "choke":
        return this.choke();
      case "unchoke":
        return this.unchoke();
      case "interested":
      case "not-interested":
        return this.setInterested(message.type === "interested");
      case "request":
        return void this.request(message);
      case "cancel":
        return this.cancel(message);
      case "allowed-fast":
        return this.allowFast(message.index);
      case "reject-request":
        return this.reject(message);
      case "have-all":
      case "have-none":
      case "suggest-piece":
        // Only where negotiated: the peer would drop us otherwise.
        if (this.#fast) this.#queue(message);
        return;
      default:
        this.#queue(message);
    }
  }

  /** @inheritdoc */
  flushed(lowWaterMark = 0): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the connection is closed"));
    return this.#link.flush(lowWaterMark);
  }

  /** @inheritdoc */
  sendExtended(name: string, payload: Uint8Array): boolean {
    if (this.#closed) return false;
    return this.#link.sendExtended(name, payload);
  }

  /** @inheritdoc */
  countUpload(bytes: number): void {
    const now = Date.now();
    this.upload.add(bytes, now);
    this.#policy.countUpload(bytes, now);
  }

  /** @inheritdoc */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.#wakeRoomWaiters();
    this.onClose(reason);
  }

  #wakeRoomWaiters(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  #queue(message: Message): void {
    if (this.#closed) return;
    if (!this.#link.queue(message)) this.close("write failed");
  }

  /** Answers one of the peer's requests with a reject (fast extension only; else it is dropped). */
  #reject(block: BlockRef): void {
    if (!this.#fast) return;
    this.#queue({
      type: "reject-request",
      index: block.index,
      begin: block.begin,
      length: block.length,
    });
  }

  /**
   * Rejects `request` when it is malformed and says so; throws once the peer sent more than
   * {@linkcode MAX_INVALID_REQUESTS} of them.
   */
  #rejectsMalformed(request: BlockRef): boolean {
    const problem = this.#policy.requestProblem(request);
    if (problem === undefined) return false;
    if (++this.#invalidRequests > MAX_INVALID_REQUESTS) {
      throw new PeerViolation(
        "invalid-requests",
        `sent ${this.#invalidRequests} invalid requests, the last for ${problem}`,
      );
    }
    this.#reject(request);
    return true;
  }

  /**
   * Fast: BEP 6 wants one bitfield, `have-all` or `have-none`, first. aria2 sends `have-none`
   * and later a bitfield, so a later one is taken when it only adds pieces; one that takes back
   * a piece the peer announced (`have-all` then a bitfield with gaps) is a lie.
   */
  #checkAnnouncement(what: string, pieces: Bitfield): void {
    if (!this.#fast) return;
    for (const index of this.#pieces.indices()) {
      if (!pieces.get(index)) {
        throw new PeerViolation(
          "retracted-pieces",
          `sent ${what} without piece ${index}, which it announced before`,
        );
      }
    }
  }

  #withdraw(key: number): void {
    if (this.#withdrawn.size >= MAX_WITHDRAWN) {
      this.#withdrawn.delete(this.#withdrawn.values().next().value!);
    }
    this.#withdrawn.add(key);
  }
}

/**
 * A peer broke the protocol in a way that closes its connection; the reason
 * in `peer-disconnected` events is its message.
 *
 * @example
 * ```ts
 * import { PeerViolation } from "@bittern/bittern";
 *
 * const error = new PeerViolation("unrequested-blocks", "sent 17 blocks that were not requested");
 * console.log(error.code);
 * ```
 */
export class PeerViolation extends Error {
  /** What it did, e.g. `bad-bitfield`, `unrequested-blocks`. */
  readonly code: string;

  /**
   * Creates the error.
   *
   * @param code What the peer did.
   * @param message Said in events.
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = "PeerViolation";
    this.code = code;
  }
}
