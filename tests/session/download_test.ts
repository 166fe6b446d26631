import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createTorrent,
  FileSystemStorage,
  pieceLengthAt,
  Runtime,
  type Storage,
  type Torrent,
  type TorrentStorage,
} from "../../mod.ts";
import { payload } from "./helpers.ts";

Deno.test("session: a leecher downloads a multi-file torrent from a seeder, byte-exact", async () => {
  const seedDir = await Deno.makeTempDir();
  const leechDir = await Deno.makeTempDir();
  const files = [
    { path: ["a.bin"], data: payload(700_000, 1) },
    { path: ["sub", "b.bin"], data: payload(33_333, 2) },
    { path: ["sub", "empty.txt"], data: new Uint8Array(0) },
    { path: ["c.bin"], data: payload(1_200_001, 3) },
  ];
  const { torrent } = await createTorrent({ name: "multi", files }, { pieceLength: 32768 });
  for (const file of files) {
    const path = join(seedDir, "multi", ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  const leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  try {
    const seed = await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
    assert.equal(seed.stats().progress, 1);
    const session = await leecher.add(torrent, {
      out: leechDir,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    const stats = await Promise.race([
      session.completed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), 30_000)),
    ]);
    assert.equal(stats.progress, 1);
    for (const file of files) {
      const got = await Deno.readFile(join(leechDir, "multi", ...file.path));
      assert.deepEqual(got, file.data, file.path.join("/"));
    }
  } finally {
    await leecher.close();
    await seeder.close();
    await Deno.remove(seedDir, { recursive: true });
    await Deno.remove(leechDir, { recursive: true });
  }
});

Deno.test("session: a download through a user's own storage back-end (a Map of pieces)", async () => {
  const data = payload(300_000, 9);
  const { torrent } = await createTorrent({ name: "custom.bin", data }, { pieceLength: 32768 });
  /** Keeps pieces in a Map and counts writes: the README's example back-end. */
  class CountingStorage implements Storage {
    writes = 0;
    readonly pieces = new Map<number, Uint8Array>();
    open(opened: Torrent): Promise<TorrentStorage> {
      const piece = (index: number) => {
        let bytes = this.pieces.get(index);
        if (!bytes) this.pieces.set(index, bytes = new Uint8Array(pieceLengthAt(opened, index)));
        return bytes;
      };
      return Promise.resolve({
        read: (index, offset, length) =>
          Promise.resolve(piece(index).slice(offset, offset + length)),
        write: (index, offset, bytes) => {
          this.writes++;
          piece(index).set(bytes, offset);
          return Promise.resolve();
        },
        flush: () => Promise.resolve(),
        close: () => Promise.resolve(),
      });
    }
  }
  const seedDir = await Deno.makeTempDir();
  await Deno.writeFile(join(seedDir, "custom.bin"), data);
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
    const storage = new CountingStorage();
    const session = await leecher.add(torrent, {
      storage,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    await session.completed;
    const blocks = Math.ceil(data.length / 16384);
    assert.ok(storage.writes >= blocks, `${storage.writes} writes for ${blocks} blocks`);
    const joined = new Uint8Array(data.length);
    for (const [index, bytes] of storage.pieces) joined.set(bytes, index * torrent.pieceLength);
    assert.deepEqual(joined, data);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await Deno.remove(seedDir, { recursive: true });
  }
});
