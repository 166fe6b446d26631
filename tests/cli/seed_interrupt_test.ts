import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, MemoryStorage, Runtime } from "../../mod.ts";
import {
  CliProcess,
  type LocalSwarm,
  RUN_TIMEOUT_MS,
  startLocalSwarm,
  withTimeout,
} from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

/** Ports the tracker lists for the swarm's torrent, other than the seeder's. */
function trackedPorts(swarm: LocalSwarm): number[] {
  return swarm.tracker.peersOf(swarm.torrent.infoHash).map((peer) => peer.port).filter((port) =>
    port !== swarm.seederPort
  );
}

/** JSON lines of a given event. */
function isEvent(name: string): (line: string) => boolean {
  return (line) => line.startsWith("{") && JSON.parse(line).event === name;
}

/**
 * Waits until the child has announced (its JSON `tracker` event), interrupts it
 * and checks the tracker got its `stopped` announce.
 */
async function interruptAndCheckStopped(
  swarm: LocalSwarm,
  child: CliProcess,
): Promise<{ code: number; stderr: string }> {
  await child.waitForLine(isEvent("tracker"));
  assert.equal(trackedPorts(swarm).length, 1, "the tracker lists the CLI while it runs");
  child.kill("SIGINT");
  const result = await child.exit();
  assert.deepEqual(trackedPorts(swarm), [], "a stopped announce removed it");
  assert.match(result.stderr, /stopping \(Ctrl-C again to quit at once\)/);
  // --json shows the end too: the tracker's `stopped` action, then the `stopped` event last.
  const events = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.ok(
    events.some((event) => event.event === "tracker" && event.action === "stopped"),
    result.stdout,
  );
  assert.equal(events.at(-1).event, "stopped", result.stdout);
  assert.equal(events.at(-1).reason, "runtime closed");
  return result;
}

Deno.test("seed stops cleanly on Ctrl-C: stopped announce, exit 0", async () => {
  await using swarm = await startLocalSwarm();
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.seedDir},${swarm.torrentPath}`],
    ["seed", swarm.torrentPath, "--data", swarm.seedDir, ...LOOPBACK, "--json"],
  );
  const started = JSON.parse(await child.waitForLine(isEvent("started")));
  assert.equal(started.verifiedPieces, swarm.torrent.pieceCount);
  const { code } = await interruptAndCheckStopped(swarm, child);
  assert.equal(code, 0);
});

Deno.test("an interrupted download exits 130 after a stopped announce", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = join(swarm.dir, "dl");
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--json"],
  );
  await child.waitForLine(isEvent("started"));
  const { code } = await interruptAndCheckStopped(swarm, child);
  assert.equal(code, 130);
});

Deno.test("download --seed seeds after completing until Ctrl-C, then exits 0", async () => {
  await using swarm = await startLocalSwarm();
  const out = join(swarm.dir, "dl");
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`, `--allow-read=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--json", "--seed"],
  );
  await child.waitForLine(isEvent("completed"));
  const { code } = await interruptAndCheckStopped(swarm, child);
  assert.equal(code, 0);
});

Deno.test("a second Ctrl-C exits at once while the stopped announce hangs", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const stoppedSeen = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const listening = Promise.withResolvers<void>();
  // A tracker that never answers `stopped` until the test is done.
  const hanging = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => listening.resolve() },
    async (request) => {
      if (new URL(request.url).searchParams.get("event") === "stopped") {
        stoppedSeen.resolve();
        await release.promise;
      }
      return new Response("d8:intervali1800e5:peers0:e");
    },
  );
  try {
    await listening.promise;
    const { bytes } = await createTorrent(join(swarm.seedDir, swarm.payload.name), {
      announce: [`http://127.0.0.1:${hanging.addr.port}/announce`],
      pieceLength: swarm.payload.pieceLength,
    });
    const torrentPath = join(swarm.dir, "hanging.torrent");
    await Deno.writeFile(torrentPath, bytes);
    await using child = new CliProcess(
      ["--allow-net=127.0.0.1", `--allow-read=${swarm.seedDir},${torrentPath}`],
      ["seed", torrentPath, "--data", swarm.seedDir, ...LOOPBACK, "--json"],
    );
    await child.waitForLine(isEvent("tracker"));
    child.kill("SIGINT");
    await withTimeout(stoppedSeen.promise, 10_000, () => "no stopped announce");
    child.kill("SIGINT");
    // Ignored, the process would end with 0 once the stopped announce times out.
    const { code } = await child.exit();
    assert.equal(code, 130);
  } finally {
    release.resolve();
    await hanging.shutdown();
  }
});

Deno.test("seed without --allow-write serves the verified pieces of incomplete data and lists the missing ones", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const file = join(swarm.seedDir, swarm.payload.name);
  const corrupt = swarm.payload.data.slice();
  corrupt[0] ^= 1; // piece 0 fails its check
  await Deno.writeFile(file, corrupt);
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.seedDir},${swarm.torrentPath}`],
    ["seed", swarm.torrentPath, "--data", swarm.seedDir, ...LOOPBACK],
  );
  const pieces = swarm.torrent.pieceCount;
  const line = await child.waitForLine((text) => text.startsWith("seeding "));
  assert.match(line, new RegExp(`: ${pieces - 1}/${pieces} pieces verified$`));
  const port = Number(line.match(/ on port (\d+):/)![1]);
  // A leecher told only about the CLI gets every verified piece from it.
  await using leecher = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  const session = await leecher.add(swarm.torrent, {
    storage: new MemoryStorage(),
    trackers: false,
    peers: [{ host: "127.0.0.1", port }],
    start: false,
  });
  const served = session.events.once("progress", (stats) => stats.verifiedPieces === pieces - 1);
  session.start();
  await withTimeout(served, RUN_TIMEOUT_MS, () => "the leecher did not get the verified pieces");
  assert.equal(session.verified.get(0), false, "the missing piece was not served");
  child.kill("SIGINT");
  const result = await child.exit();
  assert.equal(result.code, 0, result.stderr);
  assert.ok(
    result.stderr.includes(
      `warning: ${swarm.seedDir} lacks 1/${pieces} pieces (0; in payload.bin)`,
    ) &&
      result.stderr.includes(`add --allow-write=${swarm.seedDir} to download the missing ones`),
    result.stderr,
  );
  assert.deepEqual(await Deno.readFile(file), corrupt, "nothing was written");
});
