import type { BencodeDict } from "../bencode/mod.ts";
import type { AgentPeer, BlockRef } from "../agents/agent.ts";
import { addressKey } from "../util/address.ts";
import { Bitfield } from "../util/bitfield.ts";
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
  /** Bytes queued and not yet written to the socket. */
  readonly queuedBytes: number;
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
  /** Whether we have verified piece `index` (requests for others are void). */
  has(index: number): boolean;
  /** Counts payload received (requested blocks only), for the session's totals. */
  countDownload(bytes: number, now: number): void;
  /** Counts payload sent, for the session's totals. */
  countUpload(bytes: number, now: number): void;
}

/** A block's number for look-ups: piece and offset in one safe integer. */
function blockKey(index: number, begin: number): number {
  return index * 0x1_0000_0000 + begin;
}

/** Cancelled requests remembered so that their late blocks are not held against the peer. */
const MAX_WITHDRAWN = 512;

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
  readonly #outstanding = new Map<number, number>();
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
        // BEP 3 puts the bitfield first; some clients (aria2) send one later: it replaces ours.
        this.#pieces = pieces;
        return message;
      }
      case "request": {
        // A choked peer's requests are void (BEP 3); so are requests for pieces we lack.
        if (this.#amChoking || message.index >= this.#policy.pieceCount) return undefined;
        if (!this.#policy.has(message.index)) return undefined;
        const queued = this.#peerRequests.push(message.index, message.begin, message.length);
        return queued ? message : undefined;
      }
      case "cancel":
        this.#peerRequests.remove(message.index, message.begin);
        return message;
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
   * Finishes applying `message` after agents saw it: a `choke` voids our
   * outstanding requests (BEP 3), which agents could still read in their handler.
   */
  settle(message: Message): void {
    if (message.type !== "choke") return;
    // Their blocks may still be on the way: not held against the peer.
    for (const key of this.#outstanding.keys()) this.#withdraw(key);
    this.#outstanding.clear();
  }

  /** @inheritdoc */
  choke(): void {
    if (this.#amChoking) return;
    this.#amChoking = true;
    this.#peerRequests.clear();
    this.#wakeRoomWaiters();
    this.#queue({ type: "choke" });
  }

  /** @inheritdoc */
  unchoke(): void {
    if (!this.#amChoking) return;
    this.#amChoking = false;
    this.#queue({ type: "unchoke" });
  }

  /** @inheritdoc */
  setInterested(interested: boolean): void {
    if (this.#amInterested === interested) return;
    this.#amInterested = interested;
    this.#queue({ type: interested ? "interested" : "not-interested" });
  }

  /** @inheritdoc */
  request(block: BlockRef): boolean {
    if (this.#peerChoking || this.#closed || !this.#pieces.get(block.index)) return false;
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
    for (const [key, length] of this.#outstanding) {
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
