// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Swarm stress: 1 seeder and 20 leechers share a 64 MiB payload (256 KiB pieces, 4 files),
 * memory storage, peers told about each other directly, all in one process on 127.0.0.1.
 * Prints the wall time from start to every leecher complete, the aggregate rate, and the
 * peak RSS (sampled every 100 ms from before the payload is generated to the end).
 *
 * The measurement runs in a child process so earlier benchmarks' garbage does not count
 * in its RSS. Not a timed test: nothing fails on slowness.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/swarm.ts
 * (`--leechers N --mib M --piece-kib K --tracker` change the shape.)
 */
import { parseArgs } from "node:util";
import { createSwarm } from "../src/testing/mod.ts";

const MiB = 1024 * 1024;

interface SwarmBenchOptions {
  leechers: number;
  mib: number;
  pieceKib: number;
  tracker: boolean;
}

interface SwarmBenchResult extends SwarmBenchOptions {
  prepareSeconds: number;
  downloadSeconds: number;
  verifySeconds: number;
  closeSeconds: number;
  peakRssMiB: number;
  startRssMiB: number;
  cpuCount: number;
}

/** Runs one swarm in this process and measures it. */
async function measure(options: SwarmBenchOptions): Promise<SwarmBenchResult> {
  const startRss = Deno.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  }, 100);
  try {
    const began = performance.now();
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: options.leechers,
      payload: { size: options.mib * MiB, files: 4, pieceLength: options.pieceKib * 1024, seed: 7 },
      storage: "memory",
      tracker: options.tracker,
      timeoutMs: 600_000,
    });
    const prepared = performance.now();
    await swarm.start();
    await swarm.allComplete();
    const downloaded = performance.now();
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    await swarm.verifyPayload();
    const verified = performance.now();
    await swarm.close();
    const closed = performance.now();
    return {
      ...options,
      prepareSeconds: (prepared - began) / 1000,
      downloadSeconds: (downloaded - prepared) / 1000,
      verifySeconds: (verified - downloaded) / 1000,
      closeSeconds: (closed - verified) / 1000,
      peakRssMiB: peakRss / MiB,
      startRssMiB: startRss / MiB,
      cpuCount: navigator.hardwareConcurrency,
    };
  } finally {
    clearInterval(sampler);
  }
}

function parse(args: string[]): SwarmBenchOptions & { child: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      leechers: { type: "string", default: "20" },
      mib: { type: "string", default: "64" },
      "piece-kib": { type: "string", default: "256" },
      tracker: { type: "boolean", default: false },
      child: { type: "boolean", default: false },
    },
  });
  return {
    leechers: Number(values.leechers),
    mib: Number(values.mib),
    pieceKib: Number(values["piece-kib"]),
    tracker: values.tracker,
    child: values.child,
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
    import.meta.filename ?? new URL(import.meta.url).pathname,
    "--child",
    `--leechers=${options.leechers}`,
    `--mib=${options.mib}`,
    `--piece-kib=${options.pieceKib}`,
    ...(options.tracker ? ["--tracker"] : []),
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
      `${result.pieceKib} KiB pieces, memory storage, ${
        result.tracker ? "tracker" : "direct peers"
      }, one process (${result.cpuCount} CPUs)`,
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
    `  peak RSS ${result.peakRssMiB.toFixed(0)} MiB (start ${result.startRssMiB.toFixed(0)} MiB; ` +
      `payload held ${result.leechers + 1}x = ${
        (result.mib * (result.leechers + 1)).toFixed(0)
      } MiB)`,
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
