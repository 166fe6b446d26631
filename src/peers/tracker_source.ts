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
 * session stops, following BEP 12 tiers. A hybrid torrent (BEP 52) is
 * announced under both info hashes, as libtorrent does; peers from the v2
 * announces carry `swarm: "v2"`.
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
  #clients: TrackerClient[] = [];

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
    const queue: (readonly PeerAddress[])[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const swarms = context.infoHashV2
      ? [{ infoHash: context.infoHash }, { infoHash: context.infoHashV2, swarm: "v2" as const }]
      : [{ infoHash: context.infoHash }];
    const clients = swarms.map(({ infoHash, swarm }) => {
      const client = new TrackerClient({
        announce: context.trackers,
        ...this.#options,
        infoHash,
        peerId: context.peerId,
        port: context.port || 6881,
        stats: () => context.stats(),
      });
      // Both announces of a hybrid torrent report alike; a v2 one's error says which it was.
      const label = (message: string) => swarm ? `v2 info hash: ${message}` : message;
      client.addEventListener("announce", (event) => {
        const { url, event: name, response } = event.detail;
        context.report({ url, event: name ?? "announce", peers: response.peers.length });
      });
      client.addEventListener("peers", (event) => {
        const peers = event.detail.peers;
        queue.push(swarm ? peers.map((peer) => ({ ...peer, swarm })) : peers);
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
          error: label(error instanceof Error ? error.message : String(error)),
        });
      });
      return client;
    });
    this.#clients = clients;
    signal.addEventListener("abort", notify, { once: true });
    for (const client of clients) client.start().catch(() => {}); // failures arrive as error events
    try {
      while (!signal.aborted) {
        while (queue.length) yield queue.shift()!;
        if (signal.aborted) break;
        await new Promise<void>((resolve) => wake = resolve);
      }
    } finally {
      await Promise.all(clients.map((client) => client.stop()));
      this.#clients = [];
    }
  }

  /** Announces `completed` (under each info hash). */
  completed(): void {
    for (const client of this.#clients) void client.completed();
  }
}
