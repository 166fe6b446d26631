// deno-lint-ignore-file no-console -- the demo's output is its purpose
/**
 * `deno task demo`: a real download across a localhost swarm.
 *
 * Creates a payload in a temporary directory, starts the built-in tracker
 * and a seeder, then downloads through the same code path as
 * `bittern download` (with its live progress display), verifies the bytes,
 * and cleans up. Exits non-zero if anything failed.
 *
 * Flags: `--size MiB` (default 64), `--leechers N` (default 1; the others
 * run in the background), `--selector sequential|rarest|random-rarest`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTorrent, FileSystemStorage, MemoryStorage, Runtime, TrackerServer } from "./mod.ts";
import { main as download } from "./cli/download.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "64" },
    leechers: { type: "string", default: "1" },
    selector: { type: "string", default: "rarest" },
  },
});
const sizeMiB = Number(values.size);
const leechers = Number(values.leechers);
if (
  !(sizeMiB > 0 && sizeMiB <= 4096) ||
  !(Number.isInteger(leechers) && leechers >= 1 && leechers <= 50)
) {
  console.error("demo: --size expects 1..4096 (MiB), --leechers 1..50");
  Deno.exit(2);
}

/** Deterministic payload, written in 1 MiB chunks (never the whole file in memory). */
async function writePayload(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1 << 20);
  let x = 20261126;
  for (let written = 0; written < bytes; written += chunk.length) {
    for (let i = 0; i < chunk.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      chunk[i] = x >>> 24;
    }
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    for (let offset = 0; offset < part.length;) offset += await file.write(part.subarray(offset));
  }
}

/** Compares two files chunk by chunk. */
async function sameContent(a: string, b: string): Promise<boolean> {
  using fileA = await Deno.open(a);
  using fileB = await Deno.open(b);
  const bufA = new Uint8Array(1 << 20);
  const bufB = new Uint8Array(1 << 20);
  for (;;) {
    const [readA, readB] = [await fileA.read(bufA), await fileB.read(bufB)];
    if (readA !== readB) return false;
    if (readA === null) return true;
    for (let i = 0; i < readA; i++) if (bufA[i] !== bufB[i]) return false;
  }
}

const dir = await Deno.makeTempDir({ prefix: "bittern-demo-" });
const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 5 });
const runtimes: Runtime[] = [];
let exitCode = 1;
try {
  const seedDir = join(dir, "seed");
  const outDir = join(dir, "download");
  await Deno.mkdir(seedDir);
  const payloadPath = join(seedDir, "demo-payload.bin");
  console.log(`demo: writing a ${sizeMiB} MiB payload in ${dir}`);
  await writePayload(payloadPath, sizeMiB * 1024 * 1024);
  await tracker.start();
  const { bytes, torrent } = await createTorrent(payloadPath, { announce: [tracker.url] });
  const torrentPath = join(dir, "demo.torrent");
  await Deno.writeFile(torrentPath, bytes);
  console.log(
    `demo: torrent ${torrent.infoHashHex}, ${torrent.pieceCount} pieces; tracker ${tracker.url}`,
  );

  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  runtimes.push(seeder);
  await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
  console.log(`demo: seeder on 127.0.0.1:${seeder.port}`);
  const background = [];
  for (let i = 1; i < leechers; i++) {
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    runtimes.push(runtime);
    const session = await runtime.add(torrent, { storage: new MemoryStorage(), seed: true });
    background.push(session.completed);
  }
  if (leechers > 1) console.log(`demo: ${leechers - 1} more leecher(s) in the background`);

  console.log(`demo: bittern download ${torrentPath} --out ${outDir}\n`);
  const code = await download([
    torrentPath,
    "--out",
    outDir,
    "--bind",
    "127.0.0.1",
    "--port",
    "0",
    "--selector",
    values.selector,
  ]);
  if (code !== 0) throw new Error(`download exited with ${code}`);
  if (!await sameContent(payloadPath, join(outDir, "demo-payload.bin"))) {
    throw new Error("the downloaded file differs from the payload");
  }
  await Promise.all(background);
  console.log(
    `demo: verified ${sizeMiB} MiB byte for byte${
      leechers > 1 ? `; all ${leechers} leechers complete` : ""
    }`,
  );
  exitCode = 0;
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
} finally {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await tracker.close();
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(exitCode);
