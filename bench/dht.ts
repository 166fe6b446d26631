// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * DHT: a simulated network of Bittern `DhtNode`s in this process on 127.0.0.1 (rate limits
 * keyed by IP:port, since every node shares one address). Measures
 * - `get_peers` lookup latency (median, p95) and queries per lookup from warm nodes, against
 *   BEP 5's expectation (each step at least one bit closer: about log2(n) steps, and at
 *   least the K = 8 closest nodes asked);
 * - memory per node (RSS growth over the network's build / nodes);
 * - time to the first peer for a fresh node: a cold start (one bootstrap router only) and a
 *   warm start (a node list saved by a network member, through `saveDhtState`/`loadDhtState`).
 *
 * Run: `deno task bench dht [--nodes 1000] [--lookups 200] [--starts 10] [--alpha 4]`.
 */
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { DhtNode, type DhtNodeOptions, loadDhtState, randomNodeId, saveDhtState } from "../mod.ts";

/** Torrents announced into the network. */
const TORRENTS = 20;
/** Nodes bootstrapping at once while the network is built. */
const JOINING_AT_ONCE = 16;

/** Runs the DHT benchmark; options: `--nodes N`, `--lookups N`, `--starts N`, `--alpha N`. */
export async function run(options: string[] = []): Promise<void> {
  const nodeCount = numberOption(options, "--nodes", 1000);
  const lookups = numberOption(options, "--lookups", 200);
  const starts = numberOption(options, "--starts", 10);
  const alpha = numberOption(options, "--alpha", 4);
  console.log(`\n## dht: ${nodeCount} Bittern DHT nodes on 127.0.0.1, one process (α = ${alpha})`);
  const common: DhtNodeOptions = {
    host: "127.0.0.1",
    alpha,
    rateLimit: { key: "ip-port" },
    // Housekeeping would add refresh lookups at random moments: keep it out of the figures.
    maintenanceIntervalMs: 3_600_000,
  };
  const nodes: DhtNode[] = [];
  const stateDir = await Deno.makeTempDir();
  try {
    const gc = garbageCollector();
    gc();
    const memoryBefore = Deno.memoryUsage();
    const buildStarted = performance.now();
    const router = new DhtNode({ ...common, bootstrap: [] });
    await router.listen();
    nodes.push(router);
    const routerAddress = router.address!;
    for (let i = 1; i < nodeCount; i++) {
      const node = new DhtNode({ ...common, bootstrap: [routerAddress] });
      await node.listen();
      nodes.push(node);
    }
    for (let i = 1; i < nodeCount; i += JOINING_AT_ONCE) {
      await Promise.all(nodes.slice(i, i + JOINING_AT_ONCE).map((node) => node.bootstrap()));
    }
    // Nodes that joined early learned the later ones only from their queries: one refresh
    // lookup each (a random target) settles the tables, as bucket refresh would.
    for (let i = 1; i < nodeCount; i += JOINING_AT_ONCE) {
      await Promise.all(
        nodes.slice(i, i + JOINING_AT_ONCE).map((node) => node.findNode(randomNodeId())),
      );
    }
    const hashes = Array.from({ length: TORRENTS }, () => randomNodeId());
    for (const [i, infoHash] of hashes.entries()) {
      await pick(nodes).getPeers(infoHash, { announce: { port: 10_000 + i } });
    }
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    gc();
    const memoryAfter = Deno.memoryUsage();
    const perNodeKiB = (key: "rss" | "heapUsed" | "external") =>
      ((memoryAfter[key] - memoryBefore[key]) / nodeCount / 1024).toFixed(1);
    const tableSizes = nodes.map((node) => node.table.size).sort((a, b) => a - b);
    console.log(
      `network built in ${buildSeconds.toFixed(1)} s; routing table size median ${
        percentile(tableSizes, 0.5)
      } (min ${tableSizes[0]}, max ${tableSizes.at(-1)}); ` +
        `memory per node ${perNodeKiB("rss")} KiB RSS (JS heap ${perNodeKiB("heapUsed")} KiB, ` +
        `external ${perNodeKiB("external")} KiB, after a full GC)`,
    );

    // Warm lookups: nodes in the network, one lookup at a time.
    const durations: number[] = [];
    const messages: number[] = [];
    let found = 0;
    for (let i = 0; i < lookups; i++) {
      const result = await pick(nodes).getPeers(hashes[i % TORRENTS]);
      durations.push(result.durationMs);
      messages.push(result.messages);
      if (result.peers.length) found++;
    }
    durations.sort((a, b) => a - b);
    messages.sort((a, b) => a - b);
    console.log(
      `get_peers from a warm node (${lookups} lookups): median ${
        percentile(durations, 0.5).toFixed(1)
      } ms, p95 ${percentile(durations, 0.95).toFixed(1)} ms; queries per lookup median ${
        percentile(messages, 0.5)
      }, p95 ${percentile(messages, 0.95)} (BEP 5: about log2(${nodeCount}) = ${
        Math.log2(nodeCount).toFixed(1)
      } steps, at least K = 8 queries); found the announced peer in ${found}/${lookups}`,
    );

    // Fresh nodes: time from creation to the first peer, cold and warm, alternating.
    const cold: FirstPeer[] = [];
    const warm: FirstPeer[] = [];
    const savedSizes: number[] = [];
    for (let i = 0; i < starts; i++) {
      const infoHash = hashes[i % TORRENTS];
      cold.push(await firstPeer(new DhtNode({ ...common, bootstrap: [routerAddress] }), infoHash));
      // A member saves its node list; a new node starts from it (and the router as well).
      const path = join(stateDir, `state-${i}.json`);
      const member = pick(nodes.slice(1));
      await saveDhtState(path, { id: randomNodeId(), nodes: member.savedNodes() });
      const state = await loadDhtState(path);
      savedSizes.push(state!.nodes.length);
      warm.push(
        await firstPeer(
          new DhtNode({
            ...common,
            id: state!.id,
            nodes: state!.nodes,
            bootstrap: [routerAddress],
          }),
          infoHash,
        ),
      );
    }
    const describe = (runs: FirstPeer[]) => {
      const ms = runs.map((run) => run.ms).sort((a, b) => a - b);
      const queries = runs.map((run) => run.queries).sort((a, b) => a - b);
      return `median ${percentile(ms, 0.5).toFixed(1)} ms (max ${ms.at(-1)!.toFixed(1)} ms), ${
        percentile(queries, 0.5)
      } queries sent by then`;
    };
    savedSizes.sort((a, b) => a - b);
    console.log(
      `time to first peer, ${starts} fresh nodes each: cold start (router only) ${
        describe(cold)
      }; warm start (a saved list of ${percentile(savedSizes, 0.5)} nodes, and the router) ${
        describe(warm)
      } (goals: warm lookup < 1 s, cold first peer < 5 s)`,
    );
  } finally {
    for (let i = 0; i < nodes.length; i += 100) {
      await Promise.all(nodes.slice(i, i + 100).map((node) => node.close()));
    }
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** A fresh node's first peer: when, and how many queries it had sent by then. */
interface FirstPeer {
  readonly ms: number;
  readonly queries: number;
}

/** From starting `node` until its first `get_peers` answer with a peer. */
async function firstPeer(node: DhtNode, infoHash: Uint8Array): Promise<FirstPeer> {
  const started = performance.now();
  let first: FirstPeer | undefined;
  const stop = new AbortController();
  try {
    await node.listen();
    await node.getPeers(infoHash, {
      onPeers: () => {
        first ??= { ms: performance.now() - started, queries: node.stats.queriesSent };
        stop.abort();
      },
      signal: stop.signal,
    });
    if (!first) throw new Error("a fresh node found no peer");
    return first;
  } finally {
    await node.close();
  }
}

/** A full garbage collection, so RSS counts what the nodes keep rather than garbage. */
function garbageCollector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  return () => {
    gc();
    gc();
  };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function numberOption(options: readonly string[], name: string, fallback: number): number {
  const at = options.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(options[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} wants a positive integer`);
  return value;
}

if (import.meta.main) await run(Deno.args);
