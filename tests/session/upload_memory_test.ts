/**
 * Uploading under a tight upload memory: the serve loops of many busy peers share the runtime's
 * block budget (`maxUploadBufferBytes`) without starving each other.
 */
import assert from "node:assert/strict";
import { createSwarm } from "../../src/testing/mod.ts";

Deno.test("a seeder whose upload memory is smaller than its peers' queues together still serves them all", async () => {
  // 256 KiB of upload memory for 6 leechers, each of whose loops may keep up to 128 KiB of
  // sent blocks (`maxQueuedUploadBytes`): a loop that kept its written blocks while waiting
  // for memory the others kept stalled every one of them.
  await using swarm = await createSwarm({
    seeders: 1,
    leechers: 6,
    payload: { size: 8 * 1024 * 1024, files: 2, pieceLength: 256 * 1024, seed: 11 },
    peer: (role) => role === "seeder" ? { runtime: { maxUploadBufferBytes: 256 * 1024 } } : {},
  });
  await swarm.start();
  await swarm.allComplete({ timeoutMs: 30_000 });
  await swarm.verifyPayload();
  for (const peer of swarm.peers) assert.equal(peer.session.stats().progress, 1);
});
