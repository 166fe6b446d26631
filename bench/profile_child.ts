/**
 * The profiled Bittern side of bench/profile.ts, in a process of its own: samples the main
 * thread's CPU with V8's profiler (through `node:inspector`, so it needs
 * `--allow-sys`, as only a benchmark child does) while it
 *
 * - `download <torrent> <port>`: downloads from 127.0.0.1:`port` into a temp dir,
 * - `allocations <torrent> <port>`: the same download, sampling V8's heap allocations
 *   instead (every sampled allocation counts, collected or not: the allocation rate), or
 * - `seed <torrent> <dir>`: seeds from `dir`, prints `{"event":"listening","port":N}`, and
 *   serves until its stdin closes,
 *
 * then prints one JSON line: the share of samples spent in each function (self time).
 */
import inspector from "node:inspector";
import { FileSystemStorage, Runtime } from "../mod.ts";

interface AllocationNode {
  readonly callFrame: ProfileNode["callFrame"];
  readonly selfSize: number;
  readonly children: readonly AllocationNode[];
}

interface ProfileNode {
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount: number;
}

const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) =>
    session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
  );

/** Self time by function, largest first: `[name location, share]`. */
function summarise(nodes: readonly ProfileNode[]): [string, number][] {
  const self = new Map<string, number>();
  let total = 0;
  for (const node of nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*\/(src|bench|ext:)/, "$1").replace(/^file:\/\//, "");
    const key = `${functionName || "(anonymous)"}${where ? ` ${where}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  return [...self].sort((a, b) => b[1] - a[1]).map(([key, hits]) => [key, hits / total]);
}

/** Bytes allocated by function (self), largest first, and the total. */
function summariseAllocations(head: AllocationNode): { total: number; top: [string, number][] } {
  const self = new Map<string, number>();
  let total = 0;
  const stack = [head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^.*\/(src|bench|ext:)/, "$1").replace(/^file:\/\//, "");
    const key = `${functionName || "(anonymous)"}${where ? ` ${where}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    stack.push(...node.children);
  }
  return { total, top: [...self].sort((a, b) => b[1] - a[1]) };
}

const [mode, torrentPath, arg] = Deno.args;
const runtime = new Runtime(
  mode === "seed"
    ? { listen: { hostname: "127.0.0.1", port: 0 }, maxConnectionsPerIp: 64 }
    : { listen: false },
);
const out = mode === "seed" ? undefined : await Deno.makeTempDir();

/** Downloads the torrent from the seeder at 127.0.0.1:`port` into `out`. */
async function download(torrent: Uint8Array, port: number): Promise<void> {
  const added = await runtime.add(torrent, {
    out,
    restore: "none",
    peers: [{ host: "127.0.0.1", port }],
  });
  await added.completed;
}

/** Samples every allocation (collected ones too) of a download: the allocation rate. */
async function profileAllocations(torrent: Uint8Array, port: number): Promise<void> {
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await download(torrent, port);
  const { profile } = await post<{ profile: { head: AllocationNode } }>(
    "HeapProfiler.stopSampling",
  );
  const { total, top } = summariseAllocations(profile.head);
  // deno-lint-ignore no-console -- the parent reads this line
  console.log(JSON.stringify({
    event: "allocations",
    total,
    top: top.slice(0, 25).map(([where, bytes]) => [where, bytes / total]),
  }));
}

try {
  const torrent = await Deno.readFile(torrentPath);
  if (mode === "allocations") {
    await profileAllocations(torrent, Number(arg));
  } else {
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 250 });
    if (mode === "download") {
      await post("Profiler.start");
      await download(torrent, Number(arg));
    } else {
      await runtime.add(torrent, { storage: new FileSystemStorage(arg) });
      // deno-lint-ignore no-console -- the parent reads this line
      console.log(JSON.stringify({ event: "listening", port: runtime.port }));
      await post("Profiler.start");
      for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
    }
    const { profile } = await post<{ profile: { nodes: ProfileNode[] } }>("Profiler.stop");
    // deno-lint-ignore no-console -- the parent reads this line
    console.log(JSON.stringify({ event: "profile", top: summarise(profile.nodes).slice(0, 25) }));
  }
} finally {
  await runtime.close();
  if (out) await Deno.remove(out, { recursive: true });
}
