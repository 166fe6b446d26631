// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Swarm stress: 1 seeder and 20 leechers share a 64 MiB payload (256 KiB pieces, 4 files),
 * memory storage, peers told about each other directly, all in one process on 127.0.0.1.
 * Prints the wall time from start to every leecher complete, the aggregate rate, the
 * peak RSS (sampled every 100 ms from before the payload is generated to the end), and the
 * memory per connection beyond the payload: at each sample, RSS minus the RSS once the
 * swarm was prepared (payload generated, seeder filled) minus the bytes the leechers'
 * memory storage holds (every piece it has a buffer for, verified or in progress; nothing
 * with `--storage filesystem`), divided by the open connection ends of all runtimes (each
 * TCP connection counts twice, once per side).
 *
 * That peak is one sample, often taken while connections are still being made (few ends, the
 * garbage of the dials): between runs it read anywhere from 221 to 1930 KiB per end. The
 * steadier figure: the worst (RSS overhead / connected ends) among the samples with at least
 * 90% of the most connected ends seen (ends of established peer connections, counted by each
 * session; dials and handshakes not counted, so the figure errs high rather than low).
 * Beside it, what the connections themselves hold in those samples, per connected end:
 * `SessionStats.bufferedBytes` (read buffers, write buffer, bytes queued for the peer).
 *
 * The measurement runs in a child process so earlier benchmarks' garbage does not count
 * in its RSS. Not a timed test: nothing fails on slowness.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/swarm.ts
 * (`--leechers N --mib M --piece-kib K --tracker --storage filesystem` change the shape;
 * `--semi-space-mib N` runs the child with V8's `--max-semi-space-size=N`, to compare: by
 * default it runs without flags, and V8's young generation then grows to ~55-63 MiB under
 * this load whatever the number of connections.)
 */
import { parseArgs } from "node:util";
import { MemoryStorage, type Storage, type Torrent, type TorrentStorage } from "../mod.ts";
import { createSwarm } from "../src/testing/mod.ts";

/** Memory storage that counts the bytes it holds (a buffer per piece, from its first write). */
class CountingMemoryStorage implements Storage {
  readonly #inner = new MemoryStorage();
  readonly #pieces = new Set<number>();
  held = 0;

  async open(torrent: Torrent): Promise<TorrentStorage> {
    const inner = await this.#inner.open(torrent);
    return {
      ...inner,
      read: inner.read.bind(inner),
      write: (piece, offset, data) => {
        if (!this.#pieces.has(piece)) {
          this.#pieces.add(piece);
          this.held += Math.min(torrent.pieceLength, torrent.length - piece * torrent.pieceLength);
        }
        return inner.write(piece, offset, data);
      },
      flush: inner.flush.bind(inner),
      close: inner.close.bind(inner),
    };
  }
}

const MiB = 1024 * 1024;

interface SwarmBenchOptions {
  leechers: number;
  mib: number;
  pieceKib: number;
  tracker: boolean;
  storage: "memory" | "filesystem";
}

interface SwarmBenchResult extends SwarmBenchOptions {
  prepareSeconds: number;
  downloadSeconds: number;
  verifySeconds: number;
  closeSeconds: number;
  peakRssMiB: number;
  startRssMiB: number;
  preparedRssMiB: number;
  /** Largest (RSS - prepared RSS - payload held by leechers) seen, MiB. */
  peakOverheadMiB: number;
  /** Open connection ends (all runtimes) at that moment. */
  connectionsAtPeakOverhead: number;
  /** V8 heap used and array buffers (MiB) at the peak overhead's sample, beyond `prepared`. */
  heapAtPeakMiB: number;
  arrayBuffersAtPeakMiB: number;
  /** Most open connection ends seen. */
  peakConnections: number;
  /** Most connected ends (established peers of all sessions) seen. */
  peakConnected: number;
  /** Samples with at least 90% of `peakConnected` connected ends. */
  steadySamples: number;
  /** The worst overhead per connected end among those samples, KiB, and that sample's figures. */
  steadyKibPerEnd: number;
  steadyConnected: number;
  steadyOverheadMiB: number;
  steadyHeapUsedMiB: number;
  steadyHeapTotalMiB: number;
  steadyArrayBuffersMiB: number;
  /** The median overhead per connected end among those samples, KiB. */
  steadyMedianKibPerEnd: number;
  /**
   * What the connections themselves hold (`SessionStats.bufferedBytes`: read buffers, write
   * buffers, bytes queued for peers) per connected end among those samples, KiB: the
   * worst and the median.
   */
  buffersWorstKibPerEnd: number;
  buffersMedianKibPerEnd: number;
  cpuCount: number;
}

/** Runs one swarm in this process and measures it. */
async function measure(options: SwarmBenchOptions): Promise<SwarmBenchResult> {
  const startRss = Deno.memoryUsage().rss;
  let peakRss = startRss;
  let preparedRss = 0;
  let peakOverhead = 0;
  let connectionsAtPeakOverhead = 0;
  let preparedUsage = Deno.memoryUsage();
  let heapAtPeak = 0;
  let arrayBuffersAtPeak = 0;
  let peakConnections = 0;
  /** One per sample once prepared: what the steady figure is picked from after the run. */
  const samples: {
    connected: number;
    buffered: number;
    overhead: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
  }[] = [];
  let swarmRef: Awaited<ReturnType<typeof createSwarm>> | undefined;
  const storages: CountingMemoryStorage[] = [];
  const sample = () => {
    const usage = Deno.memoryUsage();
    const rss = usage.rss;
    peakRss = Math.max(peakRss, rss);
    const swarm = swarmRef;
    if (!swarm || !preparedRss) return;
    let connections = 0;
    let connected = 0;
    let buffered = 0;
    let held = 0;
    for (const peer of swarm.peers) {
      if (!peer.started) return;
      connections += peer.runtime.connections;
      const stats = peer.session.stats();
      connected += stats.peers;
      buffered += stats.bufferedBytes;
    }
    for (const storage of storages) held += storage.held;
    peakConnections = Math.max(peakConnections, connections);
    const overhead = rss - preparedRss - held;
    samples.push({
      connected,
      buffered,
      overhead,
      heapUsed: usage.heapUsed - preparedUsage.heapUsed,
      heapTotal: usage.heapTotal - preparedUsage.heapTotal,
      external: usage.external - preparedUsage.external - held,
    });
    if (overhead > peakOverhead) {
      peakOverhead = overhead;
      connectionsAtPeakOverhead = connections;
      heapAtPeak = usage.heapUsed - preparedUsage.heapUsed;
      arrayBuffersAtPeak = usage.external - preparedUsage.external - held;
    }
  };
  const sampler = setInterval(sample, 100);
  try {
    const began = performance.now();
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: options.leechers,
      payload: { size: options.mib * MiB, files: 4, pieceLength: options.pieceKib * 1024, seed: 7 },
      storage: options.storage,
      // Leechers' memory storage counts what it holds, so that is not taken for overhead.
      peer: (role) => {
        if (role !== "leecher" || options.storage !== "memory") return {};
        const storage = new CountingMemoryStorage();
        storages.push(storage);
        return { storage };
      },
      tracker: options.tracker,
      timeoutMs: 600_000,
      // The kit's log of received messages (up to 2,000 per peer, copies) is test tooling,
      // not a client's memory: it was 5-10 MiB of the heap beyond the payload.
      messageHistory: 0,
    });
    const prepared = performance.now();
    preparedUsage = Deno.memoryUsage();
    preparedRss = preparedUsage.rss;
    swarmRef = swarm;
    await swarm.start();
    await swarm.allComplete();
    const downloaded = performance.now();
    sample();
    swarmRef = undefined;
    await swarm.verifyPayload();
    const verified = performance.now();
    await swarm.close();
    const closed = performance.now();
    const peakConnected = Math.max(0, ...samples.map((s) => s.connected));
    const steady = samples.filter((s) => s.connected > 0 && s.connected >= 0.9 * peakConnected);
    const perEnd = (s: { overhead: number; connected: number }) => s.overhead / 1024 / s.connected;
    const worst = steady.reduce((a, b) => perEnd(b) > perEnd(a) ? b : a, steady[0]);
    const sorted = steady.map(perEnd).sort((a, b) => a - b);
    const buffers = steady.map((s) => s.buffered / 1024 / s.connected).sort((a, b) => a - b);
    return {
      ...options,
      prepareSeconds: (prepared - began) / 1000,
      downloadSeconds: (downloaded - prepared) / 1000,
      verifySeconds: (verified - downloaded) / 1000,
      closeSeconds: (closed - verified) / 1000,
      peakRssMiB: peakRss / MiB,
      startRssMiB: startRss / MiB,
      preparedRssMiB: preparedRss / MiB,
      peakOverheadMiB: peakOverhead / MiB,
      connectionsAtPeakOverhead,
      heapAtPeakMiB: heapAtPeak / MiB,
      arrayBuffersAtPeakMiB: arrayBuffersAtPeak / MiB,
      peakConnections,
      peakConnected,
      steadySamples: steady.length,
      steadyKibPerEnd: worst ? perEnd(worst) : NaN,
      steadyConnected: worst?.connected ?? 0,
      steadyOverheadMiB: (worst?.overhead ?? NaN) / MiB,
      steadyHeapUsedMiB: (worst?.heapUsed ?? NaN) / MiB,
      steadyHeapTotalMiB: (worst?.heapTotal ?? NaN) / MiB,
      steadyArrayBuffersMiB: (worst?.external ?? NaN) / MiB,
      steadyMedianKibPerEnd: sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN,
      buffersWorstKibPerEnd: buffers.length ? buffers[buffers.length - 1] : NaN,
      buffersMedianKibPerEnd: buffers.length ? buffers[Math.floor(buffers.length / 2)] : NaN,
      cpuCount: navigator.hardwareConcurrency,
    };
  } finally {
    clearInterval(sampler);
  }
}

function parse(
  args: string[],
): SwarmBenchOptions & { child: boolean; semiSpaceMib: number | undefined } {
  const { values } = parseArgs({
    args,
    options: {
      leechers: { type: "string", default: "20" },
      mib: { type: "string", default: "64" },
      "piece-kib": { type: "string", default: "256" },
      tracker: { type: "boolean", default: false },
      storage: { type: "string", default: "memory" },
      child: { type: "boolean", default: false },
      "semi-space-mib": { type: "string" },
    },
  });
  return {
    leechers: Number(values.leechers),
    mib: Number(values.mib),
    pieceKib: Number(values["piece-kib"]),
    tracker: values.tracker,
    storage: values.storage === "filesystem" ? "filesystem" : "memory",
    child: values.child,
    semiSpaceMib: values["semi-space-mib"] === undefined
      ? undefined
      : Number(values["semi-space-mib"]),
  };
}

/** Runs the swarm benchmark in a child process and prints its figures. */
export async function run(args: string[] = []): Promise<void> {
  const options = parse(args);
  const childArgs = [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-write",
    ...(options.semiSpaceMib === undefined
      ? []
      : [`--v8-flags=--max-semi-space-size=${options.semiSpaceMib}`]),
    import.meta.filename ?? new URL(import.meta.url).pathname,
    "--child",
    `--leechers=${options.leechers}`,
    `--mib=${options.mib}`,
    `--piece-kib=${options.pieceKib}`,
    ...(options.tracker ? ["--tracker"] : []),
    `--storage=${options.storage}`,
  ];
  const output = await new Deno.Command(Deno.execPath(), {
    args: childArgs,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`bench/swarm: child exited with ${output.code}`);
  const result = JSON.parse(new TextDecoder().decode(output.stdout)) as SwarmBenchResult;
  const total = result.mib * result.leechers;
  console.log(
    `swarm: 1 seeder + ${result.leechers} leechers, ${result.mib} MiB, ` +
      `${result.pieceKib} KiB pieces, ${result.storage} storage, ${
        result.tracker ? "tracker" : "direct peers"
      }, one process (${result.cpuCount} CPUs), V8 flags: ${
        options.semiSpaceMib === undefined
          ? "none"
          : `--max-semi-space-size=${options.semiSpaceMib}`
      }`,
  );
  console.log(
    `  all complete in ${result.downloadSeconds.toFixed(2)} s ` +
      `(${(total / result.downloadSeconds).toFixed(0)} MiB/s delivered in total); ` +
      `prepare ${result.prepareSeconds.toFixed(2)} s, verify ${
        result.verifySeconds.toFixed(2)
      } s, ` +
      `close ${result.closeSeconds.toFixed(2)} s`,
  );
  console.log(
    `  peak RSS ${result.peakRssMiB.toFixed(0)} MiB (start ${result.startRssMiB.toFixed(0)} MiB, ` +
      `prepared ${result.preparedRssMiB.toFixed(0)} MiB; ${
        result.storage === "memory"
          ? `payload held ${result.leechers + 1}x = ${
            (result.mib * (result.leechers + 1)).toFixed(0)
          } MiB`
          : "payload on disk"
      })`,
  );
  const perConnection = result.connectionsAtPeakOverhead
    ? result.peakOverheadMiB * 1024 / result.connectionsAtPeakOverhead
    : NaN;
  console.log(
    `  memory beyond payload: peak ${
      result.peakOverheadMiB.toFixed(0)
    } MiB with ${result.connectionsAtPeakOverhead} connection ends open = ${
      perConnection.toFixed(0)
    } KiB per connection end; ` +
      `over the most ends ever open (${result.peakConnections}, dials included): ${
        (result.peakOverheadMiB * 1024 / result.peakConnections).toFixed(0)
      } KiB per end (includes each session's own overhead and uncollected garbage); ` +
      `of the peak: V8 heap +${result.heapAtPeakMiB.toFixed(0)} MiB, array buffers +${
        result.arrayBuffersAtPeakMiB.toFixed(0)
      } MiB`,
  );
  console.log(
    `  steady: worst ${result.steadyKibPerEnd.toFixed(0)} KiB per connected end ` +
      `(median ${result.steadyMedianKibPerEnd.toFixed(0)} KiB) among ${result.steadySamples} ` +
      `samples with >= 90% of the most connected ends (${result.peakConnected}); at the worst: ` +
      `${
        result.steadyOverheadMiB.toFixed(0)
      } MiB beyond payload for ${result.steadyConnected} ends ` +
      `(V8 heap used +${result.steadyHeapUsedMiB.toFixed(0)} MiB of +${
        result.steadyHeapTotalMiB.toFixed(0)
      } MiB reserved, array buffers +${result.steadyArrayBuffersMiB.toFixed(0)} MiB)`,
  );
  console.log(
    `  connection buffers (read buffers, write buffer, bytes queued for the peer; ` +
      `SessionStats.bufferedBytes) in those samples: worst ${
        result.buffersWorstKibPerEnd.toFixed(0)
      } KiB per connected end, median ${result.buffersMedianKibPerEnd.toFixed(0)} KiB`,
  );
}

if (import.meta.main) {
  const options = parse(Deno.args);
  if (options.child) {
    console.log(JSON.stringify(await measure(options)));
  } else {
    await run(Deno.args);
  }
}
