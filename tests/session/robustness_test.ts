import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Bitfield,
  createTorrent,
  FileSystemStorage,
  MemoryStorage,
  type PieceSelector,
  Runtime,
  type Storage,
  StorageError,
  type Torrent,
  type TorrentStorage,
} from "../../mod.ts";
import { readAll, seededMemory, singleFile, within } from "./helpers.ts";

const listen = { hostname: "127.0.0.1", port: 0 };

/** Storage whose writes fail as a full disk would. */
class FullDisk implements Storage {
  open(torrent: Torrent): Promise<TorrentStorage> {
    return Promise.resolve({
      read: () => Promise.reject(new StorageError("io", "read", torrent.name, "nothing here")),
      write: (piece: number) =>
        Promise.reject(new StorageError("no-space", "write", `piece ${piece}`, "disk full")),
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

Deno.test("session: a disk error stops that session only; the other on the runtime completes", async () => {
  const a = await singleFile("a.bin", 200_000);
  const b = await singleFile("bb.bin", 200_000);
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    await seeder.add(a.torrent, { storage: await seededMemory(a.torrent, a.data) });
    await seeder.add(b.torrent, { storage: await seededMemory(b.torrent, b.data) });
    const peers = [{ host: "127.0.0.1", port: seeder.port! }];
    const failing = await leecher.add(a.torrent, {
      storage: new FullDisk(),
      peers,
      restore: "none",
    });
    const storage = new MemoryStorage();
    const healthy = await leecher.add(b.torrent, { storage, peers });
    const error = await within(failing.events.once("error"), 20_000, "error event");
    assert.ok(error.error instanceof StorageError);
    assert.equal((error.error as StorageError).kind, "no-space");
    await assert.rejects(failing.completed);
    await within(healthy.completed, 20_000, "healthy session");
    assert.deepEqual(await readAll(storage, b.torrent), b.data);
    assert.equal(failing.running, false);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});

/** Storage that serves garbage once told to (the peer's store believes its pieces are good). */
class LyingStorage implements Storage {
  lying = false;
  constructor(readonly inner: Storage) {}
  async open(torrent: Torrent): Promise<TorrentStorage> {
    const inner = await this.inner.open(torrent);
    return {
      read: async (piece, offset, length) => {
        const bytes = await inner.read(piece, offset, length);
        return this.lying ? bytes.map((byte) => byte ^ 0xff) : bytes;
      },
      write: (piece, offset, data) => inner.write(piece, offset, data),
      flush: () => inner.flush(),
      close: () => inner.close(),
    };
  }
}

Deno.test("session: a peer sending corrupt pieces is banned; the download completes from an honest one", async () => {
  const { torrent, data } = await singleFile("lies.bin", 400_000);
  const liar = new Runtime({ maxConnectionsPerIp: 64, listen });
  const honest = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    const lyingStorage = new LyingStorage(await seededMemory(torrent, data));
    await liar.add(torrent, { storage: lyingStorage });
    lyingStorage.lying = true;
    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, {
      storage,
      peers: [{ host: "127.0.0.1", port: liar.port! }],
    });
    const banned = await within(session.events.once("peer-banned"), 20_000, "ban");
    assert.equal(banned.address, `127.0.0.1:${liar.port}`);
    // Only now does an honest seeder appear.
    await honest.add(torrent, { storage: await seededMemory(torrent, data) });
    session.addPeers([{ host: "127.0.0.1", port: honest.port! }]);
    await within(session.completed, 20_000, "completion from the honest seeder");
    assert.deepEqual(await readAll(storage, torrent), data);
    assert.ok(!session.peers().some((peer) => peer.address === banned.address));
  } finally {
    await Promise.all([liar.close(), honest.close(), leecher.close()]);
  }
});

/** A custom selector: strictly from the last piece down. */
class Backwards implements PieceSelector {
  readonly name = "backwards";
  readonly picked: number[] = [];
  #count = 0;
  init(pieceCount: number) {
    this.#count = pieceCount;
  }
  peerAdded() {}
  peerHave() {}
  peerRemoved() {}
  pieceDone() {}
  select(peer: Bitfield, eligible: (index: number) => boolean) {
    for (let i = this.#count - 1; i >= 0; i--) {
      if (peer.get(i) && eligible(i)) {
        this.picked.push(i);
        return i;
      }
    }
    return undefined;
  }
}

Deno.test("session: a custom piece selector decides the order", async () => {
  const { torrent, data } = await singleFile("backwards.bin", 16384 * 12);
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const selector = new Backwards();
    const storage = new MemoryStorage();
    const verified: number[] = [];
    const session = await leecher.add(torrent, {
      storage,
      selector,
      // One block in flight at a time makes the order observable.
      initialQueueDepth: 1,
      maxQueueDepth: 1,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    session.events.on("piece-verified", ({ index }) => verified.push(index));
    await within(session.completed, 20_000, "backwards download");
    const all = Array.from({ length: torrent.pieceCount }, (_, i) => torrent.pieceCount - 1 - i);
    assert.deepEqual(selector.picked, all);
    assert.deepEqual(verified, all);
    assert.deepEqual(await readAll(storage, torrent), data);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});

Deno.test("session: only the selected files' pieces are requested; boundary pieces complete", async () => {
  const files = [
    { path: ["a.bin"], data: new Uint8Array(50_000).fill(1) },
    { path: ["b.bin"], data: new Uint8Array(50_000).fill(2) },
    { path: ["c.bin"], data: new Uint8Array(50_000).fill(3) },
  ];
  const { torrent } = await createTorrent({ name: "partial", files }, { pieceLength: 16384 });
  const all = new Uint8Array(150_000);
  files.forEach((file, i) => all.set(file.data, i * 50_000));
  const dir = await Deno.makeTempDir();
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, all) });
    const requested = new Set<number>();
    const session = await leecher.add(torrent, {
      storage: new FileSystemStorage(dir),
      wantedFiles: [1],
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
      agents: [{
        name: "spy",
        consumes: { piece: (_peer, message) => void requested.add(message.index) },
      }],
    });
    await within(session.completed, 20_000, "partial download");
    // b.bin spans bytes 50,000..99,999: pieces 3 (shared with a.bin) to 6 (shared with c.bin).
    assert.deepEqual([...requested].sort((x, y) => x - y), [3, 4, 5, 6]);
    assert.deepEqual(await Deno.readFile(join(dir, "partial", "b.bin")), files[1].data);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await Deno.remove(dir, { recursive: true });
  }
});
