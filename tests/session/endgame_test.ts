import assert from "node:assert/strict";
import {
  MemoryStorage,
  type MessagingAgent,
  Runtime,
  type Storage,
  type Torrent,
  type TorrentStorage,
} from "../../mod.ts";
import { readAll, seededMemory, singleFile, within } from "./helpers.ts";

/** Storage whose reads, once stalled, wait until released: a peer that never answers in time. */
class StalledStorage implements Storage {
  stalled = false;
  #release!: () => void;
  readonly released = new Promise<void>((resolve) => this.#release = resolve);
  constructor(readonly inner: Storage) {}
  release(): void {
    this.#release();
  }
  async open(torrent: Torrent): Promise<TorrentStorage> {
    const inner = await this.inner.open(torrent);
    return {
      read: async (piece, offset, length) => {
        if (this.stalled) await this.released;
        return await inner.read(piece, offset, length);
      },
      write: (piece, offset, data) => inner.write(piece, offset, data),
      flush: () => inner.flush(),
      close: () => inner.close(),
    };
  }
}

Deno.test("session: endgame asks another peer for blocks stuck at a stalled one, and cancels them there", async () => {
  const { torrent, data } = await singleFile("endgame.bin", 16384 * 24);
  const listen = { hostname: "127.0.0.1", port: 0 };
  const [fast, stalled, leecher] = [
    new Runtime({ maxConnectionsPerIp: 64, listen }),
    new Runtime({ maxConnectionsPerIp: 64, listen }),
    new Runtime({ maxConnectionsPerIp: 64, listen: false }),
  ];
  const stalledStorage = new StalledStorage(await seededMemory(torrent, data));
  let cancels = 0;
  const cancelCounter: MessagingAgent = {
    name: "cancels",
    consumes: { cancel: () => void cancels++ },
  };
  try {
    await stalled.add(torrent, { storage: stalledStorage, agents: [cancelCounter] });
    stalledStorage.stalled = true; // after its recheck at add
    await fast.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    // The stalled peer first, so it surely holds requests when the fast one appears.
    const session = await leecher.add(torrent, {
      storage,
      peers: [{ host: "127.0.0.1", port: stalled.port! }],
      // Far beyond the test's wait: only endgame, not a request timeout, can finish it.
      requestTimeoutMs: 600_000,
    });
    await within(session.events.once("peer-connected"), 10_000, "connection to the stalled peer");
    session.addPeers([{ host: "127.0.0.1", port: fast.port! }]);
    await within(session.completed, 20_000, "completion without the stalled peer");
    assert.deepEqual(await readAll(storage, torrent), data);
    // The cancels were sent when the duplicates arrived; give them the time to be read.
    await within(
      (async () => {
        for (let i = 0; i < 200 && cancels === 0; i++) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "cancels",
    );
    assert.ok(cancels > 0, "the stalled peer received cancel messages");
  } finally {
    stalledStorage.release();
    await Promise.all([fast.close(), stalled.close(), leecher.close()]);
  }
});
