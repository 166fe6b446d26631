// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Time to first piece from a magnet link, against a libtorrent seeder on 127.0.0.1:
 * `bittern download '<magnet>'` (the CLI, a fresh process) vs a libtorrent client given the
 * same bare magnet and `connect_peer` (lt_peer.py, a fresh process), alternating, in one run.
 * Each is timed from spawning the process to its first verified piece (the CLI's first
 * `piece-verified` JSON line; lt_peer.py's `first-piece` event, polled every 5 ms): process
 * start, connecting, the metadata (BEP 9), then one 256 KiB piece.
 *
 * Run: `deno task bench magnet` or
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/magnet.ts [rounds]`.
 */
import { join } from "node:path";
import { formatMagnet, fromHex, parseTorrent } from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";
import { fixture } from "./download.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SKIPPED =
  "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)";

/** Milliseconds from spawning `bittern download <magnet>` to its first verified piece. */
export async function bitternFirstPiece(magnet: string): Promise<number> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${CONFIG}`,
      "--allow-net=127.0.0.1",
      `--allow-write=${out}`,
      CLI,
      "download",
      magnet,
      "--out",
      out,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let elapsed: number | undefined;
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream());
    let buffer = "";
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    for await (const chunk of lines) {
      buffer += chunk;
      if (elapsed === undefined && buffer.includes('"event":"piece-verified"')) {
        elapsed = performance.now() - started;
        child.kill("SIGKILL");
      }
    }
    clearTimeout(deadline);
  } finally {
    await child.status;
    await Deno.remove(out, { recursive: true });
  }
  if (elapsed === undefined) throw new Error(`bittern never verified a piece: ${await stderr}`);
  await stderr;
  return elapsed;
}

/** Milliseconds from spawning a libtorrent client on the magnet to its first verified piece. */
export async function libtorrentFirstPiece(magnet: string, port: number): Promise<number> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const leecher = await LtPeer.leech(magnet, out, port, ["--plain", "--poll", "0.005"]);
  try {
    await leecher.waitFor((event) => event.event === "first-piece", 60_000);
    return performance.now() - started;
  } finally {
    await leecher.close();
    await Deno.remove(out, { recursive: true });
  }
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs the benchmark: `rounds` of each client, alternating. */
export async function run(rounds = 5): Promise<void> {
  console.log(
    `\n## magnet: time to first piece from a libtorrent seeder (vs libtorrent, same run)`,
  );
  if (!await hasLibtorrent()) return console.log(SKIPPED);
  const dir = await Deno.makeTempDir();
  try {
    const { torrentPath, bytes } = await fixture(dir, 64);
    const torrent = parseTorrent(bytes);
    const seeder = await LtPeer.start([
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      join(dir, "data"),
    ]);
    try {
      const bare = formatMagnet({ infoHash: fromHex(torrent.infoHashHex)! });
      const withPeer = formatMagnet({
        infoHash: torrent.infoHash,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      // Not timed: the first run type-checks and caches the CLI's modules.
      await bitternFirstPiece(withPeer);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        ours.push(await bitternFirstPiece(withPeer));
        theirs.push(await libtorrentFirstPiece(bare, seeder.port));
      }
      const show = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(", ");
      console.log(`bittern download '<magnet>'   ms: ${show(ours)}`);
      console.log(`libtorrent (magnet + peer)   ms: ${show(theirs)}`);
      console.log(
        `median: bittern ${median(ours).toFixed(0)} ms, libtorrent ${
          median(theirs).toFixed(0)
        } ms, ratio ${(median(ours) / median(theirs)).toFixed(2)}x (lower is faster)`,
      );
    } finally {
      await seeder.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Number(Deno.args[0] ?? 5));
