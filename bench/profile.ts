// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Where the time goes: V8's CPU profile of Bittern's main thread (self time per function,
 * the 25 largest shares) while it downloads 256 MiB from a libtorrent seeder, and while it
 * seeds the same to a libtorrent leecher (default libtorrent settings, 127.0.0.1, each
 * Bittern side in a fresh process: bench/profile_child.ts); then V8's sampled heap
 * allocations (collected objects included) of the same download: the bytes allocated per
 * 256 MiB downloaded (the allocation rate that grows the young generation) and where.
 *
 * Run: `deno task bench profile`.
 */
import { join } from "node:path";
import { hasLibtorrent } from "../tests/interop/lt_process.ts";
import { fixture, libtorrentLeech, libtorrentSeeder } from "./download.ts";

const CHILD = new URL("./profile_child.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const ARGS = [
  "run",
  `--config=${CONFIG}`,
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
  CHILD,
];

type Top = [string, number][];

function print(title: string, top: Top): void {
  console.log(title);
  for (const [where, share] of top) {
    console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${where}`);
  }
}

/** The `profile` line of a child's output. */
function profileOf(output: string): Top {
  const line = output.split("\n").find((text) => text.includes('"event":"profile"'));
  if (!line) throw new Error(`bench/profile: no profile in ${output.slice(-500)}`);
  return JSON.parse(line).top;
}

/** Runs the child downloading from a libtorrent seeder in `mode`; returns its output. */
async function downloadChild(
  mode: "download" | "allocations",
  torrentPath: string,
  dir: string,
): Promise<string> {
  const seeder = await libtorrentSeeder(torrentPath, dir);
  try {
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [...ARGS, mode, torrentPath, String(seeder.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`profile child: ${new TextDecoder().decode(stderr)}`);
    return new TextDecoder().decode(stdout);
  } finally {
    await seeder.close();
  }
}

/** Profiles a Bittern download from a libtorrent seeder. */
async function profileDownload(torrentPath: string, dir: string): Promise<Top> {
  return profileOf(await downloadChild("download", torrentPath, dir));
}

/** Samples a Bittern download's heap allocations: total bytes and the largest shares. */
export async function profileAllocations(
  torrentPath: string,
  dir: string,
): Promise<{ total: number; top: Top }> {
  const output = await downloadChild("allocations", torrentPath, dir);
  const line = output.split("\n").find((text) => text.includes('"event":"allocations"'));
  if (!line) throw new Error(`bench/profile: no allocations in ${output.slice(-500)}`);
  return JSON.parse(line);
}

/** Profiles a Bittern seeder while a libtorrent leecher downloads from it. */
async function profileSeed(torrentPath: string, dir: string): Promise<Top> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...ARGS, "seed", torrentPath, join(dir, "data")],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const more = async () => {
    const { value, done } = await reader.read();
    if (done) return false;
    text += value;
    return true;
  };
  try {
    // The first line says where it listens (checking the data first takes a while).
    const deadline = Date.now() + 120_000;
    while (!text.includes("\n")) {
      if (Date.now() > deadline || !await more()) throw new Error("seeder: no port line");
    }
    const port = JSON.parse(text.split("\n")[0]).port as number;
    await libtorrentLeech(torrentPath, port);
  } finally {
    await child.stdin.close();
  }
  // The profile follows once stdin closed; the child then exits, ending stdout.
  while (await more()) { /* until the end */ }
  await child.status;
  return profileOf(text);
}

/** Runs both profiles and prints them. */
export async function run(): Promise<void> {
  console.log("\n## profile: Bittern's main thread, 256 MiB, libtorrent on the other side");
  if (!await hasLibtorrent()) return console.log("skipped: no python3-libtorrent");
  const dir = await Deno.makeTempDir();
  try {
    const { torrentPath } = await fixture(dir, 256);
    print("downloading from a libtorrent seeder:", await profileDownload(torrentPath, dir));
    print("seeding to a libtorrent leecher:", await profileSeed(torrentPath, dir));
    const { total, top } = await profileAllocations(torrentPath, dir);
    print(
      `allocated while downloading: ${(total / 1048576).toFixed(0)} MiB per 256 MiB (by function):`,
      top,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run();
