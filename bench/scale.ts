// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Scale: one runtime seeding 50 torrents to 4 leecher runtimes (200
 * connections), all in this process. Prints wall time, CPU time, peak RSS
 * and the worst event-loop delay seen while it ran (responsiveness).
 *
 * Run: `deno task bench scale` or `deno run --allow-net=127.0.0.1 bench/scale.ts`.
 */
import process from "node:process";
import { createTorrent, MemoryStorage, Runtime } from "../mod.ts";
import { seededMemory } from "../tests/session/helpers.ts";
import { seededBytes } from "./util.ts";

/** Runs the scale benchmark: `torrents` torrents of `mib` MiB to `leechers` runtimes. */
export async function run(torrents = 50, leechers = 4, mib = 2): Promise<void> {
  console.log(
    `\n## scale: 1 runtime seeding ${torrents} torrents x ${mib} MiB to ${leechers} runtimes (${
      torrents * leechers
    } connections)`,
  );
  const listen = { hostname: "127.0.0.1", port: 0 };
  // Every connection comes from 127.0.0.1: the seeder takes them all at once.
  const seeder = new Runtime({
    maxConnectionsPerIp: torrents * leechers,
    listen,
    maxConnections: torrents * leechers + 10,
  });
  const clients = Array.from(
    { length: leechers },
    () => new Runtime({ maxConnectionsPerIp: 64, listen: false }),
  );
  let worstLagMs = 0;
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    worstLagMs = Math.max(worstLagMs, now - last - 50);
    last = now;
  }, 50);
  let peakRss = 0;
  const rssTimer = setInterval(() => peakRss = Math.max(peakRss, Deno.memoryUsage().rss), 100);
  try {
    const made = [];
    for (let i = 0; i < torrents; i++) {
      const data = seededBytes(mib * 1024 * 1024, i + 1);
      const { torrent } = await createTorrent({ name: `t${i}.bin`, data }, { pieceLength: 65536 });
      await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
      made.push(torrent);
    }
    worstLagMs = 0;
    last = performance.now();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const sessions = [];
    for (const client of clients) {
      for (const torrent of made) {
        sessions.push(
          await client.add(torrent, {
            storage: new MemoryStorage(),
            seed: false,
            peers: [{ host: "127.0.0.1", port: seeder.port! }],
          }),
        );
      }
    }
    await Promise.all(sessions.map((session) => session.completed));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(
      `all ${sessions.length} downloads complete in ${seconds.toFixed(2)} s; ` +
        `CPU ${(cpu.user / 1e6).toFixed(2)} s user + ${(cpu.system / 1e6).toFixed(2)} s system; ` +
        `peak RSS ${(peakRss / 1048576).toFixed(0)} MiB; worst event-loop delay ${
          worstLagMs.toFixed(0)
        } ms`,
    );
  } finally {
    clearInterval(lagTimer);
    clearInterval(rssTimer);
    await Promise.all([seeder.close(), ...clients.map((client) => client.close())]);
  }
}

if (import.meta.main) await run();
