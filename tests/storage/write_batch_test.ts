/**
 * Write batching (`batchWrites`): a piece's in-order blocks reach storage as few large writes,
 * blocks settle once their batch is written, back-pressure can flush, and a failed batch write
 * leaves nothing verified.
 */
import assert from "node:assert/strict";
import type { Torrent } from "../../src/metainfo/torrent.ts";
import { pieceLengthAt } from "../../src/metainfo/torrent.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import type { Storage, TorrentStorage } from "../../src/storage/types.ts";
import { makeTorrent, patternBytes, pieceBytes, withTempDir } from "./fixture.ts";

const KiB = 1024;
const BLOCK = 16 * KiB;

/** Pieces in a Map; records each write's length; writes fail while `failing`. */
class RecordingStorage implements Storage {
  readonly pieces = new Map<number, Uint8Array>();
  readonly writes: { piece: number; offset: number; length: number }[] = [];
  failing = false;
  constructor(readonly batchBytes: number | undefined) {}
  open(torrent: Torrent): Promise<TorrentStorage> {
    return Promise.resolve({
      writeBatchBytes: this.batchBytes,
      read: (piece, offset, length) => {
        const bytes = this.pieces.get(piece);
        if (!bytes) {
          return Promise.reject(new StorageError("not-found", "read", `piece ${piece}`, "absent"));
        }
        return Promise.resolve(bytes.slice(offset, offset + length));
      },
      write: (piece, offset, data) => {
        if (this.failing) {
          return Promise.reject(new StorageError("io", "write", `piece ${piece}`, "disk full"));
        }
        this.writes.push({ piece, offset, length: data.length });
        let bytes = this.pieces.get(piece);
        if (!bytes) this.pieces.set(piece, bytes = new Uint8Array(pieceLengthAt(torrent, piece)));
        bytes.set(data, offset);
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

// Two 128 KiB pieces and a short last one (8 + 8 + 3 blocks).
const fixture = makeTorrent([{ path: ["a"], content: patternBytes(300 * KiB, 5) }], 128 * KiB);

/** Block `block` of `piece` in a buffer the test scribbles over right after handing it in. */
function writeAndScribble(store: PieceStore, piece: number, block: number) {
  const bytes = pieceBytes(fixture, piece).slice(block * BLOCK, (block + 1) * BLOCK);
  const result = store.writeBlock(piece, block * BLOCK, bytes);
  bytes.fill(0xee); // The store copied it: a reused socket buffer must not corrupt the piece.
  return result;
}

Deno.test("in-order blocks reach storage as batches of the back-end's size", async () => {
  const backend = new RecordingStorage(64 * KiB);
  const store = await PieceStore.open(fixture.torrent, backend, {
    restore: "none",
    batchWrites: true,
  });
  try {
    const results = [];
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const blocks = Math.ceil(pieceLengthAt(fixture.torrent, piece) / BLOCK);
      const pending = [];
      for (let block = 0; block < blocks; block++) {
        pending.push(writeAndScribble(store, piece, block));
      }
      results.push(...await Promise.all(pending));
    }
    assert.deepEqual(
      results.map((result) => result.status).filter((status) => status === "verified").length,
      3,
    );
    assert.deepEqual(backend.writes.map((write) => write.length), [
      64 * KiB,
      64 * KiB,
      64 * KiB,
      64 * KiB,
      44 * KiB, // the last piece's 44 KiB, written when its last block is in
    ]);
    assert.ok(store.complete);
    assert.deepEqual(backend.pieces.get(1), pieceBytes(fixture, 1));
  } finally {
    await store.close();
  }
});

Deno.test("out-of-order blocks: each window is still one write; the piece verifies", async () => {
  const backend = new RecordingStorage(64 * KiB);
  const store = await PieceStore.open(fixture.torrent, backend, {
    restore: "none",
    batchWrites: true,
  });
  try {
    // Windows of 4 blocks: 5 opens the second before the first is whole, 7 comes before 6.
    const order = [0, 1, 5, 2, 3, 4, 7, 6];
    const results = await Promise.all(order.map((block) => writeAndScribble(store, 0, block)));
    assert.equal(results.filter((result) => result.status === "verified").length, 1);
    assert.deepEqual(backend.pieces.get(0), pieceBytes(fixture, 0));
    assert.deepEqual(
      backend.writes.map(({ offset, length }) => [offset / BLOCK, length / BLOCK]),
      [[0, 4], [4, 4]],
    );
  } finally {
    await store.close();
  }
});

Deno.test("a third window writes the oldest as it is: one write per contiguous run", async () => {
  // One 256 KiB piece: four windows of 4 blocks with 64 KiB batches.
  const big = makeTorrent([{ path: ["b"], content: patternBytes(256 * KiB, 9) }], 256 * KiB);
  const backend = new RecordingStorage(64 * KiB);
  const store = await PieceStore.open(big.torrent, backend, { restore: "none", batchWrites: true });
  try {
    const write = (block: number) =>
      store.writeBlock(
        0,
        block * BLOCK,
        pieceBytes(big, 0).slice(block * BLOCK, (block + 1) * BLOCK),
      );
    const pending = [0, 2, 4].map(write);
    await Promise.resolve();
    assert.deepEqual(backend.writes, [], "two windows gather at once");
    pending.push(write(8)); // a third window: the first goes as it is, around its holes
    assert.deepEqual(
      backend.writes.map(({ offset, length }) => [offset / BLOCK, length / BLOCK]),
      [[0, 1], [2, 1]],
    );
    store.flushBatches();
    for (const result of await Promise.all(pending)) assert.equal(result.status, "stored");
    assert.deepEqual(
      backend.writes.map(({ offset, length }) => [offset / BLOCK, length / BLOCK]),
      [[0, 1], [2, 1], [4, 1], [8, 1]],
    );
    assert.deepEqual(
      backend.pieces.get(0)?.subarray(2 * BLOCK, 3 * BLOCK),
      pieceBytes(big, 0).subarray(2 * BLOCK, 3 * BLOCK),
    );
    assert.deepEqual(
      store.missingBlocks(0).map((block) => block.offset / BLOCK),
      [1, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15],
    );
  } finally {
    await store.close();
  }
});

Deno.test("a partial batch is written by flushBatches, or by two idle flushes", async () => {
  const backend = new RecordingStorage(128 * KiB);
  const store = await PieceStore.open(fixture.torrent, backend, {
    restore: "none",
    batchWrites: true,
  });
  try {
    let settled = 0;
    const first = writeAndScribble(store, 0, 0).then((result) => (settled++, result));
    await Promise.resolve();
    assert.equal(backend.writes.length, 0, "gathered, not yet written");
    store.flushIdleBatches(); // it grew since: not idle yet
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(settled, 0);
    store.flushIdleBatches(); // untouched since the last call: written
    assert.deepEqual(await first, { piece: 0, status: "stored" });
    const second = writeAndScribble(store, 0, 1);
    store.flushBatches();
    assert.deepEqual(await second, { piece: 0, status: "stored" });
    assert.deepEqual(backend.writes.map((write) => write.length), [BLOCK, BLOCK]);
    assert.deepEqual(store.missingBlocks(0).map((block) => block.offset / BLOCK), [
      2,
      3,
      4,
      5,
      6,
      7,
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("a failed batch write rejects each of its blocks, and they are missing again", async () => {
  const backend = new RecordingStorage(64 * KiB);
  const store = await PieceStore.open(fixture.torrent, backend, {
    restore: "none",
    batchWrites: true,
  });
  try {
    backend.failing = true;
    const results = await Promise.allSettled(
      [0, 1, 2, 3].map((block) => writeAndScribble(store, 0, block)),
    );
    assert.deepEqual(results.map((result) => result.status), Array(4).fill("rejected"));
    for (const result of results) {
      assert.ok(result.status === "rejected" && result.reason instanceof StorageError);
    }
    assert.equal(store.missingBlocks(0).length, 8, "nothing counts as stored");
    backend.failing = false;
    // A second try of the whole piece (the hash was dropped: it is read back) verifies.
    const again = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((block) => writeAndScribble(store, 0, block)),
    );
    assert.equal(again.filter((result) => result.status === "verified").length, 1);
    assert.ok(store.verified.get(0));
  } finally {
    await store.close();
  }
});

Deno.test("the filesystem back-end batches: a download lands intact through 128 KiB writes", async () => {
  await withTempDir(async (dir) => {
    const storage = new FileSystemStorage(dir);
    const store = await PieceStore.open(fixture.torrent, storage, {
      restore: "none",
      batchWrites: true,
    });
    assert.equal(store.storage.writeBatchBytes, 128 * KiB);
    const pending = [];
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const blocks = Math.ceil(pieceLengthAt(fixture.torrent, piece) / BLOCK);
      for (let block = 0; block < blocks; block++) {
        pending.push(writeAndScribble(store, piece, block));
      }
    }
    const results = await Promise.all(pending);
    assert.equal(results.filter((result) => result.status === "verified").length, 3);
    await store.close();
    assert.deepEqual(await Deno.readFile(`${dir}/fixture`), fixture.data);
  });
});
