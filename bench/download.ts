// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Download and seeding throughput against libtorrent on 127.0.0.1, in one run:
 *
 * - download: a libtorrent seeder serves a generated torrent; a libtorrent
 *   leecher and then Bittern each download it, both as whole processes timed
 *   from spawn (start-up included): the libtorrent leecher to its "finished"
 *   event, Bittern's headline CLI command (`cli.ts download`) to its exit (and,
 *   in the row below, to its "downloaded" line, as libtorrent is timed); and the
 *   CPU each process used for it (user plus system, all threads: GNU time for
 *   Bittern, the leecher's own count at "finished"), as MiB per CPU second.
 * - seeding: a libtorrent leecher downloads from a Bittern seeder, compared
 *   with the same leecher from the libtorrent seeder.
 * - both again encrypted: libtorrent with encryption forced (MSE/RC4 only,
 *   both ways) on each libtorrent side, Bittern with `encryption: "require"`.
 *
 * In the first two rows libtorrent runs with its default encryption settings
 * (outgoing connections start with an MSE handshake, and plaintext is chosen
 * when both are offered), as the speed goals are stated against it; Bittern
 * runs with its default (`prefer`), so both sides handshake alike.
 * - memory: peak RSS (`ru_maxrss` from GNU time: the kernel's `VmHWM`) of the same CLI command
 *   downloading 1 GiB.
 *
 * Run: `deno task bench download memory` or
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/download.ts [MiB]`.
 */
import { join } from "node:path";
import { createTorrent, type EncryptionPolicy, FileSystemStorage, Runtime } from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SKIPPED =
  "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)";

/** Writes `bytes` of deterministic data, 1 MiB at a time. */
async function writePayload(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
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
    for (let offset = 0; offset < part.length;) offset += await file.write(part.subarray(offset));
  }
}

/**
 * A payload of `mib` MiB under `dir/data` and its torrent (256 KiB pieces): one file
 * `payload.bin`, or with `files` > 1 a folder `payload` of that many files of unequal sizes
 * (so pieces span file boundaries).
 */
export async function fixture(
  dir: string,
  mib: number,
  files = 1,
): Promise<{ torrentPath: string; bytes: Uint8Array }> {
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  const total = mib * 1024 * 1024;
  let source = join(dir, "data", "payload.bin");
  if (files === 1) await writePayload(source, total);
  else {
    source = join(dir, "data", "payload");
    await Deno.mkdir(source, { recursive: true });
    // Sizes 1 : 2 : 3 ... (the last takes the remainder), none a multiple of the piece length.
    const weights = files * (files + 1) / 2;
    let left = total;
    for (let i = 1; i <= files; i++) {
      const size = i === files ? left : Math.floor(total * i / weights) - 12345 * i;
      await writePayload(join(source, `part-${i}.bin`), size);
      left -= size;
    }
  }
  const { bytes } = await createTorrent(source, { pieceLength: 262144 });
  const torrentPath = join(dir, "payload.torrent");
  await Deno.writeFile(torrentPath, bytes);
  return { torrentPath, bytes };
}

/** lt_peer.py's flag for libtorrent with encryption forced (MSE/RC4 only, both ways). */
const FORCED = "--forced-encryption";

/**
 * A libtorrent seeder of the {@linkcode fixture} in `dir`: default encryption settings, or
 * forced with `forced`.
 */
export function libtorrentSeeder(
  torrentPath: string,
  dir: string,
  forced = false,
): Promise<LtPeer> {
  return LtPeer.start([
    "seed",
    "--torrent",
    torrentPath,
    "--data",
    join(dir, "data"),
    ...forced ? [FORCED] : [],
  ]);
}

/** One libtorrent leecher download, a fresh process. */
export interface LeechRun {
  /** Seconds from spawn to "finished", or from its first peer with `measure: "transfer"`. */
  readonly seconds: number;
  /** CPU seconds the process used until then, user plus system, all threads. */
  readonly cpuSeconds: number;
}

/**
 * A libtorrent leecher (a fresh process) downloading from `port`: default encryption
 * settings, or forced with `forced`. `measure: "transfer"` counts from its first peer on
 * (libtorrent's own figure, without the process's start-up).
 */
export async function libtorrentLeech(
  torrentPath: string,
  port: number,
  forced = false,
  measure: "wall" | "transfer" = "wall",
): Promise<LeechRun> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const leecher = await LtPeer.leech(torrentPath, out, port, forced ? [FORCED] : []);
  try {
    const finished = await leecher.waitFor((event) => event.event === "finished", 600_000);
    const seconds = measure === "transfer"
      ? finished.seconds as number
      : (performance.now() - started) / 1000;
    return { seconds, cpuSeconds: finished.cpu as number };
  } finally {
    await leecher.close();
    await Deno.remove(out, { recursive: true });
  }
}

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** One Bittern download as a whole process: the headline CLI command, spawn to exit. */
export interface ProcessRun {
  /** Seconds from spawn to exit (start-up, module load and shutdown included). */
  readonly seconds: number;
  /** Seconds from spawn to the CLI's "downloaded" line (as the libtorrent leecher is timed). */
  readonly completedSeconds: number;
  /** The process's peak RSS (`ru_maxrss`, i.e. `VmHWM` at exit; NaN without GNU time), MiB. */
  readonly peakRssMiB: number;
  /** CPU seconds the process used, user plus system (NaN without GNU time). */
  readonly cpuSeconds: number;
}

/**
 * GNU time, whose `%M` is the child's `ru_maxrss` from `wait4`: its peak resident set, the
 * `VmHWM` the kernel keeps, read once at exit. (Polling /proc/<pid>/status from here would need
 * `--allow-all` in Deno 2.)
 */
const GNU_TIME = "/usr/bin/time";

/** Whether {@linkcode GNU_TIME} is there (without it, peak RSS is NaN). */
async function hasGnuTime(): Promise<boolean> {
  try {
    return (await Deno.stat(GNU_TIME)).isFile;
  } catch {
    return false;
  }
}

/**
 * Downloads `torrentPath` from 127.0.0.1:`port` with the headline command, in a fresh process
 * with no V8 flags unless `v8Flags`:
 * `deno run --allow-net --allow-read --allow-write cli.ts download <torrent> --out DIR --peer
 * 127.0.0.1:PORT` (scoped to 127.0.0.1, plus `--port 0 --no-dht` so nothing leaves loopback),
 * with `--encryption` if given. The parent times spawn to exit; the peak RSS comes from
 * {@linkcode GNU_TIME}.
 */
export async function bitternLeech(
  torrentPath: string,
  port: number,
  v8Flags: string[] = [],
  encryption?: EncryptionPolicy,
): Promise<ProcessRun> {
  const out = await Deno.makeTempDir();
  try {
    const rssFile = await Deno.makeTempFile({ suffix: ".rss" });
    const timed = await hasGnuTime();
    const command = [
      Deno.execPath(),
      "run",
      `--config=${CONFIG}`,
      ...v8Flags.map((flag) => `--v8-flags=${flag}`),
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      CLI,
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
      ...encryption ? ["--encryption", encryption] : [],
    ];
    const [program, ...args] = timed
      ? [GNU_TIME, "-f", "%M %U %S", "-o", rssFile, ...command]
      : command;
    const started = performance.now();
    const child = new Deno.Command(program, {
      args,
      // Deno's update check would look up dl.deno.land: the bench stays on loopback.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let completedSeconds = NaN;
    const lines = (async () => {
      let text = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        if (Number.isNaN(completedSeconds) && /^downloaded /m.test(text)) {
          completedSeconds = (performance.now() - started) / 1000;
        }
      }
      return text;
    })();
    const errors = new Response(child.stderr).text();
    const status = await child.status;
    const seconds = (performance.now() - started) / 1000;
    const [stdout, stderr] = await Promise.all([lines, errors]);
    if (!status.success || Number.isNaN(completedSeconds)) {
      throw new Error(`bittern download failed (${status.code}): ${stderr}${stdout.slice(-500)}`);
    }
    // GNU time's last line: peak RSS in KiB, user and system CPU seconds.
    const [peakKib, user, system] = timed
      ? (await Deno.readTextFile(rssFile)).trim().split("\n").at(-1)!.split(" ").map(Number)
      : [NaN, NaN, NaN];
    await Deno.remove(rssFile);
    return { seconds, completedSeconds, peakRssMiB: peakKib / 1024, cpuSeconds: user + system };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Median seconds from spawn to exit of `rounds` runs of `deno <args>` (after one unmeasured). */
async function medianRun(args: string[], rounds: number): Promise<number> {
  const seconds: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const started = performance.now();
    const { success } = await new Deno.Command(Deno.execPath(), {
      args,
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) throw new Error(`deno ${args.join(" ")} failed`);
    if (round > 0) seconds.push((performance.now() - started) / 1000);
  }
  return median(seconds);
}

/**
 * The start-up every CLI download pays: median seconds of `rounds` runs of `deno run
 * --allow-net --allow-write cli.ts download --help` (the download command and the library
 * loaded, nothing done; `cli.ts --help` alone loads no command), and as the baseline the same
 * of `deno run` on an empty module in `dir` (Deno's own start-up, which no change here can cut).
 * The first run of each also warms Deno's transpile and code caches, as a user's second run
 * would find them.
 */
export async function cliStartup(
  dir: string,
  rounds = 10,
): Promise<{ cli: number; bare: number }> {
  const empty = join(dir, "empty.ts");
  await Deno.writeTextFile(empty, "export {};\n");
  const cli = await medianRun(
    ["run", `--config=${CONFIG}`, "--allow-net", "--allow-write", CLI, "download", "--help"],
    rounds,
  );
  const bare = await medianRun(["run", `--config=${CONFIG}`, empty], rounds);
  return { cli, bare };
}

function line(label: string, ours: number, theirs: number, unit = "MiB/s"): string {
  return `${label.padEnd(44)} bittern ${ours.toFixed(1).padStart(7)} ${unit}   libtorrent ${
    theirs.toFixed(1).padStart(7)
  } ${unit}   ratio ${(ours / theirs).toFixed(2)}x`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs the download and seeding benchmarks `rounds` times with a payload of `mib` MiB in 3
 * files, printing each round and then the median of each row's same-run ratio.
 */
export async function run(mib = 256, rounds = 3): Promise<void> {
  console.log(
    `\n## download and seed, ${mib} MiB in 3 files, 256 KiB pieces (vs libtorrent, same run), ` +
      `${rounds} rounds`,
  );
  if (!await hasLibtorrent()) return console.log(SKIPPED);
  const dir = await Deno.makeTempDir();
  const ratios = new Map<string, number[]>();
  const record = (label: string, ours: number, theirs: number, unit?: string) => {
    console.log(line(label, ours, theirs, unit));
    ratios.set(label, [...ratios.get(label) ?? [], ours / theirs]);
  };
  try {
    const { torrentPath, bytes } = await fixture(dir, mib, 3);
    const startup = await cliStartup(dir);
    console.log(
      `${"start-up: cli.ts download --help, to exit".padEnd(44)} bittern ${
        (startup.cli * 1000).toFixed(0).padStart(7)
      } ms      bare deno run ${(startup.bare * 1000).toFixed(0).padStart(4)} ms      ratio ${
        (startup.cli / startup.bare).toFixed(2)
      }x`,
    );
    for (let round = 1; round <= rounds; round++) {
      console.log(`round ${round}`);
      await runRound(dir, mib, torrentPath, bytes, record);
    }
    console.log(`median of ${rounds} rounds`);
    for (const [label, values] of ratios) {
      console.log(
        `${label.padEnd(44)} ratio ${median(values).toFixed(2)}x   (${
          values.map((value) => value.toFixed(2)).join(", ")
        })`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One round: download and seeding, plain then encrypted. */
async function runRound(
  dir: string,
  mib: number,
  torrentPath: string,
  bytes: Uint8Array,
  record: (label: string, ours: number, theirs: number, unit?: string) => void,
): Promise<void> {
  for (const encrypted of [false, true]) {
    // Encrypted: every libtorrent side forced to RC4, Bittern requiring it.
    const policy: EncryptionPolicy | undefined = encrypted ? "require" : undefined;
    const suffix = encrypted ? ", encrypted" : "";
    const seeder = await libtorrentSeeder(torrentPath, dir, encrypted);
    let theirs: LeechRun;
    let ours: ProcessRun;
    try {
      theirs = await libtorrentLeech(torrentPath, seeder.port, encrypted);
      ours = await bitternLeech(torrentPath, seeder.port, [], policy);
    } finally {
      await seeder.close();
    }
    const ltSeconds = theirs.seconds;
    record(`download from a libtorrent seeder${suffix}`, mib / ours.seconds, mib / ltSeconds);
    record(
      `  the same, spawn to "downloaded"${suffix}`,
      mib / ours.completedSeconds,
      mib / ltSeconds,
    );
    // CPU per byte does not depend on when the seeder speeds up, which sets the pace on a
    // machine with CPU to spare; it is noisy too (under a CPU second, in 10 ms ticks).
    if (!Number.isNaN(ours.cpuSeconds)) {
      record(
        `  MiB per CPU second${suffix}`,
        mib / ours.cpuSeconds,
        mib / theirs.cpuSeconds,
        "MiB/CPU-s",
      );
    }

    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
      encryption: policy,
    });
    let ourSeedSeconds: number;
    try {
      await runtime.add(bytes, { storage: new FileSystemStorage(join(dir, "data")) });
      ourSeedSeconds = (await libtorrentLeech(torrentPath, runtime.port!, encrypted)).seconds;
    } finally {
      await runtime.close();
    }
    record(`a libtorrent leecher from us${suffix}`, mib / ourSeedSeconds, mib / ltSeconds);
  }
}

/**
 * Peak RSS of a Bittern download of `mib` MiB from a libtorrent seeder, with V8's
 * default young generation (the headline command; `rounds` runs and their median) and with
 * `--max-semi-space-size=4` (once).
 */
export async function runMemory(mib = 1024, rounds = 3): Promise<void> {
  console.log(
    `\n## memory: peak RSS downloading ${mib} MiB from a libtorrent seeder (fresh process)`,
  );
  if (!await hasLibtorrent()) return console.log(SKIPPED);
  const dir = await Deno.makeTempDir();
  try {
    const { torrentPath } = await fixture(dir, mib);
    const seeder = await libtorrentSeeder(torrentPath, dir);
    try {
      const peaks: number[] = [];
      for (const flags of [...Array(rounds).fill([]), ["--max-semi-space-size=4"]]) {
        const { seconds, peakRssMiB } = await bitternLeech(torrentPath, seeder.port, flags);
        if (!flags.length) peaks.push(peakRssMiB);
        console.log(
          `${(flags.join(" ") || "default V8 flags").padEnd(36)} peak RSS ${
            peakRssMiB.toFixed(0).padStart(4)
          } MiB   ${(mib / seconds).toFixed(1)} MiB/s`,
        );
      }
      console.log(`median peak RSS with default V8 flags: ${median(peaks).toFixed(0)} MiB`);
    } finally {
      await seeder.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await run(Number(Deno.args[0] ?? 256));
  await runMemory();
}
