/**
 * The Bittern side of bench/seeder_memory.ts, in a process of its own so its RSS is the
 * seeder's alone: seeds `<torrent>` from `<dir>` (filesystem storage) on 127.0.0.1:0,
 * prints `{"event":"listening","port":N}` once the data is checked, and runs until stdin
 * closes.
 *
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write bench/seeder_memory_child.ts <torrent> <dir>`
 */
import { FileSystemStorage, Runtime } from "../mod.ts";

// Every hostile peer is 127.0.0.1: allow many connections per IP.
const LOOPBACK = { maxConnectionsPerIp: 100 } as const;

const MiB = 1024 * 1024;
const [torrentPath, dir] = Deno.args;
const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 }, ...LOOPBACK });
try {
  const session = await runtime.add(await Deno.readFile(torrentPath), {
    storage: new FileSystemStorage(dir),
  });
  if (session.stats().progress < 1) {
    throw new Error("seeder_memory_child: the data is not complete");
  }
  // deno-lint-ignore no-console -- the parent reads this line
  console.log(JSON.stringify({ event: "listening", port: runtime.port }));
  // Where the memory goes (MiB): the parent prints the peaks next to the RSS it measured.
  const start = Deno.memoryUsage();
  const peak = { heap: start.heapUsed / MiB, external: start.external / MiB, rss: start.rss / MiB };
  const sampler = setInterval(() => {
    const usage = Deno.memoryUsage();
    peak.heap = Math.max(peak.heap, usage.heapUsed / MiB);
    peak.external = Math.max(peak.external, usage.external / MiB);
    peak.rss = Math.max(peak.rss, usage.rss / MiB);
  }, 250);
  for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
  clearInterval(sampler);
  // deno-lint-ignore no-console -- the parent reads this line
  console.log(JSON.stringify({
    event: "stopping",
    running: session.running,
    peak,
    start: { heap: start.heapUsed / MiB, external: start.external / MiB, rss: start.rss / MiB },
  }));
} finally {
  await runtime.close();
}
