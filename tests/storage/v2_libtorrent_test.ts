/**
 * The v2 piece arithmetic against libtorrent's own hashes: libtorrent 2.0 (python3-libtorrent)
 * makes v2-only and hybrid torrents of files of odd sizes; a PieceStore recheck over the same
 * files finds every piece good, and a changed byte fails exactly its piece. And against the
 * bytes libtorrent serves (padding included): a Bittern leecher downloads both kinds from a
 * libtorrent seeder, every piece verified. Skipped when libtorrent is absent.
 */
import assert from "node:assert/strict";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { join } from "node:path";
import { Runtime } from "../../src/session/runtime.ts";
import { hasLibtorrent, libtorrentTorrent, LtPeer } from "../interop/lt_process.ts";
import { within } from "../session/helpers.ts";
import { patternBytes, withTempDir } from "./fixture.ts";
import { assertV2Files, makeV2Torrent, writeV2Files } from "./v2_fixture.ts";

const libtorrent = await hasLibtorrent();
if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the tests below are skipped
  console.warn("libtorrent v2 recheck tests skipped: /usr/bin/python3 cannot import libtorrent");
}

const PIECE = 32768;
/** Smaller than a block, a block and a byte, exactly one piece, several pieces and a part. */
const SIZES: [string, number][] = [
  ["a.txt", 100],
  ["b.bin", 16385],
  ["c.bin", PIECE],
  ["d.bin", 3 * PIECE + 777],
];

for (const label of ["v2-only", "hybrid"] as const) {
  Deno.test({
    name: `a ${label} torrent made by libtorrent rechecks good, and a changed byte fails its piece`,
    ignore: !libtorrent,
    async fn() {
      await withTempDir(async (dir) => {
        const files = SIZES.map(([name, size], i) => ({
          path: [name],
          data: patternBytes(size, 40 + i),
        }));
        const format = label === "hybrid" ? "hybrid" : "v2";
        const { torrent } = await libtorrentTorrent(dir, { name: "set", files }, format, PIECE);
        assert.equal(torrent.version, label === "hybrid" ? "hybrid" : 2);
        const recheck = async () => {
          const store = await PieceStore.open(torrent, new FileSystemStorage(dir), {
            restore: "recheck",
          });
          const verified = store.verified.clone();
          await store.close();
          return verified;
        };
        assert.equal((await recheck()).count(), torrent.pieceCount);
        const d = torrent.files.find((file) => file.path.at(-1) === "d.bin")!;
        const file = await Deno.open(`${dir}/set/d.bin`, { read: true, write: true });
        const byte = new Uint8Array(1);
        await file.seek(2 * PIECE + 20_000, Deno.SeekMode.Start);
        await file.read(byte);
        byte[0] ^= 0xff;
        await file.seek(2 * PIECE + 20_000, Deno.SeekMode.Start);
        await file.write(byte);
        file.close();
        const after = await recheck();
        const bad = d.offset / PIECE + 2;
        assert.deepEqual(
          [...Array(torrent.pieceCount).keys()].filter((piece) => !after.get(piece)),
          [bad],
        );
      });
    },
  });
}

for (const format of ["v2", "hybrid"] as const) {
  Deno.test({
    name: `a Bittern leecher downloads a ${format} torrent from a libtorrent seeder, verified`,
    ignore: !libtorrent,
    async fn() {
      const fixture = await makeV2Torrent(format);
      await withTempDir(async (dir) => {
        await writeV2Files(join(dir, "seed"), fixture);
        await Deno.writeFile(join(dir, "t.torrent"), fixture.bytes);
        const seeder = await LtPeer.start([
          "seed",
          "--torrent",
          join(dir, "t.torrent"),
          "--data",
          join(dir, "seed"),
        ]);
        const leecher = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
        try {
          const session = await leecher.add(fixture.bytes, {
            storage: new FileSystemStorage(join(dir, "leech")),
            peers: [{ host: "127.0.0.1", port: seeder.port }],
          });
          let failed = 0;
          session.events.on("piece-failed", () => failed++);
          await within(session.completed, 30_000, `${format} download from libtorrent`);
          assert.equal(failed, 0);
          await leecher.close();
          await assertV2Files(join(dir, "leech"), fixture);
        } finally {
          await within(Promise.all([leecher.close(), seeder.close()]), 20_000, "closing");
        }
      });
    },
  });
}

for (const format of ["v2", "hybrid"] as const) {
  Deno.test({
    name:
      `a libtorrent leecher downloads a ${format} torrent from a Bittern seeder that rechecked it`,
    ignore: !libtorrent,
    async fn() {
      const fixture = await makeV2Torrent(format);
      await withTempDir(async (dir) => {
        await writeV2Files(join(dir, "seed"), fixture);
        await Deno.writeFile(join(dir, "t.torrent"), fixture.bytes);
        const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
        let leecher: LtPeer | undefined;
        try {
          const seeding = await seeder.add(fixture.bytes, {
            storage: new FileSystemStorage(join(dir, "seed")),
          });
          assert.equal(seeding.stats().verifiedPieces, fixture.torrent.pieceCount);
          leecher = await LtPeer.leech(join(dir, "t.torrent"), join(dir, "leech"), seeder.port);
          await leecher.waitFor((event) => event.event === "finished", 30_000);
          await assertV2Files(join(dir, "leech"), fixture);
        } finally {
          await within(
            Promise.all([seeder.close(), leecher?.close()]),
            20_000,
            "closing",
          );
        }
      });
    },
  });
}
