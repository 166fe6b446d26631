/**
 * Runs the Debian opentracker (whitelist-only build) on 127.0.0.1 for interop tests:
 * a chroot directory with the whitelist, and a wait until it answers for the first hash.
 */
import { generatePeerId } from "../../src/peers/mod.ts";
import { announce, scrape } from "../../src/tracker/mod.ts";
import { fromHex } from "../../src/util/bytes.ts";
import { freePort, installed } from "./fixture.ts";

/** Where Debian installs opentracker. */
export const OPENTRACKER = "/usr/bin/opentracker";

/** Whether opentracker is installed. */
export const hasOpentracker: boolean = installed(OPENTRACKER);

/** A running opentracker. */
export interface Opentracker {
  /** Its announce URL. */
  readonly url: string;
  /** Kills it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Resolves once opentracker answers an announce for a whitelisted hash: it listens before
 * its whitelist thread has loaded the file. Bounded attempts; a `stopped` announce adds no
 * peer to the swarm.
 */
async function waitUntilReady(
  url: string,
  infoHashHex: string,
  child: Deno.ChildProcess,
): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  let lastError: unknown;
  for (let attempt = 0; attempt < 100 && !exited; attempt++) {
    try {
      await announce(url, {
        infoHash: fromHex(infoHashHex)!,
        peerId: generatePeerId(),
        port: 1,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: "stopped",
      }, { timeout: 2_000 });
      return;
    } catch (error) {
      lastError = error;
      // Its whitelist loads in another thread a moment after it listens.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`opentracker at ${url} never became ready`, { cause: lastError });
}

/**
 * Starts opentracker on 127.0.0.1:`port` serving only `infoHashes` (lowercase hex).
 *
 * @param infoHashes The whitelist; the first one is used to wait until it is ready.
 * @param port Where to listen (TCP and UDP); default a free port.
 */
export async function startOpentracker(
  infoHashes: readonly string[],
  port: number = freePort(),
): Promise<Opentracker> {
  const dir = await Deno.makeTempDir({ prefix: "bittern-opentracker-" });
  await Deno.chmod(dir, 0o755); // it chroots here and drops to `nobody`
  await Deno.writeTextFile(`${dir}/whitelist.txt`, infoHashes.join("\n") + "\n");
  const child = new Deno.Command(OPENTRACKER, {
    args: ["-i", "127.0.0.1", "-p", `${port}`, "-P", `${port}`, "-d", dir, "-u", "nobody"]
      .concat(["-w", "whitelist.txt"]),
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  const url = `http://127.0.0.1:${port}/announce`;
  try {
    await waitUntilReady(url, infoHashes[0], child);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, close };
}

/**
 * Resolves once opentracker counts at least `seeders` complete peers for `infoHashHex`: a
 * client announced as a seeder. Polls scrape every 100 ms, at most `ms` long.
 */
export async function waitForSeeders(
  url: string,
  infoHashHex: string,
  seeders: number,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  let complete = 0;
  for (let attempt = 0; Date.now() < deadline && attempt < 10_000; attempt++) {
    const counts = await scrape(url, [fromHex(infoHashHex)!], { timeout: 2_000 });
    complete = counts.get(infoHashHex)?.complete ?? 0;
    if (complete >= seeders) return;
    // A client announces on its own schedule; the tracker cannot push the news.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`opentracker at ${url}: ${complete} of ${seeders} seeders after ${ms} ms`);
}
