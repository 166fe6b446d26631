import type { AgentPeer, BlockRef } from "../agents/agent.ts";
import type { BencodeDict } from "../bencode/mod.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { WebSeed } from "../metainfo/web_seeds.ts";
import { Bitfield } from "../util/bitfield.ts";
import { PermissionError } from "../util/permissions.ts";
import type { Message } from "../wire/messages.ts";
import { WebSeedError } from "./errors.ts";
import { fetchPart } from "./fetch_part.ts";
import { webSeedParts } from "./layout.ts";

/** Tunables and the session's hooks for a {@linkcode WebSeedPeer}. */
export interface WebSeedPeerOptions {
  /** The torrent. */
  readonly torrent: Torrent;
  /** The server. */
  readonly seed: WebSeed;
  /** Request size of the session (blocks are handed over in this size). */
  readonly blockSize: number;
  /** Most blocks requested of this seed at once. Default 512 (8 MiB of 16 KiB blocks). */
  readonly maxOutstanding?: number;
  /** HTTP requests in flight at once. Default 3. */
  readonly maxInFlight?: number;
  /** Largest span one request covers. Default 4 MiB. */
  readonly maxRangeBytes?: number;
  /** A request that delivers no byte for this long fails. Default 30 s. */
  readonly idleTimeoutMs?: number;
  /** First wait after a failure; doubles with each consecutive one. Default 30 s. */
  readonly retryMs?: number;
  /** Consecutive failures after which the seed is given up. Default 5. */
  readonly maxFailures?: number;
  /** Hands a message to the session's agents as if this seed sent it. */
  readonly dispatch: (peer: WebSeedPeer, message: Message) => void;
  /**
   * The one place a web seed's received payload bytes are accounted (download rate and
   * totals; a download rate limiter awaits here).
   */
  readonly received: (bytes: number) => void | Promise<void>;
  /** Resolves once storage has room for more blocks; `undefined` when it has now. */
  readonly drained: () => Promise<void> | undefined;
  /** A failure: `retryInMs` is the back-off, `undefined` when the seed is given up. */
  readonly failed: (peer: WebSeedPeer, error: Error, retryInMs: number | undefined) => void;
  /** The seed stopped for good (given up, banned, session paused or done). */
  readonly closed: (peer: WebSeedPeer, reason: string) => void;
}

/** How long a short span may wait for more adjacent requests before it is fetched anyway. */
const GATHER_MS = 100;
const MAX_BACKOFF_MS = 3_600_000;
/** Seconds `downloadRate` averages over. */
const RATE_SECONDS = 5;

/** A contiguous span of requested blocks, fetched with one or a few HTTP requests. */
interface Run {
  readonly start: number;
  readonly end: number;
  readonly blocks: BlockRef[];
}

/**
 * A web seed (BEP 19 or 17) as the session's agents see it: a peer that has every piece,
 * never chokes us except to back off, and answers requests over HTTP. The download agent
 * requests blocks of it like of any peer; it gathers adjacent requests into spans of up
 * to `maxRangeBytes` (whole pieces, usually), fetches up to `maxInFlight` spans at once
 * (`fetch` keeps connections alive), streams each body into one block buffer and hands
 * every block to the agents as a `piece` message: the same `writeBlock`, verification,
 * strikes and bans as a wire peer's blocks.
 *
 * Any failure (a wrong status, `200` for a partial range, a wrong `Content-Range`, a
 * short or long body, a timeout, a connection error, a piece failing its hash) chokes
 * it: its requests go back to other peers, and it is unchoked after `retryMs` (doubling
 * with each consecutive failure, or what a `503` asked for); after `maxFailures` in a
 * row, or without network permission, it closes.
 *
 * @example
 * ```ts
 * import { WebSeedPeer, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const seed = new WebSeedPeer({
 *   torrent,
 *   seed: { url: "http://127.0.0.1:8080/", kind: "getright" },
 *   blockSize: 16384,
 *   dispatch: (_peer, message) => console.log(message.type),
 *   received: () => {},
 *   drained: () => undefined,
 *   failed: (_peer, error) => console.log(error.message),
 *   closed: () => {},
 * });
 * seed.start();
 * ```
 */
export class WebSeedPeer implements AgentPeer {
  /** The server and its protocol. */
  readonly seed: WebSeed;
  readonly key: string;
  readonly host: string;
  readonly port = 0;
  readonly peerId: Uint8Array = new Uint8Array(20);
  readonly client: string;
  readonly incoming = false;
  readonly listenPort: number | undefined = undefined;
  readonly pieces: Bitfield;
  readonly amChoking = true;
  readonly peerInterested = false;
  readonly uploadRate = 0;
  readonly extendedHandshake: BencodeDict | undefined = undefined;
  readonly snubbed = false;
  /** A web seed speaks HTTP, not BEP 6: no fast extension, nothing granted or suggested. */
  readonly fast = false;
  /** No BEP 52 hash requests either. */
  readonly v2 = false;
  readonly allowedFast: ReadonlySet<number> = new Set();
  readonly grantedFast: ReadonlySet<number> = new Set();
  readonly suggested: readonly number[] = [];
  readonly peerRequests = 0;
  readonly queuedBytes = 0;
  readonly maxOutstanding: number;
  amInterested = false;
  peerChoking = true;
  closed = false;
  /** Consecutive failures. */
  failures = 0;
  readonly #options: WebSeedPeerOptions;
  readonly #torrent: Torrent;
  /** Bytes received in each of the last few seconds (for `downloadRate`). */
  readonly #buckets = new Float64Array(RATE_SECONDS);
  #bucketSecond = 0;
  /** Requested blocks not yet delivered, by their offset in the torrent's data. */
  readonly #outstanding = new Map<number, BlockRef>();
  /** Requested blocks not yet part of a span being fetched: offset to when it was requested. */
  readonly #waiting = new Map<number, number>();
  readonly #controllers = new Set<AbortController>();
  #inFlight = 0;
  /** Bumped on every back-off and close: spans of an older generation deliver nothing. */
  #generation = 0;
  #pumpScheduled = false;
  #gatherTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * A web seed, not started.
   *
   * @param options The torrent, the server, tunables and the session's hooks.
   */
  constructor(options: WebSeedPeerOptions) {
    this.#options = options;
    this.#torrent = options.torrent;
    this.seed = options.seed;
    this.key = options.seed.url;
    this.host = options.seed.url;
    this.client = options.seed.kind === "hoffman" ? "web seed (BEP 17)" : "web seed (BEP 19)";
    this.pieces = new Bitfield(options.torrent.pieceCount);
    for (let i = 0; i < options.torrent.pieceCount; i++) this.pieces.set(i);
    this.maxOutstanding = options.maxOutstanding ?? 512;
  }

  /** Tells the agents it has every piece and may be asked. */
  start(): void {
    this.#options.dispatch(this, { type: "bitfield", bitfield: this.pieces.toBytes() });
    this.#unchoke();
  }

  get downloadRate(): number {
    this.#advance(Math.floor(Date.now() / 1000));
    let sum = 0;
    for (const bytes of this.#buckets) sum += bytes;
    return sum / RATE_SECONDS;
  }

  get outstanding(): number {
    return this.#outstanding.size;
  }

  supports(): boolean {
    return false;
  }
  choke(): void {}
  unchoke(): void {}
  setInterested(interested: boolean): void {
    this.amInterested = interested;
  }
  nextPeerRequest(): BlockRef | undefined {
    return undefined;
  }

  /** A web seed never requests from us, so there is nothing to reject. */
  reject(_block: BlockRef): void {}

  /** A web seed never requests from us: nothing to allow. */
  allowFast(_index: number): void {}
  send(): void {}
  flushed(): Promise<void> {
    return Promise.resolve();
  }
  sendExtended(): boolean {
    return false;
  }
  countUpload(): void {}

  request(block: BlockRef): boolean {
    if (this.closed || this.peerChoking || this.#outstanding.size >= this.maxOutstanding) {
      return false;
    }
    const offset = this.#offset(block.index, block.begin);
    if (this.#outstanding.has(offset)) return false;
    this.#outstanding.set(offset, block);
    this.#waiting.set(offset, Date.now());
    if (!this.#pumpScheduled) {
      // Requests come in bursts (one fill of the pipeline): gather them first.
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.#pump();
      });
    }
    return true;
  }

  requested(index: number, begin: number): boolean {
    return this.#outstanding.has(this.#offset(index, begin));
  }

  outstandingRequests(): Iterable<BlockRef> {
    return this.#outstanding.values();
  }

  cancel(block: BlockRef): void {
    const offset = this.#offset(block.index, block.begin);
    this.#outstanding.delete(offset);
    this.#waiting.delete(offset);
  }

  /** A piece it sent failed its hash check: it backs off like on any failure. */
  sentCorruptPiece(index: number): void {
    this.#fail(
      new WebSeedError("corrupt", this.key, `piece ${index} failed its hash check`),
    );
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.#stopFetching();
    clearTimeout(this.#retryTimer);
    // The agents release its requests (they read outstandingRequests) before they are dropped.
    this.#options.closed(this, reason);
    this.#outstanding.clear();
  }

  /** Clears the buckets of the seconds that passed since the last byte. */
  #advance(second: number): void {
    const from = Math.max(this.#bucketSecond + 1, second - RATE_SECONDS + 1);
    for (let s = from; s <= second; s++) this.#buckets[s % RATE_SECONDS] = 0;
    this.#bucketSecond = Math.max(this.#bucketSecond, second);
  }

  #offset(index: number, begin: number): number {
    return index * this.#torrent.pieceLength + begin;
  }

  #pump(): void {
    const maxInFlight = this.#options.maxInFlight ?? 3;
    while (!this.closed && !this.peerChoking && this.#inFlight < maxInFlight) {
      const runs = this.#runs();
      if (runs.length === 0) return;
      // The oldest request (Map order) waits at most GATHER_MS; otherwise the longest span goes.
      const [oldest, since] = this.#waiting.entries().next().value!;
      const waited = Date.now() - since;
      const run = waited >= GATHER_MS
        ? runs.find((candidate) => candidate.start <= oldest && oldest < candidate.end)!
        : runs.reduce((best, next) => next.end - next.start > best.end - best.start ? next : best);
      const minRun = Math.min(this.#torrent.pieceLength, this.#maxRange());
      if (run.end - run.start < minRun && this.#inFlight > 0 && waited < GATHER_MS) {
        // A short span while others are in flight: more adjacent requests may follow.
        clearTimeout(this.#gatherTimer);
        this.#gatherTimer = setTimeout(() => this.#pump(), GATHER_MS - waited);
        return;
      }
      for (const block of run.blocks) this.#waiting.delete(this.#offset(block.index, block.begin));
      this.#inFlight++;
      const generation = this.#generation;
      void this.#fetchRun(run, generation).then(
        () => {
          if (generation === this.#generation) this.failures = 0;
        },
        (error: Error) => {
          if (generation === this.#generation) this.#fail(error);
        },
      ).finally(() => {
        if (generation === this.#generation) this.#inFlight--;
        this.#pump();
      });
    }
  }

  #maxRange(): number {
    return this.#options.maxRangeBytes ?? 4 * 1024 * 1024;
  }

  /** The waiting requests as contiguous spans of at most `maxRangeBytes`. */
  #runs(): Run[] {
    for (const offset of this.#waiting.keys()) {
      if (!this.#outstanding.has(offset)) this.#waiting.delete(offset);
    }
    const offsets = [...this.#waiting.keys()];
    offsets.sort((a, b) => a - b);
    const runs: Run[] = [];
    let current: { start: number; end: number; blocks: BlockRef[] } | undefined;
    for (const offset of offsets) {
      const block = this.#outstanding.get(offset)!;
      if (
        current && current.end === offset &&
        offset + block.length - current.start <= this.#maxRange()
      ) {
        current.end = offset + block.length;
        current.blocks.push(block);
      } else {
        current = { start: offset, end: offset + block.length, blocks: [block] };
        runs.push(current);
      }
    }
    return runs;
  }

  async #fetchRun(run: Run, generation: number): Promise<void> {
    const controller = new AbortController();
    this.#controllers.add(controller);
    const blockBuffer = new Uint8Array(this.#options.blockSize);
    let blockIndex = 0;
    let filled = 0;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let currentUrl = this.key;
    const idleMs = this.#options.idleTimeoutMs ?? 30_000;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () =>
          controller.abort(
            new WebSeedError("timeout", currentUrl, `no data for ${idleMs / 1000} s`),
          ),
        idleMs,
      );
    };
    const take = async (chunk: Uint8Array, counted: boolean) => {
      if (counted) {
        armIdle();
        const second = Math.floor(Date.now() / 1000);
        this.#advance(second);
        this.#buckets[second % RATE_SECONDS] += chunk.length;
        await this.#options.received(chunk.length);
      }
      let position = 0;
      while (position < chunk.length && blockIndex < run.blocks.length) {
        const block = run.blocks[blockIndex];
        const length = Math.min(block.length - filled, chunk.length - position);
        blockBuffer.set(chunk.subarray(position, position + length), filled);
        filled += length;
        position += length;
        if (filled === block.length) {
          await this.#deliver(block, blockBuffer.subarray(0, block.length), generation);
          if (generation !== this.#generation) {
            throw new WebSeedError("connection", currentUrl, "stopped");
          }
          blockIndex++;
          filled = 0;
        }
      }
    };
    try {
      for (const part of webSeedParts(this.seed, this.#torrent, run.start, run.end)) {
        if (part.kind === "zeros") {
          const zeros = new Uint8Array(Math.min(part.length, this.#options.blockSize));
          for (let left = part.length; left > 0; left -= zeros.length) {
            await take(left >= zeros.length ? zeros : zeros.subarray(0, left), false);
          }
          continue;
        }
        currentUrl = part.url;
        armIdle();
        await fetchPart(part, controller.signal, (chunk) => take(chunk, true));
      }
    } finally {
      clearTimeout(idleTimer);
      this.#controllers.delete(controller);
    }
  }

  async #deliver(block: BlockRef, bytes: Uint8Array, generation: number): Promise<void> {
    const drained = this.#options.drained();
    if (drained) await drained;
    if (generation !== this.#generation || this.closed) return;
    const offset = this.#offset(block.index, block.begin);
    // Cancelled meanwhile (another peer delivered it first in endgame): dropped.
    if (!this.#outstanding.delete(offset)) return;
    this.#options.dispatch(this, {
      type: "piece",
      index: block.index,
      begin: block.begin,
      block: bytes,
    });
  }

  #fail(error: Error): void {
    if (this.closed) return;
    this.failures++;
    const giveUp = error instanceof PermissionError ||
      this.failures >= (this.#options.maxFailures ?? 5);
    const retryMs = this.#options.retryMs ?? 30_000;
    const wait = giveUp ? undefined : Math.min(
      MAX_BACKOFF_MS,
      error instanceof WebSeedError && error.retryAfterMs !== undefined
        ? error.retryAfterMs
        : retryMs * 2 ** (this.failures - 1),
    );
    this.#options.failed(this, error, wait);
    if (wait === undefined) {
      this.close(`gave up: ${error.message}`);
      return;
    }
    this.#backOff();
    this.#retryTimer = setTimeout(() => this.#unchoke(), wait);
  }

  /** Chokes us: in-flight spans are abandoned and the agents give its requests to others. */
  #backOff(): void {
    this.#stopFetching();
    this.peerChoking = true;
    this.#options.dispatch(this, { type: "choke" });
    this.#outstanding.clear();
  }

  #stopFetching(): void {
    this.#generation++;
    this.#inFlight = 0;
    this.#waiting.clear();
    clearTimeout(this.#gatherTimer);
    for (const controller of this.#controllers) {
      controller.abort(new WebSeedError("connection", this.key, "stopped"));
    }
    this.#controllers.clear();
  }

  #unchoke(): void {
    if (this.closed) return;
    this.peerChoking = false;
    this.#options.dispatch(this, { type: "unchoke" });
  }
}
