import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../mod.ts";
import { CliProcess, type LocalSwarm, runCli, startLocalSwarm, withTimeout } from "./helpers.ts";

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

Deno.test("seed without --allow-write refuses incomplete data, naming the flag", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const file = join(swarm.seedDir, swarm.payload.name);
  const corrupt = swarm.payload.data.slice();
  corrupt[0] ^= 1;
  await Deno.writeFile(file, corrupt);
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.seedDir},${swarm.torrentPath}`],
    ["seed", swarm.torrentPath, "--data", swarm.seedDir, ...LOOPBACK],
  );
  assert.equal(result.code, 1);
  const pieces = swarm.torrent.pieceCount;
  assert.ok(
    result.stderr.includes(`(it holds ${pieces - 1}/${pieces} pieces)`) &&
      result.stderr.includes(`needs --allow-write=${swarm.seedDir}`),
    result.stderr,
  );
  assert.deepEqual(await Deno.readFile(file), corrupt, "nothing was written");
});
