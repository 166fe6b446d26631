/**
 * Trackers hear started → completed → stopped, even when the client (or the session
 * around it) stops right after the download finished: checked against the counters of
 * a real tracker (the built-in TrackerServer).
 */
import assert from "node:assert/strict";
import { createTorrent, MemoryStorage, Runtime, TrackerServer } from "../../mod.ts";
import { scrape, TrackerClient, type TrackerClientEventMap } from "../../src/tracker/mod.ts";
import { payload, seededMemory, within } from "../session/helpers.ts";
import { filled } from "./helpers.ts";

/** The tracker's `downloaded` count (completed announces) for `infoHash`. */
async function downloadedCount(tracker: TrackerServer, infoHash: Uint8Array): Promise<number> {
  const counts = await scrape(tracker.url, [infoHash], { timeout: 5_000 });
  return [...counts.values()][0]?.downloaded ?? 0;
}

Deno.test("tracker client: stop() right after completed() still announces completed, then stopped", async () => {
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 60 });
  await tracker.start();
  const infoHash = filled(9);
  let left = 1000;
  const client = new TrackerClient({
    announce: [[tracker.url]],
    infoHash,
    peerId: filled(0x42),
    port: 6881,
    stats: () => ({ uploaded: 0, downloaded: 1000 - left, left }),
    stopTimeout: 5_000,
  });
  const events: (string | undefined)[] = [];
  client.addEventListener(
    "announce",
    (event: TrackerClientEventMap["announce"]) => events.push(event.detail.event),
  );
  try {
    await within(client.start(), 10_000, "started announce");
    left = 0;
    void client.completed(); // what a session does: fire and forget, then stop
    await within(client.stop(), 15_000, "stop");
    assert.deepEqual(events, ["started", "completed", "stopped"]);
    assert.equal(await downloadedCount(tracker, infoHash), 1);
  } finally {
    await client.stop();
    await tracker.close();
  }
});

Deno.test("session: a plain download (no seeding) announces started, completed, stopped; the tracker counts it", async () => {
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 60 });
  await tracker.start();
  const listen = { hostname: "127.0.0.1", port: 0 };
  const seeder = new Runtime({ listen });
  const leecher = new Runtime({ listen });
  try {
    const data = payload(100_000, 11);
    const { torrent } = await createTorrent({ name: "counted.bin", data }, {
      pieceLength: 16384,
      announce: [tracker.url],
    });
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      seed: false,
      start: false,
    });
    const actions: string[] = [];
    session.events.on("tracker", ({ event }) => actions.push(event));
    const stopped = session.events.once("stopped");
    session.start();
    await within(session.completed, 20_000, "download via the tracker");
    // As the CLI does: close the runtime as soon as the download completed.
    await within(leecher.close(), 20_000, "leecher close");
    await within(stopped, 1_000, "stopped event");
    assert.deepEqual(
      actions.filter((action) => action !== "announce"),
      ["started", "completed", "stopped"],
    );
    assert.equal(await downloadedCount(tracker, torrent.infoHash), 1);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await tracker.close();
  }
});
