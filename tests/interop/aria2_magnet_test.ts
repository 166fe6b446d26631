/**
 * aria2 starts from a magnet link (info hash and opentracker as `tr`) against a Bittern
 * seeder: it finds Bittern through the tracker, fetches the metadata from it (BEP 9), then
 * the data. Skipped, with the reason in the test name, when aria2c or opentracker is missing.
 */
import assert from "node:assert/strict";
import { FileSystemStorage, formatMagnet, fromHex } from "../../mod.ts";
import { ClientProcess } from "./client_process.ts";
import { assertFixture, freePort, installed, recordPeers, sessionEvent } from "./fixture.ts";
import { hasOpentracker } from "./opentracker_process.ts";
import { createScene } from "./scene.ts";

const ARIA2C = "/usr/bin/aria2c";
const missing = [installed(ARIA2C) ? "" : ARIA2C, hasOpentracker ? "" : "/usr/bin/opentracker"]
  .filter(Boolean);
const why = missing.length ? ` [skipped: ${missing.join(" and ")} not installed]` : "";

Deno.test({
  name: `interop: aria2 starts from a magnet link and downloads from a Bittern seeder${why}`,
  ignore: missing.length > 0,
  async fn() {
    await using scene = await createScene("aria2-magnet", { tracker: true });
    const { fixture } = scene;
    const session = await scene.runtime.add(fixture.bytes, {
      storage: new FileSystemStorage(scene.seedDir),
    });
    const connected = recordPeers(session);
    // aria2 only learns of peers that announced before it: wait for Bittern's announce.
    await sessionEvent(session, "tracker", (event) => event.error === undefined, 20_000);
    const magnet = formatMagnet({
      infoHash: fromHex(fixture.infoHashHex)!,
      trackers: [scene.tracker!.url],
    });
    const aria2 = new ClientProcess("aria2c", ARIA2C, [
      "--seed-time=0",
      `--dir=${scene.outDir}`,
      "--interface=127.0.0.1",
      "--disable-ipv6=true",
      "--enable-dht=false",
      "--enable-dht6=false",
      "--bt-enable-lpd=false",
      "--enable-peer-exchange=false",
      `--listen-port=${freePort()}`,
      "--file-allocation=none",
      "--console-log-level=warn",
      "--summary-interval=0",
      magnet,
    ]);
    scene.defer(() => aria2.close());
    const status = await aria2.waitForExit(90_000);
    assert.equal(status.code, 0, `aria2c exit code; output:\n${aria2.output.slice(-2000)}`);
    await assertFixture(scene.outDir);
    assert.ok(
      connected.some((peer) => peer.client.startsWith("aria2 ")),
      `aria2 never connected to Bittern: ${JSON.stringify(connected)}`,
    );
  },
});
