/**
 * A hybrid torrent's two swarms (BEP 52) with libtorrent 2.0: trackers and the DHT hear both
 * the v1 and the truncated v2 info hash, from libtorrent and from Bittern, and a Bittern leecher
 * finds a libtorrent seeder through either.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createTorrent,
  FileSystemStorage,
  Runtime,
  toHex,
  type Torrent,
  TrackerServer,
} from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout } from "./fixture.ts";
import { hasLibtorrent, type LtEvent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
/** Shown in the test name when skipped, so the reason is in the report. */
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

const TWO_SWARMS: FixturePayload = {
  name: "two swarms",
  files: [
    { path: ["one.bin"], data: payload(700_000, 61) },
    { path: ["sub", "two.bin"], data: payload(123_456, 62) },
  ],
};

/** Writes the payload under `dir` and a Bittern-made hybrid torrent of it. */
async function hybridFixture(
  dir: string,
  announce?: string,
): Promise<{ path: string; torrent: Torrent; bytes: Uint8Array }> {
  for (const file of TWO_SWARMS.files) {
    const path = join(dir, TWO_SWARMS.name, ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  const { bytes, torrent } = await createTorrent(join(dir, TWO_SWARMS.name), {
    format: "hybrid",
    pieceLength: 32768,
    announce: announce ? [announce] : undefined,
  });
  const path = join(dir, "hybrid.torrent");
  await Deno.writeFile(path, bytes);
  return { path, torrent, bytes };
}

/** Resolves once `check` holds, asking again every 100 ms; rejects after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test({
  name:
    `interop: a hybrid is announced to a tracker under both info hashes by libtorrent and Bittern${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 60 });
    await tracker.start();
    let seeder: LtPeer | undefined;
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
      dht: false,
    });
    try {
      const { path, torrent, bytes } = await hybridFixture(seedDir, tracker.url);
      seeder = await LtPeer.start(["seed", "--torrent", path, "--data", seedDir]);
      const session = await runtime.add(bytes, { out: leechDir });
      await withTimeout(session.completed, 60_000, "download through the tracker");
      await assertFixture(leechDir, { payload: TWO_SWARMS });
      const ports = (infoHash: Uint8Array) => tracker.peersOf(infoHash).map((peer) => peer.port);
      for (const infoHash of [torrent.infoHash, torrent.infoHashV2Truncated!]) {
        const hex = toHex(infoHash);
        await until(
          () => ports(infoHash).includes(seeder!.port) && ports(infoHash).includes(runtime.port!),
          20_000,
          `libtorrent and Bittern announced under ${hex}`,
        );
      }
    } finally {
      await runtime.close();
      await seeder?.close();
      await tracker.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});

/** Asks `node`'s DHT for `infoHashHex` until an answer lists 127.0.0.1:`port`. */
async function waitFindable(node: LtPeer, infoHashHex: string, port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const found = (event: LtEvent) =>
    event.event === "dht-peers" && event.info_hash === infoHashHex &&
    (event.peers as string[]).includes(`127.0.0.1:${port}`);
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`127.0.0.1:${port} never findable under ${infoHashHex}`);
    await node.command(`dht-get-peers ${infoHashHex}`);
    // One lookup answers in about 0.1 s on loopback; ask again after a second without it.
    if (await node.waitFor(found, Math.min(1000, left)).then(() => true, () => false)) return;
  }
}

Deno.test({
  name:
    `interop: a hybrid is announced in the DHT under both info hashes by libtorrent and Bittern${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const peers: LtPeer[] = [];
    let runtime: Runtime | undefined;
    try {
      const { path, torrent, bytes } = await hybridFixture(seedDir);
      const mesh = await LtPeer.dhtMesh(3);
      peers.push(...mesh);
      const seeder = await LtPeer.start([
        "seed",
        "--torrent",
        path,
        "--data",
        seedDir,
        "--dht-node",
        `127.0.0.1:${mesh[0].port}`,
      ]);
      peers.push(seeder);
      const hashes = [torrent.infoHashHex, toHex(torrent.infoHashV2Truncated!)];
      for (const hex of hashes) await waitFindable(mesh[2], hex, seeder.port, 30_000);
      // Bittern, knowing only a mesh node, finds the seeder and is then findable under both.
      runtime = new Runtime({
        maxConnectionsPerIp: 64,
        listen: { hostname: "127.0.0.1", port: 0 },
        dht: {
          bootstrap: [{ host: "127.0.0.1", port: mesh[1].port }],
          rateLimit: { key: "ip-port" },
        },
      });
      const session = await runtime.add(bytes, { out: leechDir, trackers: false });
      await withTimeout(session.completed, 60_000, "download through the DHT");
      await assertFixture(leechDir, { payload: TWO_SWARMS });
      for (const hex of hashes) await waitFindable(mesh[2], hex, runtime.port!, 30_000);
      assert.equal(runtime.sessions().length, 1);
    } finally {
      await runtime?.close();
      await Promise.all(peers.map((peer) => peer.close()));
      for (const dir of [seedDir, leechDir]) await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const link of ["btih", "btmh"] as const) {
  Deno.test({
    name:
      `interop: libtorrent gets a Bittern-seeded hybrid's metadata and data from a ${link} magnet${why}`,
    ignore,
    async fn() {
      const seedDir = await Deno.makeTempDir();
      const leechDir = await Deno.makeTempDir();
      const runtime = new Runtime({
        maxConnectionsPerIp: 64,
        listen: { hostname: "127.0.0.1", port: 0 },
        dht: false,
      });
      let leecher: LtPeer | undefined;
      try {
        const { torrent } = await hybridFixture(seedDir);
        await runtime.add(torrent, { storage: new FileSystemStorage(seedDir) });
        // btmh: libtorrent dials under the truncated v2 hash and checks the info dict by SHA-256.
        const magnet = link === "btih"
          ? `magnet:?xt=urn:btih:${torrent.infoHashHex}`
          : `magnet:?xt=urn:btmh:1220${torrent.infoHashV2Hex}`;
        leecher = await LtPeer.leech(magnet, leechDir, runtime.port);
        await leecher.waitFor((event) => event.event === "metadata", 60_000);
        await leecher.waitFor((event) => event.event === "finished", 60_000);
        await assertFixture(leechDir, { payload: TWO_SWARMS });
      } finally {
        await leecher?.close();
        await runtime.close();
        await Deno.remove(seedDir, { recursive: true });
        await Deno.remove(leechDir, { recursive: true });
      }
    },
  });
}
