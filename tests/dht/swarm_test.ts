import assert from "node:assert/strict";
import { createSwarm } from "../../src/testing/mod.ts";

Deno.test("dht swarm: leechers find the seeder through the DHT alone", async () => {
  await using swarm = await createSwarm({
    dht: true,
    seeders: 1,
    leechers: 2,
    timeoutMs: 20_000,
  });
  await swarm.start();
  await swarm.allComplete();
  assert.ok(swarm.dht!.table.size >= 3, "every peer joined the bootstrap node");
});

Deno.test("dht swarm: a bare magnet link (no tr, no x.pe) completes through the DHT", async () => {
  await using swarm = await createSwarm({
    dht: true,
    seeders: 1,
    leechers: 1,
    timeoutMs: 20_000,
    peer: (role) => role === "leecher" ? { magnet: true } : {},
  });
  await swarm.start();
  await swarm.allComplete();
});

Deno.test("dht swarm: a private torrent never uses the DHT", async () => {
  await using swarm = await createSwarm({
    dht: true,
    private: true,
    seeders: 1,
    leechers: 1,
    timeoutMs: 20_000,
  });
  await swarm.start();
  // The leecher has no tracker, no direct peers and no DHT: it can only stall. Wait for its
  // first stall report, then check that nobody announced to or asked the DHT.
  const leecher = swarm.leechers[0];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no stalled event in 10 s")), 10_000);
    leecher.session.events.on("stalled", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  assert.equal(swarm.dht!.stats.queriesAnswered, 0, "a private torrent's peer queried the DHT");
  assert.equal(leecher.progress(), 0);
});
