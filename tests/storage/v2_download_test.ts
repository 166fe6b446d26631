/**
 * End to end: a Bittern seeder and a Bittern leecher (Runtime, TCP on 127.0.0.1) transfer a
 * v2-only and a hybrid torrent of files of odd sizes, verified by their merkle trees; a
 * peer sending wrong blocks of a v2 torrent has its pieces failed while the download still
 * completes byte-exact from the honest seeder; and a torrent whose piece layer does not
 * hash to its file's root is refused when it is parsed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type BencodeDict, decode, encode } from "../../src/bencode/mod.ts";
import { TorrentError } from "../../src/metainfo/errors.ts";
import { parseTorrent } from "../../src/metainfo/mod.ts";
import { Runtime } from "../../src/session/runtime.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { corruptBlocks } from "../session/hostile_peers.ts";
import { within } from "../session/helpers.ts";
import { withTempDir } from "./fixture.ts";
import { assertV2Files, makeV2Torrent, writeV2Files } from "./v2_fixture.ts";

const listen = { hostname: "127.0.0.1", port: 0 };

for (const format of ["v2", "hybrid"] as const) {
  Deno.test(`a Bittern leecher downloads a ${format} torrent of odd file sizes from a Bittern seeder`, async () => {
    const fixture = await makeV2Torrent(format);
    assert.equal(fixture.torrent.version, format === "v2" ? 2 : "hybrid");
    await withTempDir(async (root) => {
      const seedDir = join(root, "seed");
      const leechDir = join(root, "leech");
      await writeV2Files(seedDir, fixture);
      const seeder = new Runtime({ listen });
      const leecher = new Runtime({ listen });
      let leecherClosed: Promise<void> | undefined;
      try {
        // The seeder rechecks its files: v2 pieces read back and verified by merkle root.
        const seeding = await seeder.add(fixture.bytes, {
          storage: new FileSystemStorage(seedDir),
        });
        assert.equal(seeding.stats().verifiedPieces, fixture.torrent.pieceCount);
        const session = await leecher.add(fixture.bytes, {
          storage: new FileSystemStorage(leechDir),
          peers: [{ host: "127.0.0.1", port: seeder.port! }],
        });
        let failed = 0;
        session.events.on("piece-failed", () => failed++);
        await within(session.completed, 30_000, `${format} download`);
        assert.equal(failed, 0);
        leecherClosed = leecher.close();
        await within(leecherClosed, 20_000, "closing the leecher");
        await assertV2Files(leechDir, fixture);
      } finally {
        await within(
          Promise.all([leecherClosed ?? leecher.close(), seeder.close()]),
          20_000,
          "closing",
        );
      }
    });
  });
}

Deno.test("a peer sending wrong blocks of a v2 torrent has its pieces failed; the download completes from an honest one", async () => {
  const fixture = await makeV2Torrent("v2");
  await withTempDir(async (root) => {
    const seedDir = join(root, "seed");
    const leechDir = join(root, "leech");
    await writeV2Files(seedDir, fixture);
    const seeder = new Runtime({ listen, maxConnectionsPerIp: 10 });
    const leecher = new Runtime({ listen, maxConnectionsPerIp: 10 });
    const corrupt = corruptBlocks({ torrent: fixture.torrent, payload: fixture.data, seed: 3 });
    let leecherClosed: Promise<void> | undefined;
    try {
      await seeder.add(fixture.bytes, { storage: new FileSystemStorage(seedDir) });
      // Only the corrupt peer at first, so the failures are its alone.
      const session = await leecher.add(fixture.bytes, {
        storage: new FileSystemStorage(leechDir),
        peers: [{ host: "127.0.0.1", port: corrupt.port }],
      });
      // Every piece the corrupt peer sends alone fails (a wrong leaf, or padding that is not
      // zero): each failure is a strike, and strikes get it banned.
      const failedSenders = new Set<string>();
      session.events.on("piece-failed", ({ peers }) => {
        for (const peer of peers) failedSenders.add(peer);
      });
      const banned = new Set<string>();
      const corruptBanned = new Promise<void>((resolve) =>
        session.events.on("peer-banned", ({ address }) => {
          banned.add(address);
          if (address === corrupt.address) resolve();
        })
      );
      await within(corruptBanned, 30_000, "the corrupt peer struck out and banned");
      assert.deepEqual([...failedSenders], [corrupt.address]);
      assert.equal(session.stats().verifiedPieces, 0);
      session.addPeers([{ host: "127.0.0.1", port: seeder.port! }]);
      await within(session.completed, 30_000, "the download from the honest seeder");
      assert.ok(corrupt.counts.corrupted > 0, "the corrupt peer sent corrupt blocks");
      assert.ok(!banned.has(`127.0.0.1:${seeder.port}`), "the honest seeder was not banned");
      leecherClosed = leecher.close();
      await within(leecherClosed, 20_000, "closing the leecher");
      await assertV2Files(leechDir, fixture);
    } finally {
      await within(
        Promise.all([leecherClosed ?? leecher.close(), seeder.close(), corrupt.close()]),
        20_000,
        "closing",
      );
    }
  });
});

Deno.test("a hybrid whose SHA-1 and v2 hashes disagree stops its session with inconsistent-hashes", async () => {
  const fixture = await makeV2Torrent("hybrid");
  // Hand-made: piece 0's SHA-1 no longer describes the data its v2 tree describes.
  const pieceHashes = fixture.torrent.pieceHashes.slice();
  pieceHashes[3] ^= 0x10;
  const inconsistent = { ...fixture.torrent, pieceHashes };
  await withTempDir(async (root) => {
    const seedDir = join(root, "seed");
    await writeV2Files(seedDir, fixture);
    const seeder = new Runtime({ listen });
    const leecher = new Runtime({ listen });
    try {
      await seeder.add(fixture.bytes, { storage: new FileSystemStorage(seedDir) });
      const session = await leecher.add(inconsistent, {
        storage: new FileSystemStorage(join(root, "leech")),
        peers: [{ host: "127.0.0.1", port: seeder.port! }],
      });
      const banned: string[] = [];
      session.events.on("peer-banned", ({ address }) => banned.push(address));
      const errored = new Promise<Error>((resolve) =>
        session.events.on("error", ({ error }) => resolve(error))
      );
      await assert.rejects(
        within(session.completed, 30_000, "the inconsistent download"),
        (error) => error instanceof StorageError && error.kind === "inconsistent-hashes",
      );
      const error = await within(errored, 5_000, "the error event");
      assert.match(error.message, /piece 0.*matches its v2 merkle hash but not its SHA-1/);
      assert.deepEqual(banned, [], "the honest seeder is not blamed for the torrent");
    } finally {
      await within(Promise.all([leecher.close(), seeder.close()]), 20_000, "closing");
    }
  });
});

Deno.test("a torrent whose piece layer does not hash to its file's root is refused at parse time", async () => {
  const fixture = await makeV2Torrent("v2");
  const root = decode(fixture.bytes) as BencodeDict;
  const layers = root.get("piece layers") as BencodeDict;
  const [key] = [...layers.rawKeys()];
  const layer = (layers.get(key) as Uint8Array).slice();
  layer[5] ^= 1;
  layers.set(key, layer);
  const bytes = encode(root);
  assert.throws(
    () => parseTorrent(bytes),
    (error) =>
      error instanceof TorrentError && error.paths[0].startsWith('["piece layers"]') &&
      /merkle root is the file's pieces root/.test(error.message),
  );
  await using runtime = new Runtime({ listen: false });
  await assert.rejects(
    runtime.add(bytes, { storage: new MemoryStorage(), start: false }),
    TorrentError,
  );
});
