// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Streaming latency: `bittern stream` (a fresh CLI process) downloads a large file from a
 * rate-limited libtorrent seeder on 127.0.0.1 and serves it over HTTP meanwhile. Once the
 * download is under way (its first piece verified: libtorrent drops connections that come
 * before its seed-mode torrent is ready, and the redial takes seconds), range requests at
 * 80% of the file, at its start and at its middle (1 MiB each, one after another) report
 * time to first byte and to the whole range; the total download time is the baseline
 * (what a reader would wait without streaming).
 *
 * Run: `deno task bench stream [--mib N] [--rate MiB_PER_S]` (default 64 MiB at 4 MiB/s).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { streamCli } from "../tests/cli/helpers.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";
import { fixture } from "./download.ts";

const SKIPPED =
  "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)";
const MiB = 1 << 20;
const RANGE_BYTES = MiB;

/** JSON lines of a given event. */
function isEvent(name: string): (line: string) => boolean {
  return (line) => line.startsWith("{") && JSON.parse(line).event === name;
}

/** Times one range request: to its first body byte and to its end. */
async function timeRange(
  url: string,
  start: number,
): Promise<{ firstByteMs: number; totalMs: number; bytes: number }> {
  const began = performance.now();
  const response = await fetch(url, {
    headers: { range: `bytes=${start}-${start + RANGE_BYTES - 1}` },
    signal: AbortSignal.timeout(300_000),
  });
  if (response.status !== 206) throw new Error(`expected 206, got ${response.status}`);
  let firstByteMs = 0;
  let bytes = 0;
  for await (const chunk of response.body!) {
    if (bytes === 0) firstByteMs = performance.now() - began;
    bytes += chunk.length;
  }
  return { firstByteMs, totalMs: performance.now() - began, bytes };
}

/** Runs the streaming benchmark with `args` (`--mib`, `--rate`). */
export async function run(args: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { mib: { type: "string" }, rate: { type: "string" } },
    strict: false,
  });
  const mib = Number(values.mib ?? 64);
  const rate = Number(values.rate ?? 4);
  console.log(`stream: bittern stream, ${mib} MiB file from libtorrent at ${rate} MiB/s`);
  if (!(await hasLibtorrent())) return console.log(`  ${SKIPPED}`);
  const dir = await Deno.makeTempDir({ prefix: "bittern-bench-stream-" });
  let seeder: LtPeer | undefined;
  try {
    const { torrentPath } = await fixture(dir, mib);
    seeder = await LtPeer.start([
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      join(dir, "data"),
      "--upload-limit",
      String(rate * MiB),
      "--plain",
    ]);
    const out = join(dir, "out");
    const started = performance.now();
    await using child = streamCli(dir, torrentPath, out, seeder.port);
    const { url } = JSON.parse(await child.waitForLine(isEvent("http")));
    const serving = performance.now();
    await child.waitForLine(isEvent("piece-verified"), 120_000);
    console.log(
      `  first piece verified ${((performance.now() - serving) / 1000).toFixed(1)} s after` +
        ` the server was up`,
    );
    const size = mib * MiB;
    const rows: [string, number][] = [
      ["80%", Math.floor(size * 0.8)],
      ["start", 0],
      ["middle", Math.floor(size / 2)],
    ];
    for (const [label, start] of rows) {
      const timing = await timeRange(`${url}0`, start);
      console.log(
        `  range at ${label.padEnd(6)} (1 MiB): first byte ${timing.firstByteMs.toFixed(0)} ms,` +
          ` whole range ${timing.totalMs.toFixed(0)} ms`,
      );
    }
    await child.waitForLine(isEvent("completed"), 600_000);
    const done = performance.now();
    console.log(
      `  whole download: ${((done - serving) / 1000).toFixed(1)} s after the server was up` +
        ` (${((done - started) / 1000).toFixed(1)} s after the process started;` +
        ` ${(mib / rate).toFixed(1)} s at the seeder's rate)`,
    );
    child.kill("SIGINT");
    await child.exit();
  } finally {
    await seeder?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Deno.args);
