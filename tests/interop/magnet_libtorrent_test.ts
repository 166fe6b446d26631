/**
 * Magnet links (BEP 9) against real libtorrent peers (python3-libtorrent) on 127.0.0.1:
 * the metadata comes from the other client, then the data, over the same connections.
 */
import { FileSystemStorage, formatMagnet, fromHex, Runtime } from "../../mod.ts";
import { assertFixture, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

Deno.test({
  name: `interop: Bittern downloads a magnet (info hash + x.pe) from a libtorrent seeder${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const fixture = await writeFixture(seedDir);
    const seeder = await LtPeer.start([
      "seed",
      "--torrent",
      fixture.torrentPath,
      "--data",
      seedDir,
    ]);
    const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
    try {
      const magnet = formatMagnet({
        infoHash: fromHex(fixture.infoHashHex)!,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      const session = await runtime.add(magnet, { out: leechDir });
      const torrent = await withTimeout(session.metadata, 30_000, "metadata from libtorrent");
      if (torrent.infoHashHex !== fixture.infoHashHex) throw new Error("wrong info hash");
      await withTimeout(session.completed, 60_000, "download from libtorrent");
      await assertFixture(leechDir);
    } finally {
      await runtime.close();
      await seeder.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `interop: libtorrent given a bare magnet and Bittern's address gets metadata and data${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const fixture = await writeFixture(seedDir);
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    let leecher: LtPeer | undefined;
    try {
      await runtime.add(fixture.bytes, { storage: new FileSystemStorage(seedDir) });
      const magnet = formatMagnet({ infoHash: fromHex(fixture.infoHashHex)! });
      leecher = await LtPeer.leech(magnet, leechDir, runtime.port);
      await leecher.waitFor((event) => event.event === "metadata", 30_000);
      await leecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(leechDir);
    } finally {
      await leecher?.close();
      await runtime.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});
