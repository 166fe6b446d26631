// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Metainfo benchmarks, each against a baseline measured in the same run:
 * - `parseTorrent` on a 20,000-file metainfo vs npm `parse-torrent@11`;
 * - `parseTorrent` on the same files as a hybrid (v1 + BEP 52 file tree, every piece
 *   layer checked against its merkle root) vs the v1-only parse, and a v2-only 16 GiB file
 *   (a 2 MiB piece layer to hash up to its root) vs the same single-file v1 parse;
 * - `createTorrent` on a 1 GiB file vs `openssl sha1` over the same file.
 *
 * Run: `deno run --allow-read --allow-write --allow-run --allow-env bench/metainfo.ts [--create-mib N]`
 * (or set BITTERN_BENCH_CREATE_MIB). The temporary data file is always removed.
 */
// deno-lint-ignore no-import-prefix -- bench-only: kept out of the root import map
import npmParseTorrent from "npm:parse-torrent@11";
import { encode } from "../src/bencode/mod.ts";
import { createTorrent, parseTorrent, pieceLayerRoot } from "../src/metainfo/mod.ts";
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

/** A file of a generated v2 torrent: synthetic piece hashes, their real merkle root. */
function v2File(length: number, pieceLength: number, seed: number) {
  const count = Math.ceil(length / pieceLength);
  const layer = seededBytes(count * 32, seed);
  const hashes = Array.from({ length: count }, (_, i) => layer.subarray(i * 32, i * 32 + 32));
  const root = count === 1 ? layer : pieceLayerRoot(hashes, pieceLength);
  return { root, layer: count > 1 ? layer : undefined };
}

/**
 * A hybrid (or, with `v1: false`, v2-only) metainfo over `lengths` (one file each, under
 * one directory unless there is a single file), pieces of `pieceLength`, every piece layer.
 */
export function generatedV2Torrent(
  lengths: readonly number[],
  pieceLength: number,
  v1: boolean,
): Uint8Array {
  const tree = new Map<string, Map<string, Map<string, number | Uint8Array>>>();
  const layers = new Map<Uint8Array, Uint8Array>();
  const files: { length: number; path: string[]; attr?: string }[] = [];
  let total = 0;
  lengths.forEach((length, i) => {
    const name = `file-${String(i).padStart(6, "0")}.dat`;
    const { root, layer } = v2File(length, pieceLength, i + 10);
    tree.set(
      name,
      new Map([[
        "",
        new Map<string, number | Uint8Array>([["length", length], ["pieces root", root]]),
      ]]),
    );
    if (layer) layers.set(root, layer);
    files.push({ length, path: [name] });
    total += length;
    const pad = (pieceLength - total % pieceLength) % pieceLength;
    if (lengths.length > 1 && pad > 0) {
      files.push({ attr: "p", length: pad, path: [".pad", String(pad)] });
      total += pad;
    }
  });
  const single = lengths.length === 1;
  return encode({
    info: {
      "file tree": tree,
      "meta version": 2,
      name: single ? "file-000000.dat" : "generated",
      "piece length": pieceLength,
      ...(v1 && single ? { length: lengths[0] } : {}),
      ...(v1 && !single ? { files } : {}),
      ...(v1 ? { pieces: seededBytes(Math.ceil(total / pieceLength) * 20, 1) } : {}),
    },
    "piece layers": layers,
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

async function benchParseV2(): Promise<void> {
  const lengths = Array.from({ length: 20_000 }, (_, i) => 1000 + i * 37);
  const hybrid = generatedV2Torrent(lengths, 262144, true);
  const v1 = generatedTorrent(20_000);
  const [hybridSeconds, v1Seconds] = await bestOfAlternating(
    [() => parseTorrent(hybrid), () => parseTorrent(v1)],
    10,
  );
  report(
    "parseTorrent, 20,000 files hybrid (v1+v2)",
    mibPerSecond(hybrid.length, hybridSeconds),
    mibPerSecond(v1.length, v1Seconds),
    "same files v1",
  );
  const big = generatedV2Torrent([16 * 1024 ** 3], 262144, false);
  const bigV1 = encode({
    info: {
      name: "big",
      "piece length": 262144,
      length: 16 * 1024 ** 3,
      pieces: seededBytes(65536 * 20, 1),
    },
  });
  const [bigSeconds, bigV1Seconds] = await bestOfAlternating(
    [() => parseTorrent(big), () => parseTorrent(bigV1)],
    10,
  );
  console.log(
    `  best parse: hybrid ${(hybridSeconds * 1000).toFixed(1)} ms, v1 ${
      (v1Seconds * 1000).toFixed(1)
    } ms; ` +
      `one 16 GiB file: v2 with its 2 MiB piece layer ${(bigSeconds * 1000).toFixed(1)} ms, ` +
      `v1 ${(bigV1Seconds * 1000).toFixed(1)} ms`,
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
  await benchParseV2();
  await benchCreate();
}

if (import.meta.main) await run();
