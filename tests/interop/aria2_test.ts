/**
 * aria2 and Bittern exchange a multi-file torrent both ways, all on 127.0.0.1. aria2 cannot be
 * given a peer directly, so opentracker is the rendezvous: the seeder announces first, then
 * the leecher announces and gets the seeder's address. Skipped, with the reason in the test
 * name, when aria2c or opentracker is missing.
 */
import assert from "node:assert/strict";
import { FileSystemStorage } from "../../mod.ts";
import { ClientProcess } from "./client_process.ts";
import {
  assertFixture,
  freePort,
  installed,
  recordPeers,
  sessionEvent,
  withTimeout,
} from "./fixture.ts";
import { hasOpentracker, waitForSeeders } from "./opentracker_process.ts";
import { createScene } from "./scene.ts";

const ARIA2C = "/usr/bin/aria2c";
const missing = [installed(ARIA2C) ? "" : ARIA2C, hasOpentracker ? "" : "/usr/bin/opentracker"]
  .filter(Boolean);
/** Shown in the test name when skipped, so the reason is in the report. */
const why = missing.length ? ` [skipped: ${missing.join(" and ")} not installed]` : "";

/**
 * The flags that keep aria2 on loopback with only the tracker as a peer source. A leecher
 * exits once complete; a seeder checks the data in `dir` and seeds until killed.
 */
function aria2Args(
  role: "leech" | "seed",
  dir: string,
  listenPort: number,
  torrentPath: string,
): string[] {
  const roleArgs = role === "leech"
    ? ["--seed-time=0"]
    : ["--check-integrity=true", "--seed-ratio=0.0", "--bt-seed-unverified=false"];
  return [
    ...roleArgs,
    `--dir=${dir}`,
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    `--listen-port=${listenPort}`,
    "--file-allocation=none",
    "--console-log-level=warn",
    "--summary-interval=0",
    torrentPath,
  ];
}

Deno.test({
  name: `interop: aria2 downloads a multi-file torrent from a Bittern seeder via opentracker${why}`,
  ignore: missing.length > 0,
  async fn() {
    await using scene = await createScene("aria2-leech", { tracker: true });
    const { fixture } = scene;
    const session = await scene.runtime.add(fixture.bytes, {
      storage: new FileSystemStorage(scene.seedDir),
    });
    assert.equal(session.stats().progress, 1, "the seeder holds the whole payload");
    const connected = recordPeers(session);
    // aria2 only learns of peers that announced before it: wait for Bittern's announce.
    await sessionEvent(session, "tracker", (event) => event.error === undefined, 20_000);

    const aria2 = new ClientProcess(
      "aria2c",
      ARIA2C,
      aria2Args("leech", scene.outDir, freePort(), fixture.torrentPath),
    );
    scene.defer(() => aria2.close());
    const stopWatching = new AbortController();
    scene.defer(() => stopWatching.abort());
    // aria2 does not come back soon after Bittern drops it: report Bittern's reason at once.
    const dropped = sessionEvent(
      session,
      "peer-disconnected",
      (peer) => peer.client.startsWith("aria2 ") && peer.reason !== "closed by peer",
      60_000,
      stopWatching.signal,
    ).then((peer) => {
      throw new Error(`Bittern dropped aria2 (${peer.address}): ${peer.reason}`);
    }, () => new Promise<never>(() => {})); // no drop: aria2's exit (or its timeout) decides
    const status = await Promise.race([aria2.waitForExit(60_000), dropped]);
    assert.equal(status.code, 0, `aria2c exit code; output:\n${aria2.output.slice(-2000)}`);
    await assertFixture(scene.outDir);
    assert.ok(
      connected.some((peer) => peer.client.startsWith("aria2 ")),
      `aria2 never connected to Bittern: ${JSON.stringify(connected)}`,
    );
    assert.ok(session.stats().uploaded >= fixture.bytes.length, "Bittern uploaded the payload");
  },
});

Deno.test({
  name:
    `interop: Bittern downloads a multi-file torrent from an aria2 seeder via opentracker${why}`,
  ignore: missing.length > 0,
  async fn() {
    await using scene = await createScene("aria2-seed", { tracker: true });
    const { fixture } = scene;
    const aria2 = new ClientProcess(
      "aria2c",
      ARIA2C,
      aria2Args("seed", scene.seedDir, freePort(), fixture.torrentPath),
    );
    scene.defer(() => aria2.close());
    // Bittern announces once at start: aria2 must be on the tracker's list before that.
    await waitForSeeders(scene.tracker!.url, fixture.infoHashHex, 1, 30_000);
    const session = await scene.runtime.add(fixture.bytes, { out: scene.outDir });
    const connected = recordPeers(session);
    await withTimeout(session.completed, 60_000, "download from aria2");
    await assertFixture(scene.outDir);
    assert.ok(
      connected.some((peer) => peer.client.startsWith("aria2 ") && !peer.incoming),
      `Bittern never connected to aria2: ${JSON.stringify(connected)}`,
    );
  },
});
