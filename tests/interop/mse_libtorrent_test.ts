/**
 * MSE/PE against real libtorrent peers (python3-libtorrent) on 127.0.0.1:
 * libtorrent with encryption forced (RC4 only, both ways) leeching from and
 * seeding to Bittern, and libtorrent with its default policy (MSE first)
 * reaching a Bittern seeder that requires encryption, so no plain retry can
 * be what worked. A forced libtorrent (allowed level RC4) and a Bittern that
 * requires MSE accept nothing but RC4: a completed transfer is an encrypted one.
 */
import { type EncryptionPolicy, FileSystemStorage, Runtime } from "../../mod.ts";
import { assertFixture, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

async function libtorrentLeeches(policy: EncryptionPolicy, forced: boolean): Promise<void> {
  const seedDir = await Deno.makeTempDir();
  const leechDir = await Deno.makeTempDir();
  const { torrentPath, bytes } = await writeFixture(seedDir);
  const runtime = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
    encryption: policy,
  });
  let leecher: LtPeer | undefined;
  try {
    await runtime.add(bytes, { storage: new FileSystemStorage(seedDir), trackers: false });
    leecher = await LtPeer.leech(
      torrentPath,
      leechDir,
      runtime.port,
      forced ? ["--forced-encryption"] : [],
    );
    await leecher.waitFor((event) => event.event === "finished", 60_000);
    await assertFixture(leechDir);
  } finally {
    await leecher?.close();
    await runtime.close();
    await Deno.remove(seedDir, { recursive: true });
    await Deno.remove(leechDir, { recursive: true });
  }
}

Deno.test({
  name: `interop MSE: libtorrent (encryption forced) downloads from a Bittern seeder${why}`,
  ignore,
  fn: () => libtorrentLeeches("prefer", true),
});

Deno.test({
  name: `interop MSE: libtorrent (default policy) reaches a Bittern seeder that requires MSE${why}`,
  ignore,
  fn: () => libtorrentLeeches("require", false),
});

for (const policy of ["prefer", "require"] as const) {
  Deno.test({
    name:
      `interop MSE: libtorrent (encryption forced) seeds to a Bittern leecher (${policy})${why}`,
    ignore,
    async fn() {
      const seedDir = await Deno.makeTempDir();
      const leechDir = await Deno.makeTempDir();
      const { torrentPath, bytes } = await writeFixture(seedDir);
      const seeder = await LtPeer.start([
        "seed",
        "--torrent",
        torrentPath,
        "--data",
        seedDir,
        "--forced-encryption",
      ]);
      const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false, encryption: policy });
      try {
        const session = await runtime.add(bytes, {
          out: leechDir,
          trackers: false,
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        await withTimeout(session.completed, 60_000, "download from libtorrent (forced MSE)");
        await assertFixture(leechDir);
      } finally {
        await runtime.close();
        await seeder.close();
        await Deno.remove(seedDir, { recursive: true });
        await Deno.remove(leechDir, { recursive: true });
      }
    },
  });
}
