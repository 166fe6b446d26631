// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Storage throughput on real files, in one run:
 * - recheck of a 1 GiB single-file torrent (1 MiB pieces) vs `openssl sha1` over the same
 *   file; hashed with node:crypto on the main thread (pinned to one core with taskset when
 *   available), crypto.subtle, and a Worker pool on all cores; event-loop lag for each;
 * - sustained random-order 16 KiB block writes of a 1 GiB torrent through PieceStore
 *   (write-through + SHA-1 verify on completion) vs a plain sequential `Deno.writeFile`;
 * - write-through vs keeping pieces in memory until verified, with 64 pieces in flight;
 * - peak RSS of each phase.
 *
 * Run: deno run --allow-read --allow-write --allow-run --allow-env bench/storage.ts
 * (BITTERN_BENCH_STORAGE_MIB overrides the 1024 MiB size.)
 */
import { createHash } from "node:crypto";
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
import { toHex } from "../src/util/bytes.ts";

const MiB = 1024 * 1024;
const BLOCK = 16 * 1024;
const PIECE = MiB;

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
  into?: Uint8Array,
): Uint8Array {
  const bytes = into ? into.subarray(0, length) : new Uint8Array(length);
  bytes.set(base.subarray(0, length));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, index);
  return bytes;
}

function syntheticTorrent(totalMiB: number): { torrent: Torrent; base: Uint8Array } {
  const base = new Uint8Array(PIECE);
  for (let i = 0; i < base.length; i += 65536) crypto.getRandomValues(base.subarray(i, i + 65536));
  const length = totalMiB * MiB;
  const pieceCount = Math.ceil(length / PIECE);
  const hashes = new Uint8Array(pieceCount * 20);
  const scratch = new Uint8Array(PIECE);
  for (let piece = 0; piece < pieceCount; piece++) {
    const bytes = pieceContent(base, piece, Math.min(PIECE, length - piece * PIECE), scratch);
    hashes.set(createHash("sha1").update(bytes).digest(), piece * 20);
  }
  const infoHash = new Uint8Array(createHash("sha1").update(hashes).digest());
  return {
    base,
    torrent: {
      infoHash,
      infoHashHex: toHex(infoHash),
      name: "bench.bin",
      pieceLength: PIECE,
      pieceCount,
      pieceHashes: hashes,
      files: [{ path: ["bench.bin"], length, offset: 0, padding: false }],
      multiFile: false,
      length,
      private: false,
      announce: [],
      infoBytes: new Uint8Array(0),
    },
  };
}

/** Samples RSS and event-loop lag while `body` runs. */
async function watch<T>(
  body: () => Promise<T>,
): Promise<{ value: T; seconds: number; peakRssMiB: number; maxLagMs: number }> {
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
    const value = await body();
    return {
      value,
      seconds: (performance.now() - start) / 1000,
      peakRssMiB: Math.max(peak, Deno.memoryUsage().rss) / MiB,
      maxLagMs: maxLag,
    };
  } finally {
    clearInterval(timer);
  }
}

async function timeCommand(command: string, args: string[]): Promise<number> {
  const start = performance.now();
  const { success, stderr } = await new Deno.Command(command, {
    args,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!success) throw new Error(`${command} failed: ${new TextDecoder().decode(stderr)}`);
  return (performance.now() - start) / 1000;
}

async function hasCommand(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function recheck(torrent: Torrent, dir: string, hasher: Sha1Hasher) {
  const store = await PieceStore.open(torrent, new FileSystemStorage(dir, { readOnly: true }), {
    hasher,
    restore: "recheck",
  });
  await store.storage.close();
  if (!store.verified.hasAll()) throw new Error("recheck found bad pieces");
}

function line(name: string, mib: number, seconds: number, extra = ""): void {
  console.log(
    `${name.padEnd(46)} ${(mib / seconds).toFixed(0).padStart(6)} MiB/s  ${
      seconds.toFixed(2).padStart(6)
    } s${extra}`,
  );
}

/** Random permutation of 0..n-1 (Fisher-Yates with crypto randomness). */
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

/** Writes every block of `torrent` through a PieceStore in `order`, `inFlight` at a time. */
async function writeBlocks(
  torrent: Torrent,
  base: Uint8Array,
  dir: string,
  order: Uint32Array,
  inFlight: number,
): Promise<void> {
  const store = await PieceStore.open(torrent, new FileSystemStorage(dir), { restore: "none" });
  const blocksPerPiece = PIECE / BLOCK;
  let next = 0;
  const lane = async () => {
    // Each lane reuses one block buffer, as a wire decoder reuses its read buffer.
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
      const result = await store.writeBlock(piece, offset, data);
      if (result.status === "failed") throw new Error(`piece ${piece} failed`);
    }
  };

  try {
    await Promise.all(Array.from({ length: inFlight }, lane));
    if (!store.verified.hasAll()) throw new Error("not all pieces verified");
  } finally {
    await store.storage.close();
  }
}

/** The alternative design: blocks wait in memory; a piece is hashed, then written whole. */
async function writeBuffered(
  torrent: Torrent,
  base: Uint8Array,
  dir: string,
  order: Uint32Array,
  inFlight: number,
): Promise<void> {
  const storage = await new FileSystemStorage(dir).open(torrent);
  const hasher = new NodeCryptoHasher();
  const blocksPerPiece = PIECE / BLOCK;
  const pending = new Map<number, { bytes: Uint8Array; have: number }>();
  let next = 0;
  const lane = async () => {
    while (next < order.length) {
      const block = order[next++];
      const piece = Math.floor(block / blocksPerPiece);
      const offset = (block % blocksPerPiece) * BLOCK;
      const pieceLength = pieceLengthAt(torrent, piece);
      if (offset >= pieceLength) continue;
      let entry = pending.get(piece);
      if (!entry) {
        entry = { bytes: new Uint8Array(pieceLength), have: 0 };
        pending.set(piece, entry);
      }
      const data = base.subarray(offset, Math.min(offset + BLOCK, pieceLength));
      entry.bytes.set(data, offset);
      if (offset === 0) new DataView(entry.bytes.buffer).setUint32(0, piece);
      entry.have++;
      if (entry.have === Math.ceil(pieceLength / BLOCK)) {
        pending.delete(piece);
        await hasher.sha1(entry.bytes);
        await storage.write(piece, 0, entry.bytes);
      } else {
        await Promise.resolve(); // a block arrival costs at least a turn, as from a socket
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, lane));
  } finally {
    await storage.close();
  }
}

/** Block order where about `window` pieces are in flight at once, blocks shuffled within. */
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

async function childRecheck(path: string, hashesPath: string, mib: number): Promise<void> {
  const { torrent } = syntheticTorrent(mib);
  const hashes = await Deno.readFile(hashesPath);
  const real: Torrent = { ...torrent, pieceHashes: hashes };
  const dir = path.slice(0, path.lastIndexOf("/"));
  const watched = await watch(() => recheck(real, dir, new NodeCryptoHasher()));
  console.log(JSON.stringify({ seconds: watched.seconds, peakRssMiB: watched.peakRssMiB }));
}

/** Runs the storage benchmark and prints its results. */
export async function run(): Promise<void> {
  const mib = sizeMiB();
  const dir = await Deno.makeTempDir({ prefix: "bittern-bench-storage-" });
  const cores = navigator.hardwareConcurrency || 1;
  try {
    console.log(`storage: ${mib} MiB torrent, 1 MiB pieces, 16 KiB blocks, ${cores} cores`);
    const { torrent, base } = syntheticTorrent(mib);
    console.log(`rss at start ${(Deno.memoryUsage().rss / MiB).toFixed(0)} MiB`);
    const path = `${dir}/bench.bin`;
    // Write the file with a stream so the generator itself stays small.
    let piece = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (piece >= torrent.pieceCount) return controller.close();
        controller.enqueue(pieceContent(base, piece, pieceLengthAt(torrent, piece)));
        piece++;
      },
    });
    const plain = await watch(() => Deno.writeFile(path, source));
    line(
      "write: Deno.writeFile, sequential",
      mib,
      plain.seconds,
      `  rss ${plain.peakRssMiB.toFixed(0)} MiB`,
    );

    // Recheck.
    const hasOpenssl = await hasCommand("openssl", ["version"]);
    const hasTaskset = await hasCommand("taskset", ["-c", "0", "true"]);
    let opensslSeconds = NaN;
    let pinnedOpensslSeconds = NaN;
    if (hasOpenssl) {
      opensslSeconds = await timeCommand("openssl", ["sha1", path]);
      pinnedOpensslSeconds = hasTaskset
        ? await timeCommand("taskset", ["-c", "0", "openssl", "sha1", path])
        : NaN;
      const pinned = pinnedOpensslSeconds;
      line(
        "recheck reference: openssl sha1",
        mib,
        opensslSeconds,
        hasTaskset ? `  (pinned: ${(mib / pinned).toFixed(0)} MiB/s)` : "",
      );
    }
    const ratio = (seconds: number) =>
      hasOpenssl ? `  ${(opensslSeconds / seconds).toFixed(2)}x openssl` : "";
    const hashers: [string, () => Sha1Hasher][] = [
      ["recheck: node:crypto, main thread", () => new NodeCryptoHasher()],
      ["recheck: crypto.subtle", () => new SubtleCryptoHasher()],
      [`recheck: Worker pool x${cores}`, () => new WorkerPoolHasher(cores)],
    ];
    for (const [name, make] of hashers) {
      const hasher = make();
      try {
        const result = await watch(() => recheck(torrent, dir, hasher));
        line(
          name,
          mib,
          result.seconds,
          `${ratio(result.seconds)}  rss ${result.peakRssMiB.toFixed(0)} MiB  max loop lag ${
            result.maxLagMs.toFixed(0)
          } ms`,
        );
      } finally {
        hasher.close();
      }
    }
    if (hasTaskset) {
      const hashesPath = `${dir}/hashes`;
      await Deno.writeFile(hashesPath, torrent.pieceHashes);
      const output = await new Deno.Command("taskset", {
        args: [
          "-c",
          "0",
          Deno.execPath(),
          "run",
          "--allow-read",
          "--allow-env",
          new URL(import.meta.url).pathname,
          "--child-recheck",
          path,
          hashesPath,
          String(mib),
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const child = JSON.parse(new TextDecoder().decode(output.stdout));
      line(
        "recheck: node:crypto, pinned to one core",
        mib,
        child.seconds,
        `  ${(pinnedOpensslSeconds / child.seconds).toFixed(2)}x pinned openssl  rss ${
          child.peakRssMiB.toFixed(0)
        } MiB`,
      );
    }
    await Deno.remove(path);

    // Random-order block writes through the piece layer.
    const blockCount = torrent.pieceCount * (PIECE / BLOCK);
    const random = await watch(() =>
      writeBlocks(torrent, base, `${dir}/random`, shuffled(blockCount), 32)
    );
    line(
      "write: PieceStore, random 16 KiB blocks",
      mib,
      random.seconds,
      `  ${(plain.seconds / random.seconds).toFixed(2)}x writeFile  rss ${
        random.peakRssMiB.toFixed(0)
      } MiB  lag ${random.maxLagMs.toFixed(0)} ms`,
    );
    await Deno.remove(`${dir}/random`, { recursive: true });

    // Where blocks wait before verification, with 64 pieces in flight.
    const order = windowedOrder(torrent.pieceCount, 64);
    const through = await watch(() => writeBlocks(torrent, base, `${dir}/through`, order, 32));
    line(
      "write-through + read-back verify, 64 in flight",
      mib,
      through.seconds,
      `  rss ${through.peakRssMiB.toFixed(0)} MiB`,
    );
    await Deno.remove(`${dir}/through`, { recursive: true });
    const buffered = await watch(() => writeBuffered(torrent, base, `${dir}/buffered`, order, 32));
    line(
      "pieces buffered in memory, 64 in flight",
      mib,
      buffered.seconds,
      `  rss ${buffered.peakRssMiB.toFixed(0)} MiB`,
    );
    await Deno.remove(`${dir}/buffered`, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const childIndex = Deno.args.indexOf("--child-recheck");
  if (childIndex >= 0) {
    const [path, hashesPath, mib] = Deno.args.slice(childIndex + 1);
    await childRecheck(path, hashesPath, Number(mib));
  } else {
    await run();
  }
}
