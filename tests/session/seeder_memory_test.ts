/**
 * A seeder under hostile leechers keeps serving: five connections each request one block in
 * each of 250 pieces and then never read their socket again (what the seeder sends them
 * piles up), two more flood it with 20,000 requests at once, and an honest Bittern leecher
 * must still download every byte while the seeder's session keeps running.
 *
 * Behaviour only: memory is measured by `deno task bench seeder-memory`, not asserted here.
 */
import assert from "node:assert/strict";
import { MemoryStorage, Runtime } from "../../mod.ts";
import { readAll, seededMemory, singleFile, within } from "./helpers.ts";
import { type HostileLeecher, requestFlood, stalledLeecher } from "./hostile_peers.ts";

const listen = { hostname: "127.0.0.1", port: 0 };
// Every peer here is 127.0.0.1: allow many connections per IP (bans then go by IP and port).
const LOOPBACK = { maxConnectionsPerIp: 100 } as const;

Deno.test("session: a seeder with stalled and flooding leechers still serves an honest one", async () => {
  // 16 MiB in 64 KiB pieces: 256 pieces, so 250 distinct pieces per stalled leecher.
  const { torrent, data } = await singleFile("stalled.bin", 16 << 20, 65536);
  const seeder = new Runtime({ listen, ...LOOPBACK });
  const leecher = new Runtime({ listen: false, ...LOOPBACK });
  const hostile: HostileLeecher[] = [];
  try {
    const seeding = await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const port = seeder.port!;
    for (let i = 0; i < 5; i++) {
      hostile.push(
        await within(
          stalledLeecher({ port, torrent, pieces: 250, unchokeTimeoutMs: 5000 }),
          20_000,
          `stalled leecher ${i}`,
        ),
      );
    }
    for (let i = 0; i < 2; i++) {
      hostile.push(await within(requestFlood({ port, torrent, count: 20_000 }), 20_000, "flood"));
    }
    // Someone was unchoked and asked for data, or the test proves nothing.
    assert.ok(hostile.some((peer) => peer.unchoked), "no hostile leecher was unchoked");

    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, { storage, peers: [{ host: "127.0.0.1", port }] });
    await within(session.completed, 90_000, "the honest leecher's download");
    assert.deepEqual(await readAll(storage, torrent), data);
    assert.equal(seeding.running, true, "the seeder's session stopped");
  } finally {
    await within(
      Promise.all([...hostile.map((peer) => peer.close()), seeder.close(), leecher.close()]),
      30_000,
      "closing",
    );
  }
});
