/**
 * Sessions against real libtorrent peers (python3-libtorrent) on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { FileSystemStorage, Runtime, type SelectorName } from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
/** Shown in the test name when skipped, so the reason is in the report. */
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

/** This file's own payload (other seeds than `FIXTURE`), under `dir/swarm/`. */
const SWARM: FixturePayload = {
  name: "swarm",
  files: [
    { path: ["alpha.bin"], data: payload(1_500_000, 11) },
    { path: ["nested", "dir", "beta.bin"], data: payload(77_777, 12) },
    { path: ["nested", "zero.txt"], data: new Uint8Array(0) },
    { path: ["gamma-é.bin"], data: payload(2_345_678, 13) },
  ],
};

for (const selector of ["sequential", "rarest", "random-rarest"] as SelectorName[]) {
  Deno.test({
    name: `interop: libtorrent seeder -> Bittern leecher (${selector}), byte-exact${why}`,
    ignore,
    async fn() {
      const seedDir = await Deno.makeTempDir();
      const leechDir = await Deno.makeTempDir();
      const { torrentPath, bytes } = await writeFixture(seedDir, undefined, SWARM);
      const seeder = await LtPeer.start(["seed", "--torrent", torrentPath, "--data", seedDir]);
      const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
      try {
        const session = await runtime.add(bytes, {
          out: leechDir,
          selector,
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        await withTimeout(session.completed, 60_000, `download with ${selector}`);
        await assertFixture(leechDir, { payload: SWARM });
      } finally {
        await runtime.close();
        await seeder.close();
        await Deno.remove(seedDir, { recursive: true });
        await Deno.remove(leechDir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: `interop: Bittern seeder -> libtorrent leecher, complete and byte-exact${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const { torrentPath, bytes } = await writeFixture(seedDir, undefined, SWARM);
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    let leecher: LtPeer | undefined;
    try {
      const session = await runtime.add(bytes, { storage: new FileSystemStorage(seedDir) });
      assert.equal(session.stats().progress, 1);
      leecher = await LtPeer.leech(torrentPath, leechDir, runtime.port);
      await leecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(leechDir, { payload: SWARM });
    } finally {
      await leecher?.close();
      await runtime.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});

Deno.test({
  name: `interop: 1 libtorrent seeder and 3 Bittern leechers in one process all complete${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const { torrentPath, bytes } = await writeFixture(seedDir, undefined, SWARM);
    const seeder = await LtPeer.start(["seed", "--torrent", torrentPath, "--data", seedDir]);
    const runtimes = [0, 1, 2].map(() =>
      new Runtime({ maxConnectionsPerIp: 64, listen: { hostname: "127.0.0.1", port: 0 } })
    );
    const dirs = await Promise.all(runtimes.map(() => Deno.makeTempDir()));
    try {
      const sessions = [];
      for (const [i, runtime] of runtimes.entries()) {
        // Each leecher knows the seeder and the leechers before it.
        const peers = [{ host: "127.0.0.1", port: seeder.port }];
        for (const other of runtimes.slice(0, i)) {
          peers.push({ host: "127.0.0.1", port: other.port! });
        }
        sessions.push(await runtime.add(bytes, { out: dirs[i], peers, selector: "random-rarest" }));
      }
      await withTimeout(Promise.all(sessions.map((s) => s.completed)), 90_000, "mixed swarm");
      for (const dir of dirs) await assertFixture(dir, { payload: SWARM });
    } finally {
      await Promise.all(runtimes.map((runtime) => runtime.close()));
      await seeder.close();
      for (const dir of [seedDir, ...dirs]) await Deno.remove(dir, { recursive: true });
    }
  },
});
