// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Download and seeding throughput against libtorrent on 127.0.0.1, in one run:
 *
 * - download: a libtorrent seeder serves a generated torrent; a libtorrent
 *   leecher and then Bittern each download it; MiB/s and Bittern's ratio.
 * - seeding: a libtorrent leecher downloads from a Bittern seeder, compared
 *   with the same leecher from the libtorrent seeder.
 *
 * Run: `deno task bench` or
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/download.ts [MiB]`.
 */
import { join } from "node:path";
import { createTorrent, FileSystemStorage, Runtime } from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";

/** Samples the resident set size while running, keeping the peak (MiB). */
export class RssSampler {
  #peak = 0;
  readonly #timer = setInterval(() => this.sample(), 100);

  /** Takes one sample now. */
  sample(): void {
    this.#peak = Math.max(this.#peak, Deno.memoryUsage().rss / 1024 / 1024);
  }

  /** Stops sampling and returns the peak in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.#peak;
  }
}

async function writePayload(path: string, bytes: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1 << 20);
    let x = 12345;
    for (let written = 0; written < bytes; written += chunk.length) {
      for (let i = 0; i < chunk.length; i += 4) {
        x = (x * 1103515245 + 12345) >>> 0;
        chunk[i] = x;
        chunk[i + 1] = x >>> 8;
        chunk[i + 2] = x >>> 16;
        chunk[i + 3] = x >>> 24;
      }
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
      let offset = 0;
      while (offset < part.length) offset += await file.write(part.subarray(offset));
    }
  } finally {
    file.close();
  }
}

async function libtorrentLeech(torrentPath: string, seederPort: number): Promise<number> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const leecher = await LtPeer.start([
    "leech",
    "--torrent",
    torrentPath,
    "--out",
    out,
    "--peer",
    `127.0.0.1:${seederPort}`,
  ]);
  try {
    await leecher.waitFor((event) => event.event === "finished", 600_000);
    return (performance.now() - started) / 1000;
  } finally {
    await leecher.close();
    await Deno.remove(out, { recursive: true });
  }
}

/** Runs the download and seeding benchmarks with a payload of `mib` MiB. */
export async function run(mib = 256): Promise<void> {
  console.log(`\n## download and seed, ${mib} MiB, 256 KiB pieces (vs libtorrent, same run)`);
  if (!await hasLibtorrent()) {
    console.log(
      "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)",
    );
    return;
  }
  const dir = await Deno.makeTempDir();
  const size = mib * 1024 * 1024;
  try {
    await Deno.mkdir(join(dir, "data"));
    await writePayload(join(dir, "data", "payload.bin"), size);
    const { bytes } = await createTorrent(join(dir, "data", "payload.bin"), {
      pieceLength: 262144,
    });
    const torrentPath = join(dir, "payload.torrent");
    await Deno.writeFile(torrentPath, bytes);

    const seeder = await LtPeer.start([
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      join(dir, "data"),
    ]);
    let ltSeconds: number;
    let peakRss = 0;
    let ourSeconds: number;
    try {
      ltSeconds = await libtorrentLeech(torrentPath, seeder.port);
      const out = await Deno.makeTempDir();
      const runtime = new Runtime({ listen: false });
      const rss = new RssSampler();
      try {
        const started = performance.now();
        const session = await runtime.add(bytes, {
          out,
          restore: "none",
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        await session.completed;
        ourSeconds = (performance.now() - started) / 1000;
        peakRss = rss.stop();
      } finally {
        rss.stop();
        await runtime.close();
        await Deno.remove(out, { recursive: true });
      }
    } finally {
      await seeder.close();
    }
    const rate = (seconds: number) => mib / seconds;
    console.log(
      `download from libtorrent seeder     bittern ${
        rate(ourSeconds).toFixed(1).padStart(7)
      } MiB/s` +
        `   libtorrent ${rate(ltSeconds).toFixed(1).padStart(7)} MiB/s   ratio ${
          (ltSeconds / ourSeconds).toFixed(2)
        }x`,
    );

    const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
    let ourSeedSeconds: number;
    try {
      await runtime.add(bytes, { storage: new FileSystemStorage(join(dir, "data")) });
      ourSeedSeconds = await libtorrentLeech(torrentPath, runtime.port!);
    } finally {
      await runtime.close();
    }
    console.log(
      `seed to libtorrent leecher          bittern ${
        rate(ourSeedSeconds).toFixed(1).padStart(7)
      } MiB/s` +
        `   libtorrent ${rate(ltSeconds).toFixed(1).padStart(7)} MiB/s   ratio ${
          (ltSeconds / ourSeedSeconds).toFixed(2)
        }x`,
    );
    console.log(`peak RSS while downloading: ${peakRss.toFixed(0)} MiB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Number(Deno.args[0] ?? 256));
