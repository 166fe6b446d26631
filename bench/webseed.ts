// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Web seeds: download time of one torrent from an nginx web seed alone, from a rate-limited
 * libtorrent seeder alone, and from both together (the web seed mixing with a peer).
 *
 * Options: `--size MiB` (default 64), `--lt-rate BYTES_PER_S` (libtorrent's upload limit,
 * default 4 MiB/s), `--web-rate R` (nginx `limit_rate` per response, e.g. `1m`; Bittern keeps
 * 3 requests in flight; default `1m`, `0` for none).
 *
 * Run: `deno task bench webseed [--size 64 --lt-rate 4194304 --web-rate 1m]`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type PeerAddress, Runtime } from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";
import { hasNginx, NGINX_MISSING, startNginx } from "../tests/interop/nginx_process.ts";
import { fixture } from "./download.ts";

async function timeDownload(
  bytes: Uint8Array,
  options: { webSeeds?: string[]; peers?: PeerAddress[] },
): Promise<number> {
  const out = await Deno.makeTempDir({ prefix: "bittern-webseed-bench-" });
  const runtime = new Runtime({ listen: false, maxConnectionsPerIp: 64 });
  try {
    const started = performance.now();
    const session = await runtime.add(bytes, { out, trackers: false, seed: false, ...options });
    await session.completed;
    return (performance.now() - started) / 1000;
  } finally {
    await runtime.close();
    await Deno.remove(out, { recursive: true });
  }
}

/** Runs the benchmark with command-line style `args`. */
export async function run(args: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "64" },
      "lt-rate": { type: "string", default: String(4 * 1024 * 1024) },
      "web-rate": { type: "string", default: "1m" },
    },
  });
  const mib = Number(values.size);
  const ltRate = Number(values["lt-rate"]);
  const webRate = values["web-rate"] === "0" ? undefined : values["web-rate"];
  console.log(
    `\n## web seed, ${mib} MiB, 256 KiB pieces: nginx (limit_rate ${webRate ?? "none"} per ` +
      `response) and libtorrent (upload limit ${(ltRate / 1048576).toFixed(1)} MiB/s)`,
  );
  if (!hasNginx()) return console.log(NGINX_MISSING);
  if (!await hasLibtorrent()) {
    return console.log("skipped: /usr/bin/python3 cannot import libtorrent");
  }
  const dir = await Deno.makeTempDir({ prefix: "bittern-webseed-bench-" });
  try {
    const { torrentPath, bytes } = await fixture(dir, mib);
    await using server = await startNginx(join(dir, "data"), { limitRate: webRate });
    const seeder = await LtPeer.start([
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      join(dir, "data"),
      "--upload-limit",
      String(ltRate),
    ]);
    try {
      const webSeeds = [server.url];
      const peers = [{ host: "127.0.0.1", port: seeder.port }];
      const rows: [string, number][] = [
        ["web seed alone", await timeDownload(bytes, { webSeeds })],
        ["libtorrent seeder alone", await timeDownload(bytes, { peers })],
        ["web seed + libtorrent seeder", await timeDownload(bytes, { webSeeds, peers })],
      ];
      for (const [label, seconds] of rows) {
        console.log(
          `${label.padEnd(30)} ${seconds.toFixed(1).padStart(6)} s  ` +
            `${(mib / seconds).toFixed(1).padStart(6)} MiB/s`,
        );
      }
    } finally {
      await seeder.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Deno.args);
