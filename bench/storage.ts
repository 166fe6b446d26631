// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Storage throughput on real files, in one run (1 GiB single-file torrent, 1 MiB pieces):
 * - recheck vs `openssl sha1` over the same file, with node:crypto on the main thread,
 *   crypto.subtle and a Worker pool (one per core); the same pinned to one core with
 *   taskset (openssl pinned too); event-loop lag during each;
 * - sustained random-order 16 KiB block writes through PieceStore (write-through, SHA-1
 *   verified on completion) vs a plain sequential `Deno.writeFile` of the same bytes;
 * - where blocks wait before verification: write-through + read-back vs pieces buffered in
 *   memory, with 64 pieces in flight;
 * - verification hashing of the same file: SHA-1 per 1 MiB piece (v1) vs the SHA-256 merkle
 *   tree of 16 KiB blocks up to 1 MiB piece hashes and the root (v2, BEP 52), node:crypto on
 *   the main thread, and their ratio;
 * - the same through PieceStore, for the same bytes as a v1, v2-only and hybrid torrent:
 *   random-order block writes (v2 leaves hashed as blocks arrive) and a recheck;
 * - peak RSS of each phase. Every phase runs in its own process, so one phase's garbage
 *   does not show up in the next one's RSS; times are the best of 3 runs.
 *
 * Run: deno run --allow-read --allow-write --allow-run --allow-env bench/storage.ts
 * (BITTERN_BENCH_STORAGE_MIB overrides the 1024 MiB size.)
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import type { Torrent } from "../src/metainfo/torrent.ts";
import { pieceLengthAt } from "../src/metainfo/torrent.ts";
import { FileSystemStorage } from "../src/storage/filesystem.ts";
import {
  NodeCryptoHasher,
  type Sha1Hasher,
  SubtleCryptoHasher,
  WorkerPoolHasher,
} from "../src/storage/hasher.ts";
import { PieceStore } from "../src/storage/piece_store.ts";
import { MERKLE_HASH_LENGTH, MerkleFileHasher } from "../src/metainfo/merkle.ts";
import { PieceHasher } from "../src/metainfo/piece_hasher.ts";
import { toHex } from "../src/util/bytes.ts";

const MiB = 1024 * 1024;
const BLOCK = 16 * 1024;
const PIECE = MiB;
const RUNS = 3;
const LANES = 32;

interface PhaseResult {
  seconds: number;
  peakRssMiB: number;
  maxLagMs: number;
}

function sizeMiB(): number {
  try {
    const value = Number(Deno.env.get("BITTERN_BENCH_STORAGE_MIB") ?? "1024");
    return Number.isSafeInteger(value) && value > 0 ? value : 1024;
  } catch {
    return 1024;
  }
}

/** Piece `index` of the synthetic torrent: one random MiB, stamped with the index. */
function pieceContent(
  base: Uint8Array,
  index: number,
  length: number,
  into: Uint8Array,
): Uint8Array {
  const bytes = into.subarray(0, length);
  bytes.set(base.subarray(0, length));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, index);
  return bytes;
}

/** The synthetic torrent as `v1`, `v2` (merkle only) or `hybrid` (both hash sets). */
function torrentOf(base: Uint8Array, mib: number, format = "v1"): Torrent {
  const length = mib * MiB;
  const pieceCount = Math.ceil(length / PIECE);
  const hashes = new Uint8Array(format === "v2" ? 0 : pieceCount * 20);
  const merkle = format === "v1" ? undefined : new MerkleFileHasher(PIECE);
  const scratch = new Uint8Array(PIECE);
  for (let piece = 0; piece < pieceCount; piece++) {
    const bytes = pieceContent(base, piece, Math.min(PIECE, length - piece * PIECE), scratch);
    if (hashes.length) hashes.set(createHash("sha1").update(bytes).digest(), piece * 20);
    merkle?.update(bytes);
  }
  const layer = merkle?.pieceLayer(PIECE) ?? [];
  const pieceLayer = new Uint8Array(layer.length * MERKLE_HASH_LENGTH);
  layer.forEach((hash, i) => pieceLayer.set(hash, i * MERKLE_HASH_LENGTH));
  const infoHash = new Uint8Array(
    createHash("sha1").update(hashes).update(pieceLayer).update(format).digest(),
  );
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    name: "bench.bin",
    pieceLength: PIECE,
    version: format === "v1" ? 1 : format === "v2" ? 2 : "hybrid",
    ...(merkle ? { infoHashV2: new Uint8Array(32).fill(1) } : {}),
    pieceCount,
    pieceHashes: hashes,
    files: [{
      path: ["bench.bin"],
      length,
      offset: 0,
      padding: false,
      ...(merkle ? { piecesRoot: merkle.root, pieceLayer } : {}),
    }],
    multiFile: false,
    length,
    private: false,
    announce: [],
    infoBytes: new Uint8Array(0),
    warnings: [],
  };
}

/** Samples RSS and event-loop lag while `body` runs. */
async function watch(body: () => Promise<void>): Promise<PhaseResult> {
  let peak = Deno.memoryUsage().rss;
  let maxLag = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - expected);
    expected = now + 10;
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 10);
  const start = performance.now();
  try {
    await body();
    return {
      seconds: (performance.now() - start) / 1000,
      peakRssMiB: Math.max(peak, Deno.memoryUsage().rss) / MiB,
      maxLagMs: maxLag,
    };
  } finally {
    clearInterval(timer);
  }
}

/** Best time of RUNS; memory and loop lag are the worst seen in any run. */
async function bestOf(measure: () => Promise<PhaseResult>): Promise<PhaseResult> {
  const results: PhaseResult[] = [];
  for (let run = 0; run < RUNS; run++) results.push(await measure());
  return {
    seconds: Math.min(...results.map((r) => r.seconds)),
    peakRssMiB: Math.max(...results.map((r) => r.peakRssMiB)),
    maxLagMs: Math.max(...results.map((r) => r.maxLagMs)),
  };
}

async function timeCommand(argv: string[]): Promise<PhaseResult> {
  const start = performance.now();
  const { success, stderr } = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`${argv[0]} failed: ${new TextDecoder().decode(stderr)}`);
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: NaN, maxLagMs: NaN };
}

async function hasCommand(argv: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** Random permutation of 0..n-1. */
function shuffled(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new Uint32Array(n);
  for (let i = 0; i < n; i += 16384) crypto.getRandomValues(random.subarray(i, i + 16384));
  for (let i = n - 1; i > 0; i--) {
    const j = random[i] % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Block order with `window` pieces in flight at a time, blocks shuffled within. */
function windowedOrder(pieceCount: number, window: number): Uint32Array {
  const blocksPerPiece = PIECE / BLOCK;
  const order = new Uint32Array(pieceCount * blocksPerPiece);
  let at = 0;
  for (let first = 0; first < pieceCount; first += window) {
    const count = Math.min(window, pieceCount - first) * blocksPerPiece;
    const local = shuffled(count);
    for (let i = 0; i < count; i++) order[at++] = first * blocksPerPiece + local[i];
  }
  return order;
}

/** Calls `deliver` for every block in `order`, LANES at a time, each lane reusing a buffer. */
async function deliverBlocks(
  torrent: Torrent,
  base: Uint8Array,
  order: Uint32Array,
  deliver: (piece: number, offset: number, data: Uint8Array) => Promise<void>,
): Promise<void> {
  const blocksPerPiece = PIECE / BLOCK;
  let next = 0;
  const lane = async () => {
    // As a wire decoder reuses its read buffer, each lane reuses one block buffer.
    const scratch = new Uint8Array(BLOCK);
    while (next < order.length) {
      const block = order[next++];
      const piece = Math.floor(block / blocksPerPiece);
      const offset = (block % blocksPerPiece) * BLOCK;
      const length = Math.min(BLOCK, pieceLengthAt(torrent, piece) - offset);
      if (length <= 0) continue;
      const data = scratch.subarray(0, length);
      data.set(base.subarray(offset, offset + length));
      if (offset === 0) new DataView(scratch.buffer).setUint32(0, piece);
      await deliver(piece, offset, data);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
}

function makeHasher(kind: string): Sha1Hasher {
  if (kind === "subtle") return new SubtleCryptoHasher();
  if (kind === "pool") return new WorkerPoolHasher();
  return new NodeCryptoHasher();
}

/** One measured phase, run inside a child process. */
async function runPhase(
  phase: string,
  dir: string,
  mib: number,
  hasherKind: string,
  format: string,
) {
  const base = await Deno.readFile(`${dir}/base`);
  const torrent = torrentOf(base, mib, format);
  if (phase === "recheck") {
    const hasher = makeHasher(hasherKind);
    try {
      return await watch(async () => {
        const store = await PieceStore.open(
          torrent,
          new FileSystemStorage(`${dir}/data`, { readOnly: true }),
          { hasher, restore: "recheck" },
        );
        await store.storage.close();
        if (!store.verified.hasAll()) throw new Error("recheck found bad pieces");
      });
    } finally {
      hasher.close();
    }
  }
  if (phase === "hash") return await watch(() => hashFile(`${dir}/data/bench.bin`, hasherKind));
  const target = `${dir}/${phase}`;
  try {
    const blockCount = torrent.pieceCount * (PIECE / BLOCK);
    const order = phase === "random" ? shuffled(blockCount) : windowedOrder(torrent.pieceCount, 64);
    if (phase === "buffered") return await watch(() => writeBuffered(torrent, base, target, order));
    return await watch(async () => {
      const store = await PieceStore.open(torrent, new FileSystemStorage(target), {
        restore: "none",
      });
      try {
        await deliverBlocks(torrent, base, order, async (piece, offset, data) => {
          const result = await store.writeBlock(piece, offset, data);
          if (result.status === "failed") throw new Error(`piece ${piece} failed`);
        });
        if (!store.verified.hasAll()) throw new Error("not all pieces verified");
      } finally {
        await store.storage.close();
      }
    });
  } finally {
    await Deno.remove(target, { recursive: true }).catch(() => undefined);
  }
}

/**
 * Reads the file in 1 MiB chunks and hashes it as v1 (`sha1`: SHA-1 per piece) or v2
 * (`merkle`: SHA-256 leaves, piece layer and root) verification would.
 */
async function hashFile(path: string, kind: string): Promise<void> {
  const buffer = new Uint8Array(PIECE);
  using file = await Deno.open(path);
  const sha1 = kind === "sha1" ? new PieceHasher(PIECE) : undefined;
  const merkle = kind === "merkle" ? new MerkleFileHasher(PIECE) : undefined;
  for (let read = await file.read(buffer); read !== null; read = await file.read(buffer)) {
    sha1?.update(buffer.subarray(0, read));
    merkle?.update(buffer.subarray(0, read));
  }
  if (sha1 && sha1.digest().length === 0) throw new Error("nothing hashed");
  if (merkle && (!merkle.root || merkle.pieceLayer(PIECE).length === 0)) {
    throw new Error("nothing hashed");
  }
}

/** The alternative design: blocks wait in memory; a complete piece is hashed, then written. */
async function writeBuffered(
  torrent: Torrent,
  base: Uint8Array,
  dir: string,
  order: Uint32Array,
): Promise<void> {
  const storage = await new FileSystemStorage(dir).open(torrent);
  const hasher = new NodeCryptoHasher();
  const pending = new Map<number, { bytes: Uint8Array; have: number }>();
  try {
    await deliverBlocks(torrent, base, order, async (piece, offset, data) => {
      const pieceLength = pieceLengthAt(torrent, piece);
      let entry = pending.get(piece);
      if (!entry) {
        entry = { bytes: new Uint8Array(pieceLength), have: 0 };
        pending.set(piece, entry);
      }
      entry.bytes.set(data, offset);
      entry.have++;
      if (entry.have < Math.ceil(pieceLength / BLOCK)) return;
      pending.delete(piece);
      await hasher.sha1(entry.bytes);
      await storage.write(piece, 0, entry.bytes);
    });
  } finally {
    await storage.close();
  }
}

async function child(argv: string[], pinned: boolean): Promise<PhaseResult> {
  const args = [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    new URL(import.meta.url).pathname,
    ...argv,
  ];
  const command = pinned
    ? new Deno.Command("taskset", { args: ["-c", "0", Deno.execPath(), ...args], stdout: "piped" })
    : new Deno.Command(Deno.execPath(), { args, stdout: "piped" });
  const output = await command.output();
  if (!output.success) throw new Error(`bench phase ${argv.join(" ")} failed`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

function line(name: string, mib: number, result: PhaseResult, extra = ""): void {
  const rss = Number.isNaN(result.peakRssMiB) ? "" : `  rss ${result.peakRssMiB.toFixed(0)} MiB`;
  const lag = Number.isNaN(result.maxLagMs) ? "" : `  loop lag ≤${result.maxLagMs.toFixed(0)} ms`;
  console.log(
    `${name.padEnd(44)} ${(mib / result.seconds).toFixed(0).padStart(5)} MiB/s ${
      result.seconds.toFixed(2).padStart(6)
    } s${extra}${rss}${lag}`,
  );
}

/** Runs the storage benchmark and prints its results. */
export async function run(): Promise<void> {
  const mib = sizeMiB();
  const cores = navigator.hardwareConcurrency || 1;
  const dir = await Deno.makeTempDir({ prefix: "bittern-bench-storage-" });
  try {
    console.log(`storage: ${mib} MiB torrent, 1 MiB pieces, 16 KiB blocks, ${cores} cores`);
    const base = new Uint8Array(PIECE);
    for (let i = 0; i < PIECE; i += 65536) crypto.getRandomValues(base.subarray(i, i + 65536));
    await Deno.writeFile(`${dir}/base`, base);
    await Deno.mkdir(`${dir}/data`);
    const path = `${dir}/data/bench.bin`;
    const pieceCount = Math.ceil(mib * MiB / PIECE);
    const plain = await watch(async () => {
      let piece = 0;
      await Deno.writeFile(
        path,
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (piece >= pieceCount) return controller.close();
            const length = Math.min(PIECE, mib * MiB - piece * PIECE);
            controller.enqueue(pieceContent(base, piece++, length, new Uint8Array(length)));
          },
        }),
      );
    });
    line("write: Deno.writeFile, sequential", mib, plain);

    const pinnable = await hasCommand(["taskset", "-c", "0", "true"]);
    const openssl = await hasCommand(["openssl", "version"]);
    const reference = openssl
      ? await bestOf(() => timeCommand(["openssl", "sha1", path]))
      : undefined;
    const pinnedReference = openssl && pinnable
      ? await bestOf(() => timeCommand(["taskset", "-c", "0", "openssl", "sha1", path]))
      : undefined;
    if (reference) line("openssl sha1", mib, reference);
    if (pinnedReference) line("openssl sha1, one core", mib, pinnedReference);
    const versus = (result: PhaseResult, against?: PhaseResult) =>
      against ? `  ${(against.seconds / result.seconds).toFixed(2)}x openssl` : "";
    const phases: [string, string, boolean][] = [
      ["recheck: node:crypto, main thread", "node", false],
      ["recheck: crypto.subtle", "subtle", false],
      [`recheck: Worker pool x${cores}`, "pool", false],
    ];
    if (pinnable) {
      phases.push(["recheck: node:crypto, one core", "node", true]);
      phases.push(["recheck: Worker pool, one core", "pool", true]);
    }
    for (const [name, hasher, pinned] of phases) {
      const result = await bestOf(() =>
        child(["--phase=recheck", `--dir=${dir}`, `--mib=${mib}`, `--hasher=${hasher}`], pinned)
      );
      line(name, mib, result, versus(result, pinned ? pinnedReference : reference));
    }
    // Alternating runs, so both hashes see the same noise from other processes.
    const hashRuns: Record<string, PhaseResult[]> = { sha1: [], merkle: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const kind of ["sha1", "merkle"]) {
        hashRuns[kind].push(
          await child(["--phase=hash", `--dir=${dir}`, `--mib=${mib}`, `--hasher=${kind}`], false),
        );
      }
    }
    const hashes: Record<string, PhaseResult> = {};
    for (
      const [name, kind] of [
        ["verify: SHA-1 pieces (v1)", "sha1"],
        ["verify: SHA-256 merkle tree (v2)", "merkle"],
      ]
    ) {
      hashes[kind] = {
        seconds: Math.min(...hashRuns[kind].map((r) => r.seconds)),
        peakRssMiB: Math.max(...hashRuns[kind].map((r) => r.peakRssMiB)),
        maxLagMs: Math.max(...hashRuns[kind].map((r) => r.maxLagMs)),
      };
      line(name, mib, hashes[kind], versus(hashes[kind], reference));
    }
    console.log(
      `verify: SHA-256 merkle takes ${
        (hashes.merkle.seconds / hashes.sha1.seconds).toFixed(2)
      }x the time of SHA-1 for the same data`,
    );
    // Alternating runs, so every format sees the same noise from other processes.
    const formats = ["v1", "v2", "hybrid"];
    for (const phase of ["random", "recheck"]) {
      const runs: Record<string, PhaseResult[]> = { v1: [], v2: [], hybrid: [] };
      for (let run = 0; run < RUNS; run++) {
        for (const format of formats) {
          runs[format].push(
            await child(
              [`--phase=${phase}`, `--dir=${dir}`, `--mib=${mib}`, `--format=${format}`],
              false,
            ),
          );
        }
      }
      for (const format of formats) {
        const best = {
          seconds: Math.min(...runs[format].map((r) => r.seconds)),
          peakRssMiB: Math.max(...runs[format].map((r) => r.peakRssMiB)),
          maxLagMs: Math.max(...runs[format].map((r) => r.maxLagMs)),
        };
        const name = phase === "random" ? "random 16 KiB blocks" : "recheck";
        line(`PieceStore ${format}: ${name}`, mib, best);
      }
    }
    await Deno.remove(path);

    const writes: [string, string][] = [
      ["write: PieceStore, random 16 KiB blocks", "random"],
      ["write-through + verify, 64 pieces in flight", "window"],
      ["buffer pieces in memory, 64 pieces in flight", "buffered"],
    ];
    for (const [name, phase] of writes) {
      const result = await child([`--phase=${phase}`, `--dir=${dir}`, `--mib=${mib}`], false);
      line(name, mib, result, `  ${(plain.seconds / result.seconds).toFixed(2)}x writeFile`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      phase: { type: "string" },
      dir: { type: "string" },
      mib: { type: "string" },
      hasher: { type: "string", default: "node" },
      format: { type: "string", default: "v1" },
    },
  });
  if (values.phase && values.dir && values.mib) {
    const result = await runPhase(
      values.phase,
      values.dir,
      Number(values.mib),
      values.hasher,
      values.format,
    );
    console.log(JSON.stringify(result));
  } else {
    await run();
  }
}
