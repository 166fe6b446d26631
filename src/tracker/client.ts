/**
 * The announce schedule of one torrent: `started`, regular re-announces, `completed`,
 * `stopped`, exponential back-off on failure, over BEP 12 tiers.
 */
import { bytesEqual } from "../util/bytes.ts";
import { TrackerError } from "./errors.ts";
import { randomShuffle, type Shuffle, TrackerTiers } from "./tiers.ts";
import {
  defaultTrackerTransports,
  type TrackerTransport,
  trackerTransportFor,
  type TrackerTransports,
} from "./transport.ts";
import type { AnnounceEventName, AnnounceResponse, PeerAddress } from "./types.ts";

/**
 * Transfer totals reported to trackers, in bytes.
 *
 * @example
 * ```ts
 * import type { TrackerStats } from "@bittern/bittern";
 *
 * const stats: TrackerStats = { uploaded: 0, downloaded: 0, left: 1024 };
 * ```
 */
export interface TrackerStats {
  /** Bytes uploaded since the session started. */
  readonly uploaded: number;
  /** Bytes downloaded since the session started. */
  readonly downloaded: number;
  /** Bytes still needed. */
  readonly left: number;
}

/**
 * Settings of a {@linkcode TrackerClient}.
 *
 * @example
 * ```ts
 * import { generatePeerId, type TrackerClientOptions } from "@bittern/bittern";
 *
 * const options: TrackerClientOptions = {
 *   announce: [["http://127.0.0.1:6969/announce"]],
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   stats: () => ({ uploaded: 0, downloaded: 0, left: 1024 }),
 * };
 * ```
 */
export interface TrackerClientOptions {
  /**
   * Announce URL tiers (e.g. `Torrent.announce`); http, https and udp trackers may mix in a
   * tier. URLs whose scheme no transport handles are skipped with a warning.
   */
  readonly announce: readonly (readonly string[])[];
  /**
   * Transports by URL scheme (default {@linkcode defaultTrackerTransports}: `http:`, `https:`,
   * `udp:`).
   */
  readonly transports?: TrackerTransports;
  /** The torrent's 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /** This client's 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** The port this client accepts peer connections on. */
  readonly port: number;
  /** Called before each announce for the current totals. */
  readonly stats: () => TrackerStats;
  /** Peers to ask for per announce (default 50). */
  readonly numwant?: number;
  /** The `key` parameter (default: 8 random hex digits per client). */
  readonly key?: string;
  /** Aborting it stops the client (including the `stopped` announce). */
  readonly signal?: AbortSignal;
  /** Shuffles each tier once (random by default); inject for deterministic tests. */
  readonly shuffle?: Shuffle;
  /**
   * Deadline of one announce request in ms (default: the transport's, 15 000 for HTTP and
   * 60 000 for UDP, whose retransmissions need the time).
   */
  readonly timeout?: number;
  /** Deadline of the `stopped` announce in ms, so shutdown never hangs (default 3 000). */
  readonly stopTimeout?: number;
  /** Largest tracker response accepted, in bytes (default 2 MiB). */
  readonly maxResponseBytes?: number;
  /** Redirects followed per request (default 5). */
  readonly maxRedirects?: number;
  /** Shortest time between regular announces in ms, whatever the tracker says (default 30 000). */
  readonly minIntervalMs?: number;
  /** Longest time between regular announces in ms (default 3 600 000). */
  readonly maxIntervalMs?: number;
  /** First retry delay after a failed announce in ms; doubles per failure (default 15 000). */
  readonly retryBaseMs?: number;
  /** Longest retry delay in ms (default 1 800 000). */
  readonly retryMaxMs?: number;
}

/**
 * The events of a {@linkcode TrackerClient}, by type.
 *
 * @example
 * ```ts
 * import type { TrackerClientEventMap } from "@bittern/bittern";
 *
 * const onPeers = (event: TrackerClientEventMap["peers"]) => console.log(event.detail.peers);
 * ```
 */
export interface TrackerClientEventMap {
  /** A tracker answered an announce. */
  announce: CustomEvent<{ url: string; event?: AnnounceEventName; response: AnnounceResponse }>;
  /** Peers from a tracker (this client's own entry removed when recognisable). */
  peers: CustomEvent<{ url: string; peers: PeerAddress[] }>;
  /** A tracker's `warning message`, or a tracker URL that cannot be used. */
  warning: CustomEvent<{ url: string; message: string }>;
  /**
   * A tracker failed (`url` is that tracker), or every tracker failed (`url` is `all tiers`,
   * `retryInMs` says when the next attempt is).
   */
  error: CustomEvent<{ url: string; error: unknown; retryInMs?: number }>;
}

/** The smallest BEP 31 `retry in` over the failures of a round, when every one carried it. */
function retryInFloorMs(error: unknown): number {
  const failures = error instanceof TrackerError && error.cause instanceof AggregateError
    ? error.cause.errors
    : [];
  let floor = Infinity;
  for (const failure of failures) {
    if (!(failure instanceof TrackerError) || failure.retryInSeconds === undefined) return 0;
    floor = Math.min(floor, failure.retryInSeconds * 1000);
  }
  return failures.length > 0 ? floor : 0;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Announces one torrent to its trackers on schedule. `start()` announces `started`, then
 * re-announces every `interval` (bounded by `minIntervalMs`/`maxIntervalMs`); `completed()`
 * announces `completed` at once; `stop()` clears every timer, cancels what is in flight and
 * sends `stopped` to the tracker that last answered, within `stopTimeout`. A `completed` not yet
 * acknowledged when `stop()` is called is never lost: the round carrying it may finish (within
 * `stopTimeout`), or it is sent before `stopped`, so trackers always hear started → completed →
 * stopped. A failed round is
 * retried with exponential back-off (never sooner than a BEP 31 `retry in`). Tracker trouble is
 * reported as events, never thrown.
 *
 * @example
 * ```ts
 * import { generatePeerId, TrackerClient } from "@bittern/bittern";
 *
 * const client = new TrackerClient({
 *   announce: [["http://127.0.0.1:6969/announce"]],
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   stats: () => ({ uploaded: 0, downloaded: 0, left: 1024 }),
 * });
 * client.addEventListener("peers", (event) => console.log(event.detail.peers));
 * await client.start();
 * await client.stop();
 * ```
 */
export class TrackerClient extends EventTarget {
  readonly #options: TrackerClientOptions;
  readonly #transports: TrackerTransports;
  readonly #tiers: TrackerTiers;
  readonly #skipped: string[];
  readonly #key: string;
  readonly #trackerIds = new Map<string, Uint8Array>();
  readonly #abort = new AbortController();
  #state: "idle" | "running" | "stopped" = "idle";
  #pendingEvent: AnnounceEventName | undefined = "started";
  /** `completed()` was called and no tracker has acknowledged `completed` yet. */
  #completedOwed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #lastUrl: string | undefined;
  #lastAnnounceAt = 0;
  #trackerMinIntervalMs = 0;
  #nextAnnounceAt = 0;
  readonly #onExternalAbort = () => void this.stop();

  /**
   * Creates an idle client; nothing is sent before {@linkcode TrackerClient.start}.
   *
   * @param options Torrent identity, trackers, stats callback, limits and timing.
   */
  constructor(options: TrackerClientOptions) {
    super();
    this.#options = options;
    this.#transports = options.transports ?? defaultTrackerTransports;
    const usable: string[][] = [];
    this.#skipped = [];
    for (const tier of options.announce) {
      usable.push(tier.filter((url) => {
        const ok = trackerTransportFor(url, this.#transports) !== undefined;
        if (!ok) this.#skipped.push(url);
        return ok;
      }));
    }
    this.#tiers = new TrackerTiers(usable, options.shuffle ?? randomShuffle);
    this.#key = options.key ?? randomKey();
  }

  /** The trackers in their current BEP 12 order. */
  get tiers(): string[][] {
    return this.#tiers.tiers;
  }

  /** The tracker that answered last, if any did. */
  get lastTracker(): string | undefined {
    return this.#lastUrl;
  }

  /**
   * Adds a typed listener (see {@linkcode TrackerClientEventMap}).
   *
   * @param type Event type.
   * @param listener Called with the event.
   * @param options Standard listener options.
   */
  override addEventListener<K extends keyof TrackerClientEventMap>(
    type: K,
    listener: (event: TrackerClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds an untyped listener, as on any `EventTarget`.
   *
   * @param type Event type.
   * @param listener Called with the event.
   * @param options Standard listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null | ((event: CustomEvent) => void),
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Announces `started` and keeps the schedule going. Resolves after the first round (whether
   * or not a tracker answered).
   *
   * @returns Nothing.
   */
  start(): Promise<void> {
    if (this.#state !== "idle") return Promise.resolve();
    if (this.#options.signal?.aborted) {
      this.#state = "stopped";
      return Promise.resolve();
    }
    this.#state = "running";
    this.#options.signal?.addEventListener("abort", this.#onExternalAbort, { once: true });
    for (const url of this.#skipped) {
      this.#emit("warning", { url, message: "no transport for this tracker's scheme; skipped" });
    }
    if (this.#tiers.size === 0) return Promise.resolve();
    return this.#trigger();
  }

  /**
   * Announces `completed` now (call once, when the download finishes).
   *
   * @returns Resolves after that round.
   */
  completed(): Promise<void> {
    if (this.#state !== "running" || this.#tiers.size === 0) return Promise.resolve();
    this.#pendingEvent = "completed";
    this.#completedOwed = true;
    return this.#trigger();
  }

  /**
   * Asks for more peers: announces now, or as soon as the tracker's `min interval` allows.
   *
   * @returns Nothing.
   */
  announceNow(): void {
    if (this.#state !== "running" || this.#tiers.size === 0 || this.#inFlight) return;
    const wait = this.#lastAnnounceAt + this.#trackerMinIntervalMs - Date.now();
    if (wait <= 0) {
      void this.#trigger();
    } else if (this.#nextAnnounceAt > Date.now() + wait) {
      this.#schedule(wait);
    }
  }

  /**
   * Stops: clears timers, cancels the request in flight, then announces `stopped` to the
   * tracker that last answered (bounded by `stopTimeout`; failures become `error` events).
   * When `completed()` was called and not yet acknowledged, the round in flight may finish
   * first (within `stopTimeout`), or `completed` is sent just before `stopped`. Each final
   * announce that succeeds is an `announce` event.
   *
   * @returns Resolves when everything is closed.
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    const wasRunning = this.#state === "running";
    this.#state = "stopped";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#options.signal?.removeEventListener("abort", this.#onExternalAbort);
    const stopTimeout = this.#options.stopTimeout ?? 3_000;
    if (this.#completedOwed && this.#inFlight) {
      // The round in flight carries `completed` (or `started`, with `completed` owed after it):
      // cancelling it would lose the download from the tracker's counts.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#inFlight,
        new Promise<void>((resolve) => timer = setTimeout(resolve, stopTimeout)),
      ]);
      clearTimeout(timer);
    }
    this.#abort.abort(new DOMException("tracker client stopped", "AbortError"));
    await this.#inFlight;
    const url = this.#lastUrl;
    if (!wasRunning || !url) return;
    if (this.#completedOwed) await this.#finalAnnounce(url, "completed", stopTimeout);
    await this.#finalAnnounce(url, "stopped", stopTimeout);
  }

  /** One announce after the schedule ended (`completed` owed, or `stopped`); never throws. */
  async #finalAnnounce(url: string, event: AnnounceEventName, timeout: number): Promise<void> {
    try {
      const response = await this.#transport(url).announce(url, this.#params(event, url), {
        timeout,
        maxResponseBytes: this.#options.maxResponseBytes,
        maxRedirects: this.#options.maxRedirects,
      });
      if (event === "completed") this.#completedOwed = false;
      this.#emit("announce", { url, event, response });
    } catch (error) {
      this.#emit("error", { url, error });
    }
  }

  /** The transport for a URL the constructor kept (so one exists). */
  #transport(url: string): TrackerTransport {
    return trackerTransportFor(url, this.#transports)!;
  }

  #params(event: AnnounceEventName | undefined, url: string) {
    const stats = this.#options.stats();
    return {
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      uploaded: stats.uploaded,
      downloaded: stats.downloaded,
      left: stats.left,
      event,
      numwant: event === "stopped" ? 0 : this.#options.numwant ?? 50,
      key: this.#key,
      trackerId: this.#trackerIds.get(url),
    };
  }

  #emit<K extends keyof TrackerClientEventMap>(
    type: K,
    detail: TrackerClientEventMap[K]["detail"],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #schedule(delayMs: number): void {
    if (this.#state !== "running") return;
    clearTimeout(this.#timer);
    this.#nextAnnounceAt = Date.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#trigger();
    }, delayMs);
  }

  /** Runs announce rounds one at a time; a request made during a round runs right after it. */
  #trigger(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = (async () => {
      try {
        // Bounded: at most a few back-to-back rounds, the schedule covers the rest.
        for (let round = 0; round < 3 && this.#state === "running"; round++) {
          this.#again = false;
          await this.#round();
          if (!this.#again) break;
        }
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }

  async #round(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const event = this.#pendingEvent;
    const signal = this.#abort.signal;
    let delay: number;
    try {
      const { url, value } = await this.#tiers.first(
        (url) =>
          this.#transport(url).announce(url, this.#params(event, url), {
            signal,
            timeout: this.#options.timeout,
            maxResponseBytes: this.#options.maxResponseBytes,
            maxRedirects: this.#options.maxRedirects,
          }),
        (url, error) => this.#emit("error", { url, error }),
        signal,
      );
      this.#succeeded(url, event, value);
      const interval = value.interval * 1000;
      delay = Math.min(
        Math.max(interval, this.#options.minIntervalMs ?? 30_000, this.#trackerMinIntervalMs),
        this.#options.maxIntervalMs ?? 3_600_000,
      );
    } catch (error) {
      if (signal.aborted || this.#state !== "running") return;
      this.#failures++;
      const base = this.#options.retryBaseMs ?? 15_000;
      const retryMax = this.#options.retryMaxMs ?? 1_800_000;
      delay = Math.min(base * 2 ** Math.min(this.#failures - 1, 30), retryMax);
      // BEP 31: when every tracker refused with a `retry in`, asking sooner is pointless.
      delay = Math.max(delay, Math.min(retryInFloorMs(error), retryMax));
      const url = error instanceof TrackerError ? error.url : "all tiers";
      this.#emit("error", { url, error, retryInMs: delay });
    }
    this.#schedule(delay);
  }

  #succeeded(url: string, event: AnnounceEventName | undefined, response: AnnounceResponse): void {
    this.#failures = 0;
    this.#lastUrl = url;
    this.#lastAnnounceAt = Date.now();
    this.#trackerMinIntervalMs = (response.minInterval ?? 0) * 1000;
    // A `completed()` call during this round set a newer event: keep it pending.
    if (this.#pendingEvent === event) this.#pendingEvent = undefined;
    if (event === "completed") this.#completedOwed = false;
    if (response.trackerId) this.#trackerIds.set(url, response.trackerId);
    if (response.warning) this.#emit("warning", { url, message: response.warning });
    this.#emit("announce", { url, event, response });
    const own = this.#options.peerId;
    const peers = response.peers.filter((peer) => !peer.peerId || !bytesEqual(peer.peerId, own));
    if (peers.length > 0) this.#emit("peers", { url, peers });
  }
}
