/**
 * Transmission (transmission-cli 3.00) downloads a multi-file torrent from a Bittern seeder on
 * 127.0.0.1. Transmission ignores loopback peers it hears of from a tracker, so the Bittern
 * seeder dials it (`session.addPeers`) instead. transmission-cli never exits by itself: the
 * test watches its status line for "Seeding" and then stops it. Skipped, with the reason in
 * the test name, when transmission-cli (or stdbuf, which unbuffers its status line) is missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileSystemStorage, type PeerInfo, Runtime } from "../../mod.ts";
import { ClientProcess } from "./client_process.ts";
import { assertFixture, freePort, installed, writeFixture } from "./fixture.ts";

const TRANSMISSION = "/usr/bin/transmission-cli";
/** transmission-cli writes its status line with `\r` into a block-buffered pipe. */
const STDBUF = "/usr/bin/stdbuf";
const missing = [TRANSMISSION, STDBUF].filter((path) => !installed(path));
/** Shown in the test name when skipped, so the reason is in the report. */
const why = missing.length ? ` [skipped: ${missing.join(" and ")} not installed]` : "";

/** Loopback only, no DHT/LPD/PEX/uTP/port mapping/blocklist/RPC, no speed limits. */
function settings(peerPort: number): Record<string, unknown> {
  return {
    "bind-address-ipv4": "127.0.0.1",
    "bind-address-ipv6": "::1",
    "peer-port": peerPort,
    "peer-port-random-on-start": false,
    "dht-enabled": false,
    "lpd-enabled": false,
    "pex-enabled": false,
    "utp-enabled": false,
    "port-forwarding-enabled": false,
    "blocklist-enabled": false,
    "rpc-enabled": false,
    "speed-limit-down-enabled": false,
    "speed-limit-up-enabled": false,
    "alt-speed-enabled": false,
    "incomplete-dir-enabled": false,
    "watch-dir-enabled": false,
    "rename-partial-files": false,
  };
}

Deno.test({
  name:
    `interop: Transmission downloads a multi-file torrent from a Bittern seeder that dials it${why}`,
  ignore: missing.length > 0,
  async fn() {
    const seedDir = await Deno.makeTempDir({ prefix: "bittern-transmission-seed-" });
    const work = await Deno.makeTempDir({ prefix: "bittern-transmission-" });
    const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
    let transmission: ClientProcess | undefined;
    try {
      const fixture = await writeFixture(seedDir);
      const configDir = join(work, "config");
      const outDir = join(work, "out");
      await Deno.mkdir(configDir);
      await Deno.mkdir(outDir);
      const peerPort = freePort();
      await Deno.writeTextFile(
        join(configDir, "settings.json"),
        JSON.stringify(settings(peerPort)),
      );

      const session = await runtime.add(fixture.bytes, {
        storage: new FileSystemStorage(seedDir),
      });
      assert.equal(session.stats().progress, 1, "the seeder holds the whole payload");
      const connected: PeerInfo[] = [];
      session.events.on("peer-connected", (peer) => connected.push(peer));

      transmission = new ClientProcess("transmission-cli", STDBUF, [
        "-o0",
        TRANSMISSION,
        "-g",
        configDir,
        "-w",
        outDir,
        fixture.torrentPath,
      ]);
      // The first status line comes after the session started, so its peer port is open.
      await transmission.waitForOutput(/Progress: /, 20_000);
      session.addPeers([{ host: "127.0.0.1", port: peerPort }]);
      await transmission.waitForOutput(/Seeding/, 60_000);
      await transmission.close();
      // Transmission 3.00 does not create the empty file; every other byte must match.
      await assertFixture(outDir, { allowMissingEmpty: true });
      assert.ok(
        connected.some((peer) => peer.client.startsWith("Transmission ") && !peer.incoming),
        `Bittern never connected to Transmission: ${JSON.stringify(connected)}`,
      );
    } finally {
      await transmission?.close();
      await runtime.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(work, { recursive: true });
    }
  },
});
