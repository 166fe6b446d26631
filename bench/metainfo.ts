// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Metainfo benchmarks, each against a baseline measured in the same run:
 * - `parseTorrent` on a 20,000-file metainfo vs npm `parse-torrent@11`;
 * - `createTorrent` on a 1 GiB file vs `openssl sha1` over the same file.
 *
 * Run: `deno run --allow-read --allow-write --allow-run --allow-env bench/metainfo.ts [--create-mib N]`
 * (or set BITTERN_BENCH_CREATE_MIB). The temporary data file is always removed.
 */
// deno-lint-ignore no-import-prefix -- bench-only: kept out of the root import map
import npmParseTorrent from "npm:parse-torrent@11";
import { encode } from "../src/bencode/mod.ts";
import { createTorrent, parseTorrent } from "../src/metainfo/mod.ts";
import { mibPerSecond, report, seededBytes } from "./util.ts";

const DEFAULT_CREATE_MIB = 1024;

/** A valid metainfo with `count` files (piece hashes match the total length). */
export function generatedTorrent(count: number): Uint8Array {
  const files = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = 1000 + i * 37;
    total += length;
    files.push({
      length,
      path: [`directory-${i % 97}`, `subdirectory-${i % 13}`, `a-longer-file-name-number-${i}.dat`],
    });
  }
  const pieceLength = 262144;
  return encode({
    announce: "http://127.0.0.1:6969/announce",
    "announce-list": [["http://127.0.0.1:6969/announce"], ["http://127.0.0.1:6970/announce"]],
    "creation date": 1764000000,
    info: {
      files,
      name: "generated",
      "piece length": pieceLength,
      pieces: seededBytes(Math.ceil(total / pieceLength) * 20, 1),
    },
  });
}

/** Seconds for one call of `fn`. */
async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * Best seconds per call of each contender, alternating them call by call so
 * that load from other processes hits both alike.
 */
async function bestOfAlternating(
  contenders: (() => unknown)[],
  rounds: number,
): Promise<number[]> {
  const best = contenders.map(() => Infinity);
  for (const fn of contenders) await fn(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      best[i] = Math.min(best[i], await timeOnce(contenders[i]));
    }
  }
  return best;
}

async function benchParse(): Promise<void> {
  const bytes = generatedTorrent(20_000);
  const ours = parseTorrent(bytes);
  const theirs = await npmParseTorrent(bytes);
  if (ours.infoHashHex !== theirs.infoHash || ours.files.length !== theirs.files.length) {
    throw new Error("parse-torrent and parseTorrent disagree on the generated torrent");
  }
  const [oursSeconds, theirsSeconds] = await bestOfAlternating(
    [() => parseTorrent(bytes), () => npmParseTorrent(bytes)],
    15,
  );
  const size = `(${(bytes.length / 1024 / 1024).toFixed(2)} MiB)`;
  report(
    `parseTorrent, 20,000 files ${size}`,
    mibPerSecond(bytes.length, oursSeconds),
    mibPerSecond(bytes.length, theirsSeconds),
    "parse-torrent",
  );
  console.log(
    `  best parse: bittern ${(oursSeconds * 1000).toFixed(1)} ms, ` +
      `parse-torrent ${(theirsSeconds * 1000).toFixed(1)} ms`,
  );
}

function createSizeMib(): number {
  const index = Deno.args.indexOf("--create-mib");
  if (index >= 0) return Number(Deno.args[index + 1]);
  const env = Deno.permissions.querySync({ name: "env", variable: "BITTERN_BENCH_CREATE_MIB" });
  const fromEnv = env.state === "granted" ? Deno.env.get("BITTERN_BENCH_CREATE_MIB") : undefined;
  return fromEnv ? Number(fromEnv) : DEFAULT_CREATE_MIB;
}

async function writeDataFile(path: string, mib: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = seededBytes(1024 * 1024, 2);
  for (let i = 0; i < mib; i++) {
    chunk[0] = i & 0xff; // no two MiB alike
    let written = 0;
    while (written < chunk.length) written += await file.write(chunk.subarray(written));
  }
}

async function openssl(path: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args: ["sha1", path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl sha1 failed: ${new TextDecoder().decode(stderr)}`);
}

async function benchCreate(): Promise<void> {
  const mib = createSizeMib();
  if (!(mib > 0)) throw new Error(`bad create size: ${mib} MiB`);
  const dir = await Deno.makeTempDir({ prefix: "bittern-bench-" });
  try {
    const path = `${dir}/data.bin`;
    await writeDataFile(path, mib);
    // The warm-up run also fills the page cache; then the best of three alternating runs.
    const [ours, theirs] = await bestOfAlternating(
      [() => createTorrent(path), () => openssl(path)],
      3,
    );
    const bytes = mib * 1024 * 1024;
    report(
      `createTorrent, one ${mib} MiB file`,
      mibPerSecond(bytes, ours),
      mibPerSecond(bytes, theirs),
      "openssl sha1",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the metainfo benchmarks and prints MiB/s and ratios. */
export async function run(): Promise<void> {
  console.log("\n## metainfo (vs npm parse-torrent@11, openssl sha1)");
  await benchParse();
  await benchCreate();
}

if (import.meta.main) await run();
