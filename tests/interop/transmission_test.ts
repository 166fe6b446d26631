/**
 * Transmission (transmission-cli 3.00) and Bittern exchange a multi-file torrent both ways on
 * 127.0.0.1, in plain text and with MSE/PE required on both sides (Transmission's
 * `"encryption": 2`, Bittern's `encryption: "require"`, which offers and selects RC4 only: a
 * completed transfer is an encrypted one; a Bittern with encryption off is turned away by that
 * Transmission, which shows the setting holds). Transmission ignores loopback peers it hears of
 * from a tracker, so Bittern dials it (`session.addPeers`, or a static peer) in both directions.
 * transmission-cli never exits by itself: the tests watch its status line and then stop it.
 * Skipped, with the reason in the test name, when transmission-cli (or stdbuf, which unbuffers
 * its status line) is missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EncryptionPolicy, FileSystemStorage } from "../../mod.ts";
import { ClientProcess } from "./client_process.ts";
import {
  assertFixture,
  freePort,
  installed,
  recordPeers,
  sessionEvent,
  withTimeout,
} from "./fixture.ts";
import { createScene } from "./scene.ts";

const TRANSMISSION = "/usr/bin/transmission-cli";
/** transmission-cli writes its status line with `\r` into a block-buffered pipe. */
const STDBUF = "/usr/bin/stdbuf";
const missing = [TRANSMISSION, STDBUF].filter((path) => !installed(path));
/** Shown in the test name when skipped, so the reason is in the report. */
const why = missing.length ? ` [skipped: ${missing.join(" and ")} not installed]` : "";

/** Transmission's `encryption` setting: 1 prefers MSE (its default), 2 requires it. */
type TransmissionEncryption = 1 | 2;

/**
 * Loopback only, no DHT/LPD/PEX/uTP/port mapping/blocklist/RPC, no speed limits, and the given
 * encryption setting.
 */
function settings(peerPort: number, encryption: TransmissionEncryption): Record<string, unknown> {
  return {
    "encryption": encryption,
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

/** A transmission-cli process and the port it takes peers on. */
interface Transmission {
  readonly process: ClientProcess;
  readonly peerPort: number;
}

/**
 * Starts transmission-cli on `torrentPath` with its data in `dataDir` and its config in
 * `configDir`, and waits for its first status line: its session (and peer port) is up.
 */
async function startTransmission(
  configDir: string,
  dataDir: string,
  torrentPath: string,
  encryption: TransmissionEncryption = 1,
): Promise<Transmission> {
  const peerPort = freePort();
  await Deno.mkdir(configDir, { recursive: true });
  await Deno.writeTextFile(
    join(configDir, "settings.json"),
    JSON.stringify(settings(peerPort, encryption)),
  );
  const process = new ClientProcess("transmission-cli", STDBUF, [
    "-o0",
    TRANSMISSION,
    ...["-g", configDir, "-w", dataDir, torrentPath],
  ]);
  try {
    await process.waitForOutput(/Progress: |Seeding|Verifying|Waiting to verify/, 20_000);
  } catch (error) {
    await process.close();
    throw error;
  }
  return { process, peerPort };
}

/** How both sides are set up about encryption. */
interface Variant {
  /** In the test name. */
  readonly label: string;
  readonly transmission: TransmissionEncryption;
  /** Bittern's policy for the torrent. */
  readonly bittern: EncryptionPolicy;
}

const VARIANTS: readonly Variant[] = [
  { label: "default settings", transmission: 1, bittern: "prefer" },
  { label: "MSE required on both sides", transmission: 2, bittern: "require" },
];

for (const variant of VARIANTS) {
  Deno.test({
    name: `interop: Transmission downloads a multi-file torrent from a Bittern seeder that ` +
      `dials it (${variant.label})${why}`,
    ignore: missing.length > 0,
    async fn() {
      await using scene = await createScene("transmission-leech");
      const session = await scene.runtime.add(scene.fixture.bytes, {
        storage: new FileSystemStorage(scene.seedDir),
        encryption: variant.bittern,
      });
      assert.equal(session.stats().progress, 1, "the seeder holds the whole payload");
      const connected = recordPeers(session);

      const transmission = await startTransmission(
        join(scene.scratchDir, "config"),
        scene.outDir,
        scene.fixture.torrentPath,
        variant.transmission,
      );
      scene.defer(() => transmission.process.close());
      session.addPeers([{ host: "127.0.0.1", port: transmission.peerPort }]);
      await transmission.process.waitForOutput(/Seeding/, 60_000);
      await transmission.process.close();
      // Transmission 3.00 does not create the empty file; every other byte must match.
      await assertFixture(scene.outDir, { allowMissingEmpty: true });
      assert.ok(
        connected.some((peer) => peer.client.startsWith("Transmission ") && !peer.incoming),
        `Bittern never connected to Transmission: ${JSON.stringify(connected)}`,
      );
    },
  });

  Deno.test({
    name: `interop: Bittern downloads a multi-file torrent from a Transmission seeder it dials ` +
      `(${variant.label})${why}`,
    ignore: missing.length > 0,
    async fn() {
      await using scene = await createScene("transmission-seed");
      const transmission = await startTransmission(
        join(scene.scratchDir, "config"),
        scene.seedDir,
        scene.fixture.torrentPath,
        variant.transmission,
      );
      scene.defer(() => transmission.process.close());
      // It checks the data it was given first; only then does it serve pieces.
      await transmission.process.waitForOutput(/Seeding/, 30_000);
      const session = await scene.runtime.add(scene.fixture.bytes, {
        out: scene.outDir,
        peers: [{ host: "127.0.0.1", port: transmission.peerPort }],
        encryption: variant.bittern,
      });
      const connected = recordPeers(session);
      // Transmission unchokes on a 10 s cycle.
      await withTimeout(session.completed, 60_000, "download from Transmission");
      await assertFixture(scene.outDir);
      assert.ok(
        connected.some((peer) => peer.client.startsWith("Transmission ")),
        `Bittern never connected to Transmission: ${JSON.stringify(connected)}`,
      );
    },
  });
}

Deno.test({
  name: `interop: a Transmission that requires MSE turns away a Bittern with encryption off${why}`,
  ignore: missing.length > 0,
  async fn() {
    await using scene = await createScene("transmission-refuses");
    const transmission = await startTransmission(
      join(scene.scratchDir, "config"),
      scene.seedDir,
      scene.fixture.torrentPath,
      2,
    );
    scene.defer(() => transmission.process.close());
    await transmission.process.waitForOutput(/Seeding/, 30_000);
    const session = await scene.runtime.add(scene.fixture.bytes, {
      out: scene.outDir,
      encryption: "off",
    });
    const connected = recordPeers(session);
    const address = `127.0.0.1:${transmission.peerPort}`;
    const failed = sessionEvent(
      session,
      "peer-failed",
      (event) => event.address === address,
      30_000,
    );
    session.addPeers([{ host: "127.0.0.1", port: transmission.peerPort }]);
    const { reason } = await failed;
    // It took the connection (so it was listening) and hung up on the plain handshake.
    assert.match(reason, /connection closed/, reason);
    assert.deepEqual(connected, [], `a plain handshake got through: ${reason}`);
  },
});
