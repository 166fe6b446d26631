/** Unit tests of ReadCache over a real PieceStore on MemoryStorage (reads are observed, not faked). */
import assert from "node:assert/strict";
import { ReadCache, WINDOW } from "../../src/session/read_cache.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { seededMemory, singleFile } from "./helpers.ts";

const KIB = 1024;
const W = WINDOW; // the cache's window
const PIECE = 4 * W;
const BLOCK = 16 * KIB;
// Two pieces: four windows, and a window and a half.
const { torrent, data } = await singleFile("read-cache.bin", PIECE + W + W / 2, PIECE);

/** A store holding the whole torrent, and the reads it was asked for. */
async function observedStore(): Promise<{ store: PieceStore; reads: number[][] }> {
  const store = await PieceStore.open(torrent, await seededMemory(torrent, data));
  assert.equal(store.verified.count(), 2);
  const reads: number[][] = [];
  const readBlockInto = store.readBlockInto.bind(store);
  store.readBlockInto = (piece, offset, target) => {
    reads.push([piece, offset, target.length]);
    return readBlockInto(piece, offset, target);
  };
  return { store, reads };
}

function expected(index: number, begin: number, length: number): Uint8Array {
  const start = index * PIECE + begin;
  return data.slice(start, start + length);
}

Deno.test("ReadCache: returns the block's bytes, as a copy a caller may change", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  const first = await cache.read(store, 0, BLOCK, BLOCK);
  assert.deepEqual(first, expected(0, BLOCK, BLOCK));
  assert.equal(first.length, BLOCK);
  assert.equal(first.byteLength, first.buffer.byteLength); // not a view into the window
  first.fill(0xee);
  const again = await cache.read(store, 0, BLOCK, BLOCK);
  assert.deepEqual(again, expected(0, BLOCK, BLOCK));
  assert.notEqual(again.buffer, first.buffer);
  // One window read served both.
  assert.deepEqual(reads, [[0, 0, W]]);
  await store.close();
});

Deno.test("ReadCache: neighbouring blocks come from the window; concurrent reads share it", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  const blocks = await Promise.all([0, 1, 2, 3].map((i) => cache.read(store, 0, i * BLOCK, BLOCK)));
  blocks.forEach((block, i) => assert.deepEqual(block, expected(0, i * BLOCK, BLOCK)));
  assert.deepEqual(reads, [[0, 0, W]]);
  await store.close();
});

Deno.test("ReadCache: a block across a window boundary is read directly, not cached", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  const begin = W - BLOCK / 2;
  assert.deepEqual(await cache.read(store, 0, begin, BLOCK), expected(0, begin, BLOCK));
  assert.deepEqual(await cache.read(store, 0, begin, BLOCK), expected(0, begin, BLOCK));
  assert.deepEqual(reads, [[0, begin, BLOCK], [0, begin, BLOCK]]);
  await store.close();
});

Deno.test("ReadCache: a block in a window's first half prefetches nothing", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  await cache.read(store, 0, W / 2 - BLOCK, BLOCK);
  assert.deepEqual(reads, [[0, 0, W]]);
  await store.close();
});

Deno.test("ReadCache: a block in a window's second half prefetches the next window only", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  await cache.read(store, 0, W / 2, BLOCK);
  assert.deepEqual(reads, [[0, 0, W], [0, W, W]]);
  // The prefetched window serves the next blocks.
  assert.deepEqual(await cache.read(store, 0, W, BLOCK), expected(0, W, BLOCK));
  assert.deepEqual(await cache.read(store, 0, W + BLOCK, BLOCK), expected(0, W + BLOCK, BLOCK));
  assert.equal(reads.length, 2);
  // Reading on into its second half prefetches the one after.
  await cache.read(store, 0, W + W / 2, BLOCK);
  assert.deepEqual(reads, [[0, 0, W], [0, W, W], [0, 2 * W, W]]);
  // Again in the same half: already cached, not read twice.
  await cache.read(store, 0, W + W / 2 + BLOCK, BLOCK);
  assert.equal(reads.length, 3);
  await store.close();
});

Deno.test("ReadCache: no prefetch past the end of the piece", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  await cache.read(store, 0, 3 * W + W / 2, BLOCK);
  assert.deepEqual(reads, [[0, 3 * W, W]]);
  await store.close();
});

Deno.test("ReadCache: the last piece's short window, and its last block", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  // Second half of the first window: the prefetched next window is half a window long.
  await cache.read(store, 1, W / 2, BLOCK);
  assert.deepEqual(reads, [[1, 0, W], [1, W, W / 2]]);
  const lastBegin = W + W / 2 - BLOCK;
  assert.deepEqual(await cache.read(store, 1, lastBegin, BLOCK), expected(1, lastBegin, BLOCK));
  assert.equal(reads.length, 2);
  await store.close();
});

Deno.test("ReadCache: holds at most maxBytes, evicting the least recently used window", async () => {
  const { store, reads } = await observedStore();
  // Every window idle at once: eviction is purely least recently used.
  const cache = new ReadCache({ maxBytes: 2 * W, idleMs: 0 });
  const at = (window: number) => cache.read(store, 0, window * W, BLOCK);
  await at(0);
  await at(1);
  await at(2); // evicts window 0
  assert.equal(reads.length, 3);
  await at(1); // cached; now the most recent
  assert.equal(reads.length, 3);
  await at(0); // read again; evicts window 2, the least recently used
  assert.equal(reads.length, 4);
  await at(1);
  assert.equal(reads.length, 4);
  await at(2);
  assert.deepEqual(reads.map(([, offset]) => offset / W), [0, 1, 2, 0, 2]);
  await store.close();
});

Deno.test("ReadCache: a window still in use is kept; a block whose window does not fit is read alone", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache({ maxBytes: 2 * W, idleMs: 60_000 });
  const at = (window: number, block = 0) => cache.read(store, 0, window * W + block * BLOCK, BLOCK);
  await at(0);
  await at(1);
  // Two peers are partway through windows 0 and 1; a third asks for window 2: evicting
  // either would read it again for its peer's next block, so the block is read alone.
  assert.deepEqual(await at(2), expected(0, 2 * W, BLOCK));
  assert.deepEqual(reads.map(([, offset, length]) => [offset, length]), [
    [0, W],
    [W, W],
    [2 * W, BLOCK],
  ]);
  await at(0, 1);
  await at(1, 1);
  assert.equal(reads.length, 3); // both windows still cached
  // A window's last block served makes room at once.
  await at(0, W / BLOCK - 1);
  await at(2, 1);
  assert.deepEqual(reads.at(-1), [0, 2 * W, W]);
  await store.close();
});

Deno.test("ReadCache: a window nobody asked for within idleMs makes room for a new one", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache({ maxBytes: W, idleMs: 20 });
  await cache.read(store, 0, 0, BLOCK);
  await cache.read(store, 0, W, BLOCK); // window 0 still in use: read alone
  assert.deepEqual(reads.at(-1), [0, W, BLOCK]);
  await new Promise((resolve) => setTimeout(resolve, 40));
  await cache.read(store, 0, W, BLOCK); // window 0 idle now: evicted for window 1
  assert.deepEqual(reads.at(-1), [0, W, W]);
  await cache.read(store, 0, W + BLOCK, BLOCK);
  assert.equal(reads.length, 3);
  await store.close();
});

Deno.test("ReadCache: clear forgets every window", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  await cache.read(store, 0, 0, BLOCK);
  cache.clear();
  await cache.read(store, 0, 0, BLOCK);
  assert.deepEqual(reads, [[0, 0, W], [0, 0, W]]);
  await store.close();
});

Deno.test("ReadCache: a failed read is not cached", async () => {
  const store = await PieceStore.open(torrent, new MemoryStorage(), { restore: "none" });
  const cache = new ReadCache();
  await assert.rejects(cache.read(store, 1, 0, BLOCK));
  // The piece verifies after all: the next read succeeds.
  for (let begin = 0; begin < W + W / 2; begin += BLOCK) {
    await store.writeBlock(1, begin, expected(1, begin, BLOCK));
  }
  assert.equal(store.verified.get(1), true);
  assert.deepEqual(await cache.read(store, 1, 0, BLOCK), expected(1, 0, BLOCK));
  await store.close();
});

Deno.test("ReadCache: a window evicted while a reader copies from it keeps its bytes; its buffer is reused after", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache({ maxBytes: W, idleMs: 0 }); // room for one window, always evictable
  // Both reads start before either settles: the second evicts the first's window.
  const first = cache.read(store, 0, 0, BLOCK);
  const second = cache.read(store, 0, W, BLOCK);
  assert.deepEqual(await first, expected(0, 0, BLOCK));
  assert.deepEqual(await second, expected(0, W, BLOCK));
  // Later windows land in recycled buffers and still read right, block by block.
  for (let window = 2; window < 4; window++) {
    for (let block = 0; block < W / BLOCK; block += 5) {
      const begin = window * W + block * BLOCK;
      assert.deepEqual(await cache.read(store, 0, begin, BLOCK), expected(0, begin, BLOCK));
    }
  }
  // Everything came through windows (one cache slot: prefetches evict, so some are read twice).
  assert.ok(reads.every(([, offset, length]) => offset % W === 0 && length === W));
  assert.deepEqual([...new Set(reads.map(([, offset]) => offset / W))], [0, 1, 2, 3]);
  await store.close();
});

Deno.test("ReadCache: torrents share it without mixing their windows; forget drops one torrent's", async () => {
  const a = await observedStore();
  const other = await singleFile("other.bin", PIECE + W + W / 2, PIECE);
  const b = await PieceStore.open(other.torrent, await seededMemory(other.torrent, other.data));
  const cache = new ReadCache();
  assert.deepEqual(await cache.read(a.store, 0, 0, BLOCK), expected(0, 0, BLOCK));
  assert.deepEqual(await cache.read(b, 0, 0, BLOCK), other.data.slice(0, BLOCK));
  assert.deepEqual(await cache.read(a.store, 0, BLOCK, BLOCK), expected(0, BLOCK, BLOCK));
  assert.equal(a.reads.length, 1); // window 0 of `a` was cached
  cache.forget(a.store);
  assert.deepEqual(await cache.read(a.store, 0, 2 * BLOCK, BLOCK), expected(0, 2 * BLOCK, BLOCK));
  assert.equal(a.reads.length, 2);
  await a.store.close();
  await b.close();
});

Deno.test("ReadCache: at most maxReads storage reads run at once, however many callers", async () => {
  const { store } = await observedStore();
  let running = 0;
  let most = 0;
  const readBlockInto = store.readBlockInto.bind(store);
  store.readBlockInto = async (piece, offset, target) => {
    most = Math.max(most, ++running);
    try {
      // Let the other callers pile up while this read is in flight.
      await new Promise((resolve) => setTimeout(resolve, 1));
      return await readBlockInto(piece, offset, target);
    } finally {
      running--;
    }
  };
  const cache = new ReadCache({ maxReads: 2 });
  const blocks = [0, 1, 2, 3].flatMap((window) =>
    [0, W / 2].map((at) => ({ index: 0, begin: window * W + at }))
  ).concat([{ index: 1, begin: 0 }, { index: 1, begin: W }]);
  const read = await Promise.all(
    blocks.map(({ index, begin }) => cache.read(store, index, begin, BLOCK)),
  );
  blocks.forEach(({ index, begin }, i) => assert.deepEqual(read[i], expected(index, begin, BLOCK)));
  assert.equal(most, 2);
  await store.close();
});

Deno.test("ReadCache: readNow copies a loaded window's block with no storage read, and only then", async () => {
  const { store, reads } = await observedStore();
  const cache = new ReadCache();
  const into = new Uint8Array(BLOCK);
  assert.equal(cache.readNow(store, 0, 0, BLOCK, into), false); // nothing read yet
  assert.equal(reads.length, 0);
  await cache.read(store, 0, 0, BLOCK);
  assert.equal(cache.readNow(store, 0, W, BLOCK, into), false); // the next window was not read
  assert.equal(cache.readNow(store, 0, BLOCK, BLOCK, into), true);
  assert.deepEqual(into, expected(0, BLOCK, BLOCK));
  assert.equal(reads.length, 1);
  // The window's last block: served, then the window is dropped.
  assert.equal(cache.readNow(store, 0, W - BLOCK, BLOCK, into), true);
  assert.deepEqual(into, expected(0, W - BLOCK, BLOCK));
  assert.equal(cache.readNow(store, 0, 0, BLOCK, into), false);
  // That block lay in the window's second half: the next window is being read ahead.
  assert.deepEqual(reads.map(([, offset]) => offset), [0, W]);
  await store.close();
});

Deno.test("ReadCache: a window evicted for a new one hands the new one its buffer", async () => {
  const { store } = await observedStore();
  const buffers: ArrayBufferLike[] = [];
  const readBlockInto = store.readBlockInto.bind(store);
  store.readBlockInto = (piece, offset, target) => {
    buffers.push(target.buffer);
    return readBlockInto(piece, offset, target);
  };
  const cache = new ReadCache({ maxBytes: W, idleMs: 0 }); // room for one window, always evictable
  // Window after window, each read and done with before the next starts.
  for (let window = 0; window < 4; window++) {
    const begin = window * W;
    assert.deepEqual(await cache.read(store, 0, begin, BLOCK), expected(0, begin, BLOCK));
  }
  assert.equal(buffers.length, 4);
  // One buffer served all four windows (before, each new window allocated its own while
  // the evicted one's buffer was dropped).
  assert.equal(new Set(buffers).size, 1);
  await store.close();
});
