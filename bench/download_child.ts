/**
 * The Bittern side of bench/download.ts, run in a child process so its peak
 * RSS is the download's alone: downloads `<torrent>` from 127.0.0.1:`<port>`
 * into a temp dir and prints `{"seconds": s, "peakRssMiB": m}`. The optional
 * third argument is the runtime's `encryption` policy (default: the runtime's
 * default).
 *
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write bench/download_child.ts <torrent> <port> [prefer|require|off]`
 */
import { type EncryptionPolicy, Runtime } from "../mod.ts";

const [torrentPath, port, encryptionArg] = Deno.args;
const POLICIES: readonly EncryptionPolicy[] = ["prefer", "require", "off"];
const encryption = POLICIES.find((policy) => policy === encryptionArg);
if (encryptionArg !== undefined && !encryption) {
  throw new Error(`encryption: expected prefer, require or off, got ${encryptionArg}`);
}
const bytes = await Deno.readFile(torrentPath);
const out = await Deno.makeTempDir();
let peak = 0;
const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
const runtime = new Runtime({ listen: false, encryption });
try {
  const started = performance.now();
  const session = await runtime.add(bytes, {
    out,
    restore: "none",
    peers: [{ host: "127.0.0.1", port: Number(port) }],
  });
  await session.completed;
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, Deno.memoryUsage().rss);
  // deno-lint-ignore no-console -- the parent reads this line
  console.log(JSON.stringify({ seconds, peakRssMiB: peak / 1048576 }));
} finally {
  clearInterval(timer);
  await runtime.close();
  await Deno.remove(out, { recursive: true });
}
