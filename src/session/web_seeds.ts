import type { WebSeed } from "../metainfo/web_seeds.ts";
import { WebSeedPeer } from "../webseed/peer.ts";
import type { SessionCore } from "./core.ts";

/**
 * A session's web seeds: one {@linkcode WebSeedPeer} per server while the session
 * runs and needs pieces. They join the core's peers (agents see them through
 * `peers()`) without a connection slot; their blocks go through the same dispatch,
 * `writeBlock` and verification as a wire peer's.
 */
export class WebSeedRunner {
  readonly #core: SessionCore;
  readonly #seeds: readonly WebSeed[];
  readonly #live = new Map<string, WebSeedPeer>();
  /** Seeds given up (or banned) for the rest of the session. */
  readonly #gone = new Set<string>();

  constructor(core: SessionCore, seeds: readonly WebSeed[]) {
    this.#core = core;
    this.#seeds = seeds;
    core.events.on("piece-failed", ({ index, peers }) => {
      // Several senders: the smart ban finds the liar when the piece is refetched.
      if (peers.length === 1) this.#live.get(peers[0])?.sentCorruptPiece(index);
    });
  }

  /** Whether a web seed is working or waiting to retry. */
  get active(): boolean {
    return this.#live.size > 0;
  }

  /** Starts every web seed not given up (the session started, or wants pieces again). */
  start(): void {
    const core = this.#core;
    if (core.store.complete) return;
    for (const seed of this.#seeds) {
      if (this.#live.has(seed.url) || this.#gone.has(seed.url)) continue;
      const peer = new WebSeedPeer({
        torrent: core.torrent,
        seed,
        blockSize: core.config.blockSize,
        retryMs: core.config.webSeedRetryMs,
        maxFailures: core.config.maxWebSeedFailures,
        dispatch: (from, message) => core.dispatch(from, message),
        // The one place web seed payload is accounted: a download limiter awaits here.
        // Web seed bodies count toward the download limits: the body is not read further
        // until its bytes have tokens.
        received: (bytes) => {
          core.downloadMeter.add(bytes);
          return core.downloadLimiter.take(bytes);
        },
        drained: () => core.writesDrained(),
        failed: (from, error, retryInMs) =>
          core.events.emit("web-seed-failed", { url: from.key, error, retryInMs }),
        closed: (from, reason) => this.#closed(from, reason),
      });
      this.#live.set(seed.url, peer);
      core.webSeedPeers.add(peer);
      peer.start();
    }
  }

  /** Closes every web seed (paused, stopped, complete); `start` brings them back. */
  stop(reason: string): void {
    for (const peer of [...this.#live.values()]) peer.close(reason);
  }

  #closed(peer: WebSeedPeer, reason: string): void {
    const core = this.#core;
    this.#live.delete(peer.key);
    core.webSeedPeers.delete(peer);
    if (/^(gave up|banned)/.test(reason)) this.#gone.add(peer.key);
    for (const agent of core.agents) {
      try {
        agent.disconnected?.(peer, reason);
      } catch { /* an agent's failure must not keep a dead seed around */ }
    }
  }
}
