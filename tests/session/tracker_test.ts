import assert from "node:assert/strict";
import { createTorrent, MemoryStorage, Runtime, TrackerServer } from "../../mod.ts";
import { payload, seededMemory, within } from "./helpers.ts";

Deno.test("session: peers found through a tracker; runtime.close() returns after `stopped` is announced", async () => {
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 60 });
  await tracker.start();
  const listen = { hostname: "127.0.0.1", port: 0 };
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen });
  try {
    const data = payload(120_000, 5);
    const { torrent } = await createTorrent({ name: "tracked.bin", data }, {
      pieceLength: 16384,
      announce: [tracker.url],
    });
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const session = await leecher.add(torrent, { storage: new MemoryStorage() });
    const announced = within(
      session.events.once("tracker", (e) => e.event === "started"),
      10_000,
      "announce",
    );
    await within(session.completed, 20_000, "download via the tracker");
    await announced;
    assert.equal(tracker.peersOf(torrent.infoHash).length, 2);
    await leecher.close();
    const left = tracker.peersOf(torrent.infoHash).map((peer) => peer.port);
    assert.deepEqual(left, [seeder.port], "the leecher said `stopped` before close() returned");
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await tracker.close();
  }
});

Deno.test("session: peers found through a UDP tracker only (BEP 15)", async () => {
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, udpPort: 0, interval: 60 });
  await tracker.start();
  const listen = { hostname: "127.0.0.1", port: 0 };
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen });
  try {
    const data = payload(120_000, 6);
    const { torrent } = await createTorrent({ name: "udp-tracked.bin", data }, {
      pieceLength: 16384,
      announce: [tracker.udpUrl],
    });
    assert.deepEqual(torrent.announce.flat(), [tracker.udpUrl]);
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, { storage });
    await within(session.completed, 20_000, "download via the UDP tracker");
    assert.equal(tracker.peersOf(torrent.infoHash).length, 2);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await tracker.close();
  }
});
