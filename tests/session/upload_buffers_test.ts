/** Unit tests of UploadBuffers' bounds following the runtime's open connections. */
import assert from "node:assert/strict";
import { UploadBuffers } from "../../src/session/upload_buffers.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { seededMemory, singleFile } from "./helpers.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

Deno.test("UploadBuffers: bounds grow with connections up to the maxima, and shrink back", () => {
  const buffers = new UploadBuffers({ maxBlockBytes: 8 * MIB });
  assert.deepEqual(buffers.limits, { blockBytes: MIB, cacheBytes: MIB });
  buffers.connections = 40;
  assert.deepEqual(buffers.limits, { blockBytes: 40 * 64 * KIB, cacheBytes: 40 * 32 * KIB });
  buffers.connections = 1000;
  assert.deepEqual(buffers.limits, { blockBytes: 8 * MIB, cacheBytes: 4 * MIB });
  buffers.connections = 2;
  assert.deepEqual(buffers.limits, { blockBytes: MIB, cacheBytes: MIB });
  // A smaller maximum caps the scaled bound.
  const small = new UploadBuffers({ maxBlockBytes: 256 * KIB, maxCacheBytes: 512 * KIB });
  small.connections = 100;
  assert.deepEqual(small.limits, { blockBytes: 256 * KIB, cacheBytes: 512 * KIB });
});

Deno.test("UploadBuffers: past a lowered bound, reads wait until blocks are released", async () => {
  const { torrent, data } = await singleFile("uploads.bin", 4 * MIB, 256 * KIB);
  const store = await PieceStore.open(torrent, await seededMemory(torrent, data));
  const buffers = new UploadBuffers({ maxBlockBytes: 8 * MIB });
  buffers.connections = 64; // 4 MiB of blocks
  const block = (i: number) => ({ index: i >> 4, begin: (i & 15) * 16 * KIB, length: 16 * KIB });
  const held = [];
  for (let i = 0; i < 128; i++) held.push(await buffers.read(store, block(i))); // 2 MiB
  buffers.connections = 1; // back to 1 MiB: nothing revoked, the next read waits
  let late = false;
  const next = buffers.read(store, block(128)).then((lease) => (late = true, lease));
  await new Promise((resolve) => setTimeout(resolve, 0)); // pending callbacks run
  assert.equal(late, false);
  for (const lease of held.splice(0, 80)) lease.release(); // 48 blocks = 768 KiB left
  const lease = await next;
  assert.deepEqual(lease.bytes, data.subarray(128 * 16 * KIB, 129 * 16 * KIB));
  lease.release();
  for (const rest of held) rest.release();
});
