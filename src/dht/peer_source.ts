/**
 * The DHT as the runtime's peer source: one {@linkcode DhtNode} shared by every non-private
 * torrent, started by the first lookup, plus the BEP 5 wire parts (the reserved bit and the
 * `port` message) that let peers' DHT nodes join our table.
 */
import type { AgentPeer, MessagingAgent } from "../agents/agent.ts";
import type { PeerSource, PeerSourceContext } from "../peers/source.ts";
import type { PeerAddress } from "../util/address.ts";
import { addressKey } from "../util/address.ts";
import type { HandshakeContext, HandshakeHandler } from "../wire/handlers.ts";
import { hasReservedBit, ReservedBits, setReservedBit } from "../wire/handshake.ts";
import { DhtNode, type DhtNodeOptions } from "./node.ts";
import { loadDhtState, saveDhtState } from "./state.ts";

/**
 * DHT options of a runtime (`RuntimeOptions.dht`).
 *
 * @example
 * ```ts
 * import { Runtime } from "@bittern/bittern";
 *
 * const runtime = new Runtime({
 *   listen: { hostname: "127.0.0.1", port: 0 },
 *   dht: { bootstrap: [{ host: "127.0.0.1", port: 6881 }], statePath: "./dht.json" },
 * });
 * await runtime.close();
 * ```
 */
export interface DhtOptions extends Omit<DhtNodeOptions, "host" | "port" | "id" | "nodes"> {
  /**
   * A saved node list: read at start (when it exists) for a warm start, written atomically
   * when the runtime closes. Needs `--allow-read` and `--allow-write` for that file.
   */
  readonly statePath?: string;
  /** Re-announce period per torrent in ms. Default 15 minutes. */
  readonly reannounceMs?: number;
  /** First retry in ms when a lookup found no peer; doubles up to `reannounceMs`. Default 2 000. */
  readonly retryMs?: number;
}

/** Peers whose handshake set the DHT bit, by address: FIFO-bounded. */
const MAX_DHT_PEERS_REMEMBERED = 4096;

/**
 * The DHT peer source of a runtime: `get_peers` for each torrent (a hybrid's under both its
 * info hashes, BEP 52), announcing our port, again every 15 minutes (sooner while nothing is
 * found). Private torrents are never looked up
 * (BEP 27); a magnet link whose torrent turns out private stops at its next round.
 *
 * @example A runtime-independent use
 * ```ts
 * import { DhtPeerSource } from "@bittern/bittern";
 *
 * const dht = new DhtPeerSource({ bootstrap: [{ host: "127.0.0.1", port: 6881 }] }, () => ({
 *   host: "127.0.0.1",
 *   port: 0,
 * }));
 * // hand `dht` to Runtime's peerSources, or call dht.node() to use the node directly
 * await dht.close();
 * ```
 */
export class DhtPeerSource implements PeerSource {
  /** `"dht"`. */
  readonly name = "dht";
  readonly #options: DhtOptions;
  readonly #where: () => PeerAddress | Promise<PeerAddress>;
  readonly #dhtPeers = new Set<string>();
  #node: Promise<DhtNode> | undefined;
  #closed = false;

  /**
   * Creates the source; the node starts with the first lookup.
   *
   * @param options Bootstrap list, state file, lookup tuning, read-only.
   * @param where The UDP address to bind (the runtime's listening address and port, once
   * listening).
   */
  constructor(options: DhtOptions, where: () => PeerAddress | Promise<PeerAddress>) {
    this.#options = options;
    this.#where = where;
  }

  /**
   * The running node (started on first call: binds, reads the state file, bootstraps).
   *
   * @returns The node.
   */
  node(): Promise<DhtNode> {
    if (this.#closed) return Promise.reject(new Error("the DHT is closed"));
    this.#node ??= (async () => {
      const state = this.#options.statePath
        ? await loadDhtState(this.#options.statePath)
        : undefined;
      const where = await this.#where();
      const node = new DhtNode({
        ...this.#options,
        host: where.host,
        port: where.port,
        id: state?.id,
        nodes: state?.nodes,
      });
      await node.listen();
      void node.bootstrap().catch(() => {});
      return node;
    })();
    return this.#node;
  }

  /**
   * Lookups and announces for one torrent while `signal` is not aborted.
   *
   * @param context The torrent's info hash and our port.
   * @param signal Ends the iteration.
   */
  async *peers(
    context: PeerSourceContext,
    signal: AbortSignal,
  ): AsyncIterable<readonly PeerAddress[]> {
    if (isPrivate(context)) return;
    const node = await this.node();
    const batches: (readonly PeerAddress[])[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    signal.addEventListener("abort", notify, { once: true });
    const reannounce = this.#options.reannounceMs ?? 15 * 60_000;
    // A hybrid torrent (BEP 52) is looked up and announced under both info hashes.
    const swarms = context.infoHashV2
      ? [{ infoHash: context.infoHash }, { infoHash: context.infoHashV2, swarm: "v2" as const }]
      : [{ infoHash: context.infoHash }];
    const rounds = swarms.map(({ infoHash, swarm }) =>
      (async () => {
        let retry = this.#options.retryMs ?? 2000;
        while (!signal.aborted && !isPrivate(context)) {
          const result = await node.getPeers(infoHash, {
            onPeers: (peers) => {
              // Our own announce comes back from the nodes we told.
              const others = peers.filter((peer) =>
                peer.port !== context.port || peer.host !== node.address?.host
              );
              if (!others.length) return;
              batches.push(swarm ? others.map((peer) => ({ ...peer, swarm })) : others);
              notify();
            },
            announce: context.port > 0 ? { port: context.port } : undefined,
            signal,
          });
          const wait = result.peers.length ? reannounce : retry;
          retry = Math.min(retry * 2, reannounce);
          await sleep(wait, signal);
        }
      })().catch(() => {})
    );
    let done = false;
    void Promise.all(rounds).then(() => {
      done = true;
      notify();
    });
    try {
      while (!signal.aborted) {
        const batch = batches.shift();
        if (batch) {
          yield batch;
          continue;
        }
        if (done) break;
        await new Promise<void>((resolve) => wake = resolve);
      }
    } finally {
      signal.removeEventListener("abort", notify);
    }
  }

  /**
   * A peer's `port` message: ping its DHT node and add it to the table when it answers.
   *
   * @param address The node's UDP address.
   */
  addNode(address: PeerAddress): void {
    if (!this.#node) return;
    void this.#node.then((node) => node.addNode(address)).catch(() => {});
  }

  /**
   * The handshake handler for a non-private torrent: sets the DHT reserved bit (byte 7,
   * 0x01) and remembers which peers set it.
   *
   * @returns The handler.
   */
  handshakeHandler(): HandshakeHandler {
    return {
      name: "dht",
      onLocalHandshake: (context: HandshakeContext) =>
        setReservedBit(context.reserved, ReservedBits.dht),
      onRemoteHandshake: (context, remote) => {
        const address = context.remoteAddress;
        if (!address || !hasReservedBit(remote.reserved, ReservedBits.dht)) return;
        this.#dhtPeers.add(addressKey(address.hostname, address.port));
        if (this.#dhtPeers.size > MAX_DHT_PEERS_REMEMBERED) {
          this.#dhtPeers.delete(this.#dhtPeers.values().next().value!);
        }
      },
    };
  }

  /**
   * The agent of one session: sends our DHT port to peers that set the DHT bit, and hands
   * peers' `port` messages to the node.
   *
   * @param port Our DHT port (the runtime's listening port).
   * @returns The agent.
   */
  agent(port: () => number | undefined): MessagingAgent {
    return {
      name: "dht-port",
      opened: (peer: AgentPeer) => {
        if (!this.#dhtPeers.delete(peer.key)) return;
        const ours = port();
        if (ours) peer.send({ type: "port", port: ours });
      },
      consumes: {
        port: (peer, message) => {
          if (message.port > 0) this.addNode({ host: peer.host, port: message.port });
        },
      },
    };
  }

  /** Writes the state file (when configured) and closes the node. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const node = await this.#node?.catch(() => undefined);
    if (!node) return;
    try {
      if (this.#options.statePath && node.table.size) {
        await saveDhtState(this.#options.statePath, { id: node.id, nodes: node.savedNodes() });
      }
    } finally {
      await node.close();
    }
  }
}

/** Whether the session's torrent is known to be private (a magnet's is unknown at first). */
function isPrivate(context: PeerSourceContext): boolean {
  try {
    return context.torrent.private;
  } catch {
    return false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
