// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * Seeder memory under hostile leechers, Bittern against libtorrent, each seeder in a fresh
 * process seeding a 256 MiB torrent (256 KiB pieces) from files in a temp dir:
 *
 * - (a) stalled: 20 connections handshake, say interested, wait (up to 15 s) for an unchoke,
 *   request one block in each of 250 different pieces and never read their socket again;
 * - (b) flood: 10 connections each write 100,000 valid requests at once (and keep reading).
 *
 * While the hostile connections are open, an honest libtorrent leecher downloads the torrent
 * from the seeder (up to 90 s) and the bytes it wrote are compared with the source. Prints
 * the seeder's RSS before the hostile peers came, its peak while they were there, and after.
 * Hostile peers run in this (the parent) process; the seeder's RSS is read with `ps`.
 *
 * The Bittern seeder runs as the README's install line and `deno task compile` run Bittern,
 * with `--v8-flags=--max-semi-space-size=4`.
 *
 * And (c): 20 honest Bittern leechers (in this process, keeping nothing) download at once;
 * the seeder's RSS growth divided by 20 is its memory per active connection.
 *
 * Run: `deno task bench seeder-memory` (`--mib N` changes the torrent size; `--scenario
 * honest|stalled|flood` and `--seeder bittern|libtorrent` run one part).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  parseTorrent,
  Runtime,
  type Storage,
  StorageError,
  type Torrent,
  type TorrentStorage,
} from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";
import {
  type HostileLeecher,
  requestFlood,
  stalledLeecher,
} from "../tests/session/hostile_peers.ts";
import { within } from "../tests/session/helpers.ts";
import { fixture } from "./download.ts";

const CHILD = new URL("./seeder_memory_child.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const LT_PEER = new URL("../tests/interop/lt_peer.py", import.meta.url).pathname;
const MiB = 1024 * 1024;
const HONEST_TIMEOUT_MS = 90_000;

/**
 * RSS of a process in MiB, from `ps` (Deno needs --allow-all to read another process's
 * /proc/<pid>/status; `ps` needs only --allow-run).
 */
async function rssOf(pid: number): Promise<number> {
  const { success, stdout } = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!success) throw new Error(`ps: no process ${pid}`);
  return Number(new TextDecoder().decode(stdout).trim()) / 1024;
}

/** A seeder in a child process that prints JSON lines and runs until its stdin closes. */
class SeederProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #pump: Promise<void>;
  readonly #stderr: Promise<string>;
  port = 0;

  constructor(command: string, args: string[]) {
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stderr = new Response(this.#child.stderr).text();
    const stdout = this.#child.stdout;
    this.#pump = (async () => {
      let buffer = "";
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        this.#lines.push(...lines.filter((line) => line.trim()));
      }
    })();
  }

  /** The first line already printed whose JSON has `event`. */
  find(event: string): Record<string, unknown> | undefined {
    return this.#lines.map((line) => JSON.parse(line)).find((parsed) => parsed.event === event);
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The first line whose JSON has `event`, waiting up to `ms`. */
  async event(event: string, ms: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (let i = 0; Date.now() < deadline && i < ms / 20 + 1; i++) {
      for (const line of this.#lines) {
        const parsed = JSON.parse(line);
        if (parsed.event === event) return parsed;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`seeder: no '${event}' within ${ms} ms; stderr: ${await this.#stderrSoFar()}`);
  }

  async #stderrSoFar(): Promise<string> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
    return (await this.#stderr).slice(-2000);
  }

  /** Closes stdin and waits for the process to exit (killing it after 10 s). */
  async close(): Promise<void> {
    try {
      await this.#child.stdin.close();
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 10_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#pump;
    await this.#stderr;
  }
}

function startSeeder(kind: "bittern" | "libtorrent", torrentPath: string, dataDir: string) {
  return kind === "bittern"
    ? new SeederProcess(Deno.execPath(), [
      "run",
      `--config=${CONFIG}`,
      "--v8-flags=--max-semi-space-size=4",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      CHILD,
      torrentPath,
      dataDir,
    ])
    : new SeederProcess("/usr/bin/python3", [
      LT_PEER,
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      dataDir,
    ]);
}

type Scenario = "stalled" | "flood";

interface Result {
  before: number;
  peak: number;
  after: number;
  unchoked: number;
  connections: number;
  honest: string;
  stillRunning: string;
  /** Bittern's own peaks (MiB): V8 heap used, external (array buffers), RSS. */
  breakdown?: { heap: number; external: number; rss: number };
  /** The same when the hostile peers came. */
  start?: { heap: number; external: number; rss: number };
}

/** Whether two files have the same bytes (read 4 MiB at a time). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  using fa = await Deno.open(a);
  using fb = await Deno.open(b);
  if ((await fa.stat()).size !== (await fb.stat()).size) return false;
  const ba = new Uint8Array(4 * MiB);
  const bb = new Uint8Array(4 * MiB);
  for (let i = 0; i < 1_000_000; i++) {
    const na = await readFull(fa, ba);
    const nb = await readFull(fb, bb);
    if (na !== nb) return false;
    if (na === 0) return true;
    for (let j = 0; j < na; j++) if (ba[j] !== bb[j]) return false;
  }
  return false;
}

async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Opens the scenario's hostile connections against `port`. */
async function openHostile(
  scenario: Scenario,
  port: number,
  torrent: Torrent,
): Promise<HostileLeecher[]> {
  const dials = scenario === "stalled"
    ? Array.from({ length: 20 }, () => stalledLeecher({ port, torrent, pieces: 250 }))
    : Array.from({ length: 10 }, () => requestFlood({ port, torrent, count: 100_000 }));
  const settled = await within(Promise.allSettled(dials), 60_000, "hostile connections");
  const open = settled.flatMap((result) => result.status === "fulfilled" ? [result.value] : []);
  const failed = settled.filter((result) => result.status === "rejected");
  if (failed.length) {
    console.log(
      `    (${failed.length} hostile connections failed: ${
        (failed[0] as PromiseRejectedResult).reason
      })`,
    );
  }
  return open;
}

/** A libtorrent leecher from `port` into a temp dir: "complete, every byte (s)" or what went wrong. */
async function honestLeecher(torrentPath: string, dataDir: string, port: number): Promise<string> {
  const out = await Deno.makeTempDir();
  const started = performance.now();
  let leecher: LtPeer | undefined;
  try {
    leecher = await LtPeer.leech(torrentPath, out, port, ["--plain"]);
    try {
      await leecher.waitFor((event) => event.event === "finished", HONEST_TIMEOUT_MS);
    } catch (error) {
      return `did not finish in ${HONEST_TIMEOUT_MS / 1000} s (${(error as Error).message})`;
    }
    const seconds = (performance.now() - started) / 1000;
    await leecher.close();
    leecher = undefined;
    const same = await sameBytes(join(dataDir, "payload.bin"), join(out, "payload.bin"));
    return same
      ? `complete, every byte right (${seconds.toFixed(1)} s)`
      : `finished but the bytes differ`;
  } finally {
    await leecher?.close();
    await Deno.remove(out, { recursive: true });
  }
}

async function measure(
  kind: "bittern" | "libtorrent",
  scenario: Scenario,
  torrentPath: string,
  torrent: Torrent,
  dataDir: string,
  withHonest: boolean,
): Promise<Result> {
  const seeder = startSeeder(kind, torrentPath, dataDir);
  let hostile: HostileLeecher[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    const listening = await seeder.event("listening", 120_000);
    const port = listening.port as number;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = await rssOf(seeder.pid);
    let peak = before;
    sampler = setInterval(() => {
      rssOf(seeder.pid).then((rss) => peak = Math.max(peak, rss), () => {});
    }, 200);
    hostile = await openHostile(scenario, port, torrent);
    const honest = withHonest
      ? await honestLeecher(torrentPath, dataDir, port)
      : "not run (no libtorrent)";
    // Let the seeder settle with the hostile peers still connected.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await rssOf(seeder.pid);
    clearInterval(sampler);
    sampler = undefined;
    const unchoked = hostile.filter((peer) => peer.unchoked).length;
    const connections = hostile.length;
    await Promise.all(hostile.map((peer) => peer.close().catch(() => {})));
    hostile = [];
    await seeder.close();
    const stopping = seeder.find("stopping");
    return {
      before,
      peak: Math.max(peak, after),
      after,
      unchoked,
      connections,
      honest,
      stillRunning: kind === "libtorrent"
        ? "n/a"
        : stopping?.running === true
        ? "yes"
        : `no (${JSON.stringify(stopping)})`,
      breakdown: stopping?.peak as Result["breakdown"],
      start: stopping?.start as Result["breakdown"],
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(hostile.map((peer) => peer.close().catch(() => {})));
    await seeder.close();
  }
}

/** Storage that keeps nothing (write-only: pieces verify as they stream in). */
class DiscardStorage implements Storage {
  open(torrent: Torrent): Promise<TorrentStorage> {
    return Promise.resolve({
      readable: false,
      read: () => Promise.reject(new StorageError("not-found", "read", torrent.name, "discarded")),
      write: () => Promise.resolve(),
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

/**
 * (c) `leechers` honest Bittern leechers (in this process, keeping nothing) download the
 * whole torrent from the seeder at once: the seeder's RSS growth per active connection.
 */
async function measurePerConnection(
  kind: "bittern" | "libtorrent",
  torrentPath: string,
  torrent: Torrent,
  dataDir: string,
  leechers: number,
): Promise<
  Pick<Result, "before" | "peak" | "breakdown" | "start"> & { seconds: number; completed: number }
> {
  const seeder = startSeeder(kind, torrentPath, dataDir);
  const runtimes: Runtime[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    const port = (await seeder.event("listening", 120_000)).port as number;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = await rssOf(seeder.pid);
    let peak = before;
    sampler = setInterval(() => {
      rssOf(seeder.pid).then((rss) => peak = Math.max(peak, rss), () => {});
    }, 200);
    const started = performance.now();
    const sessions = await Promise.all(Array.from({ length: leechers }, async () => {
      const runtime = new Runtime({ listen: false });
      runtimes.push(runtime);
      return await runtime.add(torrent, {
        storage: new DiscardStorage(),
        peers: [{ host: "127.0.0.1", port }],
        pex: false,
        seed: false,
      });
    }));
    const results = await within(
      Promise.allSettled(sessions.map((session) => session.completed)),
      300_000,
      "honest leechers",
    );
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, await rssOf(seeder.pid));
    await seeder.close();
    return {
      before,
      peak,
      seconds,
      completed: results.filter((result) => result.status === "fulfilled").length,
      breakdown: seeder.find("stopping")?.peak as Result["breakdown"],
      start: seeder.find("stopping")?.start as Result["breakdown"],
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(runtimes.map((runtime) => runtime.close()));
    await seeder.close();
  }
}

/** Bittern's own view of its peaks, when it reported one. */
function breakdown(start: Result["start"], peaks: Result["breakdown"]): string {
  return start && peaks
    ? `; Bittern's view: V8 heap ${start.heap.toFixed(0)} -> peak ${
      peaks.heap.toFixed(0)
    } MiB, array buffers ${start.external.toFixed(0)} -> peak ${peaks.external.toFixed(0)} MiB`
    : "";
}

function parse(args: string[]): { mib: number; scenario?: string; seeder?: string } {
  const { values } = parseArgs({
    args,
    options: {
      mib: { type: "string", default: "256" },
      scenario: { type: "string" },
      seeder: { type: "string" },
    },
  });
  return { mib: Number(values.mib), scenario: values.scenario, seeder: values.seeder };
}

/** Runs both scenarios against a Bittern and a libtorrent seeder and prints the figures. */
export async function run(args: string[] = []): Promise<void> {
  const { mib, scenario: onlyScenario, seeder: onlySeeder } = parse(args);
  console.log(
    `\n## seeder memory under hostile leechers: ${mib} MiB torrent, 256 KiB pieces, ` +
      `filesystem storage, seeder in a fresh process`,
  );
  const lt = await hasLibtorrent();
  if (!lt) console.log("(no python3-libtorrent: no baseline, no honest leecher)");
  const dir = await Deno.makeTempDir();
  try {
    const { torrentPath, bytes } = await fixture(dir, mib);
    const torrent = parseTorrent(bytes);
    const dataDir = join(dir, "data");
    const scenarios: [Scenario, string][] = [
      ["stalled", "(a) 20 leechers: 1 block in each of 250 pieces, then never read"],
      ["flood", "(b) 10 leechers: 100,000 requests each at once"],
    ];
    const honestCount = 20;
    if (!onlyScenario || onlyScenario === "honest") {
      console.log(
        `(c) ${honestCount} honest Bittern leechers at once (memory per active connection)`,
      );
      for (const kind of lt ? ["bittern", "libtorrent"] as const : ["bittern"] as const) {
        if (onlySeeder && onlySeeder !== kind) continue;
        const r = await measurePerConnection(kind, torrentPath, torrent, dataDir, honestCount);
        const perConnection = (r.peak - r.before) * 1024 / honestCount;
        console.log(
          `  ${kind.padEnd(10)} RSS before ${r.before.toFixed(0).padStart(4)} MiB, peak ${
            r.peak.toFixed(0).padStart(4)
          } MiB: ${perConnection.toFixed(0)} KiB per connection; ${r.completed}/${honestCount} ` +
            `complete in ${r.seconds.toFixed(1)} s` + breakdown(r.start, r.breakdown),
        );
      }
    }
    for (const [scenario, label] of scenarios) {
      if (onlyScenario && onlyScenario !== scenario) continue;
      console.log(label);
      for (const kind of lt ? ["bittern", "libtorrent"] as const : ["bittern"] as const) {
        if (onlySeeder && onlySeeder !== kind) continue;
        const r = await measure(kind, scenario, torrentPath, torrent, dataDir, lt);
        console.log(
          `  ${kind.padEnd(10)} RSS before ${r.before.toFixed(0).padStart(4)} MiB, peak ${
            r.peak.toFixed(0).padStart(4)
          } MiB, after ${r.after.toFixed(0).padStart(4)} MiB (+${
            (r.after - r.before).toFixed(0)
          }); ${r.unchoked}/${r.connections} hostile unchoked; honest leecher: ${r.honest}` +
            (kind === "bittern" ? `; session still running at the end: ${r.stillRunning}` : "") +
            breakdown(r.start, r.breakdown),
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Deno.args);
