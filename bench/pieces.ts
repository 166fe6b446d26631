// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Per-piece cost: a Bittern seeder Runtime serves a torrent of many small
 * pieces (16 KiB of zeros each) to a Bittern leecher Runtime on 127.0.0.1,
 * through the public API only. Prints ms per verified piece for each size and
 * the ratio between the largest and the smallest (goal: about 1, that is,
 * per-piece work does not grow with the piece count), and, within the largest
 * run, ms per piece for the last 10% of pieces vs the first 10%.
 *
 * Every piece is zeros, so both back-ends are custom `Storage`s that make
 * zeros up on read and discard writes: no 1.6 GB in memory or on disk.
 *
 * Run: `deno task bench pieces` or
 * `deno run --allow-net=127.0.0.1 bench/pieces.ts [pieceCount...] [--limit=SECONDS]`.
 */
import {
  Bitfield,
  encode,
  parseTorrent,
  Runtime,
  type RuntimeOptions,
  type Storage,
  StorageError,
  type Torrent,
  type TorrentStorage,
} from "../mod.ts";
import { createHash } from "node:crypto";
import process from "node:process";

const PIECE_LENGTH = 16384;
const DEFAULT_SIZES = [10_000, 100_000];
/** A run that has not finished after this long is stopped and reported as partial. */
const DEFAULT_LIMIT_SECONDS = 300;

/** A single-file torrent of `pieceCount` pieces of 16 KiB zeros (every piece hash alike). */
export function zeroTorrent(pieceCount: number): Torrent {
  const digest = createHash("sha1").update(new Uint8Array(PIECE_LENGTH)).digest();
  const pieces = new Uint8Array(pieceCount * 20);
  for (let piece = 0; piece < pieceCount; piece++) pieces.set(digest, piece * 20);
  return parseTorrent(encode({
    info: {
      name: `zeros-${pieceCount}.bin`,
      length: pieceCount * PIECE_LENGTH,
      "piece length": PIECE_LENGTH,
      pieces,
    },
  }));
}

/**
 * Storage of an all-zero torrent that keeps no bytes: reads of written pieces
 * are zeros, writes only mark their piece (every piece here is one block).
 * `full` starts with every piece present (the seeder).
 */
class ZeroStorage implements Storage {
  readonly #full: boolean;
  constructor(full: boolean) {
    this.#full = full;
  }
  open(torrent: Torrent): Promise<TorrentStorage> {
    const written = new Bitfield(torrent.pieceCount);
    const full = this.#full;
    const present = (piece: number) => {
      if (full || written.get(piece)) return;
      throw new StorageError("not-found", "read", `piece ${piece}`, "never written");
    };
    return Promise.resolve({
      read(piece, _offset, length) {
        try {
          present(piece);
        } catch (error) {
          return Promise.reject(error);
        }
        return Promise.resolve(new Uint8Array(length));
      },
      readInto(piece, _offset, target) {
        try {
          present(piece);
        } catch (error) {
          return Promise.reject(error);
        }
        target.fill(0);
        return Promise.resolve();
      },
      write(piece) {
        written.set(piece);
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

/** Options shared by both runtimes. */
const RUNTIME_OPTIONS: RuntimeOptions = {
  // Both runtimes are on 127.0.0.1.
  maxConnectionsPerIp: 16,
  maxConnections: 16,
  peerSources: [],
};

/** What one download measured. */
interface PiecesResult {
  readonly pieceCount: number;
  /** Pieces verified (less than `pieceCount` when the run hit its time limit). */
  readonly verified: number;
  /** `performance.now()` when k pieces were verified, at `[k - 1]`. */
  readonly wall: Float64Array;
  /**
   * This process's CPU time (user + system, ms) when k pieces were verified, at `[k - 1]`,
   * sampled for k = 1 and every multiple of {@linkcode CPU_STEP} (each sample is a system
   * call): unlike wall time, it barely moves when other processes share the machine.
   */
  readonly cpu: Float64Array;
  /** ms from `add` on the leecher to its first verified piece (connecting, handshakes). */
  readonly startupMs: number;
}

/** CPU time is sampled every this many verified pieces. */
const CPU_STEP = 100;

/** The sampled count nearest below `count`. */
const cpuSampled = (count: number) => count < CPU_STEP ? 1 : count - count % CPU_STEP;

/** Wall and CPU ms per piece from the `from`-th to the `to`-th verified piece (1-based). */
function perPiece(result: PiecesResult, from: number, to: number): { wall: number; cpu: number } {
  const [cpuFrom, cpuTo] = [cpuSampled(from), cpuSampled(to)];
  return {
    wall: (result.wall[to - 1] - result.wall[from - 1]) / (to - from),
    cpu: (result.cpu[cpuTo - 1] - result.cpu[cpuFrom - 1]) / (cpuTo - cpuFrom),
  };
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Downloads a `pieceCount`-piece zero torrent from a fresh seeder to a fresh leecher. */
async function download(pieceCount: number, limitSeconds: number): Promise<PiecesResult> {
  const torrent = zeroTorrent(pieceCount);
  const seeder = new Runtime({ ...RUNTIME_OPTIONS, listen: { hostname: "127.0.0.1", port: 0 } });
  const leecher = new Runtime({ ...RUNTIME_OPTIONS, listen: false });
  const wall = new Float64Array(pieceCount);
  const cpu = new Float64Array(pieceCount);
  let verified = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // The seeder rechecks at open (reads zeros, hashes them): not timed.
    await seeder.add(torrent, { storage: new ZeroStorage(true), trackers: false, pex: false });
    const started = performance.now();
    const session = await leecher.add(torrent, {
      storage: new ZeroStorage(false),
      restore: "none",
      seed: false,
      trackers: false,
      pex: false,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    session.events.on("piece-verified", () => {
      wall[verified++] = performance.now();
      if (verified === cpuSampled(verified)) cpu[verified - 1] = cpuMs();
    });
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`stopped at the ${limitSeconds} s limit`),
        limitSeconds * 1000,
      );
    });
    const outcome = await Promise.race([
      session.completed.then(() => "completed", (error: Error) => `failed: ${error.message}`),
      timedOut,
    ]);
    if (outcome !== "completed" || verified !== pieceCount) {
      console.log(`  ${pieceCount} pieces: ${outcome} with ${verified} pieces verified`);
    }
    return { pieceCount, verified, wall, cpu, startupMs: wall[0] - started };
  } finally {
    clearTimeout(timer);
    await Promise.all([leecher.close(), seeder.close()]);
  }
}

const format = ({ wall, cpu }: { wall: number; cpu: number }) =>
  `${wall.toFixed(4)} ms/piece (CPU ${cpu.toFixed(4)})`;
const ratio = (a: { wall: number; cpu: number }, b: { wall: number; cpu: number }) =>
  `${(a.wall / b.wall).toFixed(2)}x (CPU ${(a.cpu / b.cpu).toFixed(2)}x)`;

/** Runs the benchmark over `sizes` (piece counts, ascending). */
export async function run(
  sizes: readonly number[] = DEFAULT_SIZES,
  limitSeconds = DEFAULT_LIMIT_SECONDS,
): Promise<void> {
  console.log(
    `\n## pieces: ms per verified piece (wall, and CPU of both runtimes), 16 KiB pieces, ` +
      `Bittern seeder -> Bittern leecher on 127.0.0.1`,
  );
  const results: PiecesResult[] = [];
  for (const pieceCount of sizes) {
    const result = await download(pieceCount, limitSeconds);
    results.push(result);
    if (result.verified < 2) continue;
    const seconds = (result.wall[result.verified - 1] - result.wall[0]) / 1000;
    const label = `${pieceCount} pieces (${(pieceCount * PIECE_LENGTH / 1048576).toFixed(0)} MiB)`;
    console.log(
      `${label.padEnd(28)} ${format(perPiece(result, 1, result.verified))} over ${
        result.verified - 1
      } pieces (${seconds.toFixed(1)} s after ${result.startupMs.toFixed(0)} ms to the first)`,
    );
  }
  const complete = results.filter((result) => result.verified === result.pieceCount);
  if (complete.length >= 2) {
    const small = complete[0];
    const large = complete[complete.length - 1];
    console.log(
      `ratio ${large.pieceCount} / ${small.pieceCount} pieces: ${
        ratio(perPiece(large, 1, large.pieceCount), perPiece(small, 1, small.pieceCount))
      } (goal: about 1)`,
    );
  }
  const largest = results[results.length - 1];
  if (largest && largest.verified >= 20) {
    const tenth = Math.floor(largest.verified / 10);
    const first = perPiece(largest, 1, tenth);
    const last = perPiece(largest, largest.verified - tenth, largest.verified);
    console.log(
      `${largest.pieceCount} pieces, ${largest.verified} verified: first 10% ${format(first)}, ` +
        `last 10% ${format(last)}, ratio ${ratio(last, first)} (goal: about 1)`,
    );
  }
}

if (import.meta.main) {
  const limit = Deno.args.find((arg) => arg.startsWith("--limit="));
  const sizes = Deno.args.filter((arg) => !arg.startsWith("--")).map(Number);
  await run(
    sizes.length ? sizes : DEFAULT_SIZES,
    limit ? Number(limit.slice("--limit=".length)) : DEFAULT_LIMIT_SECONDS,
  );
}
