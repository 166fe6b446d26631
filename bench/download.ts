// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Download and seeding throughput against libtorrent on 127.0.0.1, in one run:
 *
 * - download: a libtorrent seeder serves a generated torrent; a libtorrent
 *   leecher and then Bittern (in a fresh process) each download it.
 * - seeding: a libtorrent leecher downloads from a Bittern seeder, compared
 *   with the same leecher from the libtorrent seeder.
 * - both again encrypted: libtorrent with encryption forced (MSE/RC4 only,
 *   both ways) on each libtorrent side, Bittern with `encryption: "require"`.
 *
 * In the first two rows libtorrent runs with its default encryption settings
 * (outgoing connections start with an MSE handshake, and plaintext is chosen
 * when both are offered), as the speed goals are stated against it; Bittern
 * runs with its default (`prefer`), so both sides handshake alike.
 * - memory: peak RSS of a Bittern download of 1 GiB, in a fresh process.
 *
 * Run: `deno task bench download memory` or
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/download.ts [MiB]`.
 */
import { join } from "node:path";
import { createTorrent, type EncryptionPolicy, FileSystemStorage, Runtime } from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";

const CHILD = new URL("./download_child.ts", import.meta.url).pathname;
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

/**
 * Seconds for a libtorrent leecher (a fresh process) to download from `port`: default
 * encryption settings, or forced with `forced`. `measure: "transfer"` counts from its first
 * peer on (libtorrent's own figure, without the process's start-up).
 */
export async function libtorrentLeech(
  torrentPath: string,
  port: number,
  forced = false,
  measure: "wall" | "transfer" = "wall",
): Promise<number> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  const leecher = await LtPeer.start([
    "leech",
    ...forced ? [FORCED] : [],
    "--torrent",
    torrentPath,
    "--out",
    out,
    "--peer",
    `127.0.0.1:${port}`,
  ]);
  try {
    const finished = await leecher.waitFor((event) => event.event === "finished", 600_000);
    if (measure === "transfer") return finished.seconds as number;
    return (performance.now() - started) / 1000;
  } finally {
    await leecher.close();
    await Deno.remove(out, { recursive: true });
  }
}

/**
 * Runs bench/download_child.ts (a Bittern download in a fresh process) with `v8Flags` and, if
 * given, the `encryption` policy.
 */
async function bitternLeech(
  torrentPath: string,
  port: number,
  v8Flags: string[] = [],
  encryption?: EncryptionPolicy,
): Promise<{ seconds: number; peakRssMiB: number }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${CONFIG}`,
      ...v8Flags.map((flag) => `--v8-flags=${flag}`),
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      CHILD,
      torrentPath,
      String(port),
      ...encryption ? [encryption] : [],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`download child failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
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
  const record = (label: string, ours: number, theirs: number) => {
    console.log(line(label, ours, theirs));
    ratios.set(label, [...ratios.get(label) ?? [], ours / theirs]);
  };
  try {
    const { torrentPath, bytes } = await fixture(dir, mib, 3);
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
  record: (label: string, ours: number, theirs: number) => void,
): Promise<void> {
  for (const encrypted of [false, true]) {
    // Encrypted: every libtorrent side forced to RC4, Bittern requiring it.
    const policy: EncryptionPolicy | undefined = encrypted ? "require" : undefined;
    const suffix = encrypted ? ", encrypted" : "";
    const seeder = await libtorrentSeeder(torrentPath, dir, encrypted);
    let ltSeconds: number;
    let ourSeconds: number;
    try {
      ltSeconds = await libtorrentLeech(torrentPath, seeder.port, encrypted);
      ({ seconds: ourSeconds } = await bitternLeech(torrentPath, seeder.port, [], policy));
    } finally {
      await seeder.close();
    }
    record(`download from a libtorrent seeder${suffix}`, mib / ourSeconds, mib / ltSeconds);

    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
      encryption: policy,
    });
    let ourSeedSeconds: number;
    try {
      await runtime.add(bytes, { storage: new FileSystemStorage(join(dir, "data")) });
      ourSeedSeconds = await libtorrentLeech(torrentPath, runtime.port!, encrypted);
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
