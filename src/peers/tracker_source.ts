import { TrackerClient, type TrackerClientOptions } from "../tracker/client.ts";
import type { PeerAddress } from "../util/address.ts";
import type { PeerSource, PeerSourceContext } from "./source.ts";

/** Options for {@linkcode TrackerPeerSource}, beyond what the session supplies. */
export type TrackerPeerSourceOptions = Partial<
  Omit<TrackerClientOptions, "infoHash" | "peerId" | "port" | "stats" | "signal">
>;

/**
 * The torrent's trackers as a peer source: announces `started`, re-announces
 * on schedule, `completed` when the download finishes, `stopped` when the
 * session stops, following BEP 12 tiers.
 *
 * @example
 * ```ts
 * import { TrackerPeerSource } from "@bittern/bittern";
 *
 * const source = new TrackerPeerSource({ numwant: 100 });
 * ```
 */
export class TrackerPeerSource implements PeerSource {
  /** `"tracker"`. */
  readonly name = "tracker";
  readonly #options: TrackerPeerSourceOptions;
  #client: TrackerClient | undefined;

  /**
   * Creates the source.
   *
   * @param options Announce URLs (default: the torrent's), timeouts, intervals.
   */
  constructor(options: TrackerPeerSourceOptions = {}) {
    this.#options = options;
  }

  /** Announces and yields each tracker's peers until `signal` aborts (then announces `stopped`). */
  async *peers(
    context: PeerSourceContext,
    signal: AbortSignal,
  ): AsyncIterable<readonly PeerAddress[]> {
    const client = new TrackerClient({
      announce: context.trackers,
      ...this.#options,
      infoHash: context.infoHash,
      peerId: context.peerId,
      port: context.port || 6881,
      stats: () => context.stats(),
    });
    this.#client = client;
    const queue: (readonly PeerAddress[])[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    client.addEventListener("announce", (event) => {
      const { url, event: name, response } = event.detail;
      context.report({ url, event: name ?? "announce", peers: response.peers.length });
    });
    client.addEventListener("peers", (event) => {
      queue.push(event.detail.peers);
      notify();
    });
    client.addEventListener(
      "warning",
      (event) => context.warn(`${event.detail.url}: ${event.detail.message}`),
    );
    client.addEventListener("error", (event) => {
      const { url, error } = event.detail;
      context.report({
        url,
        event: "error",
        error: error instanceof Error ? error.message : String(error),
      });
    });
    signal.addEventListener("abort", notify, { once: true });
    client.start().catch(() => {}); // failures arrive as error events
    try {
      while (!signal.aborted) {
        while (queue.length) yield queue.shift()!;
        if (signal.aborted) break;
        await new Promise<void>((resolve) => wake = resolve);
      }
    } finally {
      await client.stop();
      this.#client = undefined;
    }
  }

  /** Announces `completed`. */
  completed(): void {
    void this.#client?.completed();
  }
}
