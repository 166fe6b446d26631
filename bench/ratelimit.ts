// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Rate limits against libtorrent on 127.0.0.1: the Bittern CLI downloads from an unlimited
 * libtorrent seeder with `--download-limit`, and seeds with `--upload-limit` to a libtorrent
 * leecher; each prints the average achieved over the transfer against the limit.
 *
 * - download: from the CLI's first `peer` event to its `completed` event (`--json`), the
 *   bytes it reports downloaded.
 * - seeding: libtorrent's own time from its first peer to finished.
 *
 * Run: `deno task bench ratelimit [--mib N] [--limit RATE]` (default 128 MiB at 8M).
 */
import { join } from "node:path";
import { parseRate } from "../cli/args.ts";
import { hasLibtorrent } from "../tests/interop/lt_process.ts";
import { fixture, libtorrentLeech, libtorrentSeeder } from "./download.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const MIB = 1024 * 1024;

/** `deno run` arguments for the Bittern CLI with loopback-only permissions. */
function cli(args: string[]): string[] {
  return [
    "run",
    `--config=${CONFIG}`,
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-write",
    CLI,
    ...args,
  ];
}

/** Lines of a child's stdout as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
}

/** Bytes per second of a CLI download limited to `limit` from a seeder at `port`. */
async function limitedDownload(torrentPath: string, port: number, limit: string): Promise<number> {
  const out = await Deno.makeTempDir();
  try {
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: cli([
        "download",
        torrentPath,
        "--out",
        out,
        "--peer",
        `127.0.0.1:${port}`,
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dht",
        "--download-limit",
        limit,
        "--json",
      ]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`download failed: ${new TextDecoder().decode(stderr)}`);
    const events = new TextDecoder().decode(stdout).trim().split("\n").map((line) =>
      JSON.parse(line)
    );
    const firstPeer = events.find((event) =>
      event.event === "peer" && event.action === "connected"
    );
    const completed = events.find((event) => event.event === "completed");
    const seconds = (Date.parse(completed.time) - Date.parse(firstPeer.time)) / 1000;
    return completed.downloaded / seconds;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Bytes per second a libtorrent leecher gets from the CLI seeding with `--upload-limit`. */
async function limitedSeed(
  torrentPath: string,
  dataDir: string,
  bytes: number,
  limit: string,
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: cli([
      "seed",
      torrentPath,
      "--data",
      dataDir,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--no-dht",
      "--connections-per-ip",
      "8",
      "--upload-limit",
      limit,
    ]),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    let port = 0;
    const output = lines(child.stdout);
    for await (const line of output) {
      const match = / on port (\d+):/.exec(line);
      if (match) {
        port = Number(match[1]);
        break;
      }
    }
    if (!port) throw new Error("the seed command did not say its port");
    // Keep draining its output so it never blocks on a full pipe.
    const drained = (async () => {
      for await (const _ of output);
    })();
    const { seconds } = await libtorrentLeech(torrentPath, port, false, "transfer");
    child.kill("SIGINT");
    await drained;
    return bytes / seconds;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited already */ }
    await child.status;
  }
}

function line(label: string, achieved: number, limit: number): string {
  const off = ((achieved / limit - 1) * 100).toFixed(1);
  return `${label.padEnd(48)} ${(achieved / MIB).toFixed(2).padStart(7)} MiB/s   limit ${
    (limit / MIB).toFixed(2)
  } MiB/s   ${off.startsWith("-") ? off : `+${off}`}%`;
}

/** Runs the rate-limit benchmark; options `--mib N` (default 128), `--limit RATE` (8M). */
export async function run(options: string[] = []): Promise<void> {
  const option = (name: string) => {
    const at = options.indexOf(name);
    return at >= 0 ? options[at + 1] : undefined;
  };
  const mib = Number(option("--mib") ?? 128);
  const limitText = option("--limit") ?? "8M";
  const limit = parseRate(limitText);
  if (!limit || !(mib > 0)) throw new Error(`ratelimit: bad --mib ${mib} or --limit ${limitText}`);
  console.log(`\n## rate limits, ${mib} MiB, --download-limit/--upload-limit ${limitText}`);
  if (!await hasLibtorrent()) {
    return console.log(
      "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)",
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    const { torrentPath } = await fixture(dir, mib);
    const seeder = await libtorrentSeeder(torrentPath, dir);
    try {
      const achieved = await limitedDownload(torrentPath, seeder.port, limitText);
      console.log(line("CLI download from an unlimited libtorrent seeder", achieved, limit));
    } finally {
      await seeder.close();
    }
    const achieved = await limitedSeed(torrentPath, join(dir, "data"), mib * MIB, limitText);
    console.log(line("CLI seed to a libtorrent leecher", achieved, limit));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Deno.args);
