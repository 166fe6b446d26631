/**
 * aria2 downloads a multi-file torrent from a Bittern seeder it finds through opentracker,
 * all on 127.0.0.1. aria2 cannot be given a peer directly, so the tracker is the rendezvous:
 * Bittern announces first, then aria2 announces, gets Bittern's address, downloads, and exits.
 * Skipped, with the reason in the test name, when aria2c or opentracker is missing.
 */
import assert from "node:assert/strict";
import { FileSystemStorage, type PeerInfo, Runtime } from "../../mod.ts";
import { ClientProcess } from "./client_process.ts";
import { assertFixture, freePort, installed, sessionEvent, writeFixture } from "./fixture.ts";
import { hasOpentracker, startOpentracker } from "./opentracker_process.ts";

const ARIA2C = "/usr/bin/aria2c";
const missing = [installed(ARIA2C) ? "" : ARIA2C, hasOpentracker ? "" : "/usr/bin/opentracker"]
  .filter(Boolean);
/** Shown in the test name when skipped, so the reason is in the report. */
const why = missing.length ? ` [skipped: ${missing.join(" and ")} not installed]` : "";

/** The flags that keep aria2 on loopback with only the tracker as a peer source. */
function aria2Args(outDir: string, listenPort: number, torrentPath: string): string[] {
  return [
    `--dir=${outDir}`,
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    "--seed-time=0",
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
    const seedDir = await Deno.makeTempDir({ prefix: "bittern-aria2-seed-" });
    const outDir = await Deno.makeTempDir({ prefix: "bittern-aria2-out-" });
    // The announce URL goes into the torrent, and the tracker whitelists the torrent's hash.
    const trackerPort = freePort();
    const fixture = await writeFixture(seedDir, `http://127.0.0.1:${trackerPort}/announce`);
    const tracker = await startOpentracker([fixture.infoHashHex], trackerPort);
    const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
    let aria2: ClientProcess | undefined;
    const stopWatching = new AbortController();
    try {
      const session = await runtime.add(fixture.bytes, {
        storage: new FileSystemStorage(seedDir),
      });
      assert.equal(session.stats().progress, 1, "the seeder holds the whole payload");
      const connected: PeerInfo[] = [];
      session.events.on("peer-connected", (peer) => connected.push(peer));
      // aria2 only learns of peers that announced before it: wait for Bittern's announce.
      await sessionEvent(session, "tracker", (event) => event.error === undefined, 20_000);

      aria2 = new ClientProcess(
        "aria2c",
        ARIA2C,
        aria2Args(outDir, freePort(), fixture.torrentPath),
      );
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
      await assertFixture(outDir);
      assert.ok(
        connected.some((peer) => peer.client.startsWith("aria2 ")),
        `aria2 never connected to Bittern: ${JSON.stringify(connected)}`,
      );
      assert.ok(session.stats().uploaded >= fixture.bytes.length, "Bittern uploaded the payload");
    } finally {
      stopWatching.abort();
      await aria2?.close();
      await runtime.close();
      await tracker.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
