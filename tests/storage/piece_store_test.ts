import assert from "node:assert/strict";
import type { Torrent } from "../../src/metainfo/torrent.ts";
import { pieceLengthAt } from "../../src/metainfo/torrent.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import type { Storage, TorrentStorage } from "../../src/storage/types.ts";
import { type Fixture, makeTorrent, patternBytes, pieceBytes, withTempDir } from "./fixture.ts";

const KiB = 1024;

/** A user back-end: whole pieces in a Map, counting writes. */
class CountingMapStorage implements Storage {
  readonly pieces = new Map<number, Uint8Array>();
  writes = 0;
  reads = 0;
  open(torrent: Torrent): Promise<TorrentStorage> {
    return Promise.resolve({
      read: (piece, offset, length) => {
        this.reads++;
        const bytes = this.pieces.get(piece);
        if (!bytes) {
          return Promise.reject(new StorageError("not-found", "read", `piece ${piece}`, "absent"));
        }
        return Promise.resolve(bytes.slice(offset, offset + length));
      },
      write: (piece, offset, data) => {
        this.writes++;
        let bytes = this.pieces.get(piece);
        if (!bytes) {
          bytes = new Uint8Array(pieceLengthAt(torrent, piece));
          this.pieces.set(piece, bytes);
        }
        bytes.set(data, offset);
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

/** Feeds every missing block of every wanted piece, in a shuffled order, a few at a time. */
async function feed(store: PieceStore, fixture: Fixture, corrupt?: (piece: number) => boolean) {
  const blocks: { piece: number; offset: number; length: number }[] = [];
  for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
    if (!store.wanted.get(piece)) continue;
    for (const block of store.missingBlocks(piece)) blocks.push({ piece, ...block });
  }
  const random = patternBytes(blocks.length * 4, 99);
  for (let i = blocks.length - 1; i > 0; i--) {
    const j = (random[i * 4] | (random[i * 4 + 1] << 8) | (random[i * 4 + 2] << 16)) % (i + 1);
    [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
  }
  const results = [];
  for (let i = 0; i < blocks.length; i += 8) {
    results.push(
      ...await Promise.all(
        blocks.slice(i, i + 8).map(({ piece, offset, length }) => {
          const data = pieceBytes(fixture, piece).slice(offset, offset + length);
          if (corrupt?.(piece) && offset === 0) data[0] ^= 0xff;
          return store.writeBlock(piece, offset, data);
        }),
      ),
    );
  }
  return results;
}

const fixture = makeTorrent(
  [
    { path: ["a"], content: patternBytes(50_000, 1) },
    { path: ["b"], content: patternBytes(30_000, 2) },
    { path: ["c"], content: patternBytes(70_000, 3) },
  ],
  32 * KiB,
);

Deno.test("a custom Map back-end downloads through the piece layer", async () => {
  const backend = new CountingMapStorage();
  const store = await PieceStore.open(fixture.torrent, backend);
  try {
    assert.equal(store.restoredFrom, "recheck");
    const results = await feed(store, fixture);
    assert.equal(results.filter((r) => r.status === "verified").length, fixture.torrent.pieceCount);
    assert.ok(store.complete);
    assert.equal(backend.writes, results.length, "one back-end write per block");
    const last = fixture.torrent.pieceCount - 1;
    assert.deepEqual(
      await store.readBlock(last, 0, 100),
      pieceBytes(fixture, last).subarray(0, 100),
    );
  } finally {
    await store.close();
  }
});

Deno.test("blocks that arrive before their piece's earlier ones are hashed without reading back", async () => {
  const backend = new CountingMapStorage();
  const store = await PieceStore.open(fixture.torrent, backend, { restore: "none" });
  try {
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const bytes = pieceBytes(fixture, piece);
      const blocks = store.missingBlocks(piece).reverse();
      const results = [];
      for (const { offset, length } of blocks) {
        const data = bytes.slice(offset, offset + length);
        // A corrupt later block of piece 1 must still fail it.
        if (piece === 1 && offset > 0) data[7] ^= 1;
        results.push(await store.writeBlock(piece, offset, data));
      }
      assert.equal(results.at(-1)!.status, piece === 1 ? "failed" : "verified", `piece ${piece}`);
    }
    assert.equal(backend.reads, 0, "no piece was read back");
  } finally {
    await store.close();
  }
});

Deno.test("more blocks ahead of the hash than the memory budget are read back, and verify", async () => {
  // One 4 MiB piece: its blocks after the first (4 MiB) are more than the 2 MiB kept ahead.
  const big = makeTorrent(
    [{ path: ["big"], content: patternBytes(4 * 1024 * KiB, 5) }],
    4096 * KiB,
  );
  const backend = new CountingMapStorage();
  const store = await PieceStore.open(big.torrent, backend, { restore: "none" });
  try {
    const bytes = pieceBytes(big, 0);
    const [first, ...rest] = store.missingBlocks(0);
    for (const { offset, length } of rest) {
      assert.equal(
        (await store.writeBlock(0, offset, bytes.slice(offset, offset + length))).status,
        "stored",
      );
    }
    const result = await store.writeBlock(0, first.offset, bytes.slice(0, first.length));
    assert.equal(result.status, "verified");
    assert.ok(backend.reads > 0, "the blocks not kept were read back");
  } finally {
    await store.close();
  }
});

Deno.test("a corrupt piece fails, its blocks are forgotten, and a good copy then verifies", async () => {
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
  try {
    const results = await feed(store, fixture, (piece) => piece === 2);
    const failed = results.filter((r) => r.status === "failed");
    assert.deepEqual(failed, [{ piece: 2, status: "failed" }]);
    assert.equal(store.verified.get(2), false);
    assert.equal(store.missingBlocks(2).length, store.blockCount(2));
    assert.equal(store.complete, false);
    await feed(store, fixture);
    assert.ok(store.complete);
  } finally {
    await store.close();
  }
});

Deno.test("duplicate and misaligned blocks", async () => {
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
  try {
    const block = pieceBytes(fixture, 0).subarray(0, 16 * KiB);
    const [first, second] = await Promise.all([
      store.writeBlock(0, 0, block),
      store.writeBlock(0, 0, block),
    ]);
    assert.equal(first.status, "stored");
    assert.equal(second.status, "duplicate");
    assert.deepEqual(store.missingBlocks(0), [{ offset: 16 * KiB, length: 16 * KiB }]);
    await assert.rejects(
      store.writeBlock(0, 100, block),
      (error: unknown) => error instanceof StorageError && error.kind === "out-of-range",
    );
    await assert.rejects(
      store.writeBlock(99, 0, block),
      (error: unknown) => error instanceof StorageError && error.kind === "out-of-range",
    );
    await assert.rejects(
      store.readBlock(0, 0, 10),
      (error: unknown) => error instanceof StorageError && error.kind === "not-found",
    );
    const second2 = pieceBytes(fixture, 0).subarray(16 * KiB, 32 * KiB);
    assert.equal((await store.writeBlock(0, 16 * KiB, second2)).status, "verified");
    assert.equal((await store.writeBlock(0, 16 * KiB, second2)).status, "duplicate");
  } finally {
    await store.close();
  }
});

Deno.test("file selection: boundary pieces are wanted, pieces of skipped files are not", async () => {
  // Files: a = [0, 50000), b = [50000, 80000), c = [80000, 150000); pieces of 32768.
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), {
    restore: "none",
    wantedFiles: [1],
  });
  try {
    assert.deepEqual([...store.wanted.indices()], [1, 2]); // b spans pieces 1..2
    store.setWantedFiles([0]);
    assert.deepEqual([...store.wanted.indices()], [0, 1]);
    store.setWantedFiles([2]);
    assert.deepEqual([...store.wanted.indices()], [2, 3, 4]);
    assert.throws(() => store.setWantedFiles([3]), StorageError);
    await feed(store, fixture);
    assert.ok(store.complete);
    assert.deepEqual([...store.verified.indices()], [2, 3, 4]);
  } finally {
    await store.close();
  }
});

Deno.test("file selection on disk: a skipped file is only created by a boundary piece", async () => {
  const files = [
    { path: ["skip-me"], content: patternBytes(40 * KiB, 4) },
    { path: ["want"], content: patternBytes(20 * KiB, 5) },
    { path: ["skip-far"], content: patternBytes(64 * KiB, 6) },
    { path: ["skip-empty"], content: new Uint8Array(0) },
  ];
  const local = makeTorrent(files, 16 * KiB);
  await withTempDir(async (dir) => {
    const store = await PieceStore.open(local.torrent, new FileSystemStorage(dir), {
      restore: "none",
      wantedFiles: [1],
    });
    try {
      await feed(store, local);
      assert.ok(store.complete);
    } finally {
      await store.close();
    }
    assert.deepEqual(await Deno.readFile(`${dir}/fixture/want`), files[1].content);
    // Pieces 2..3 hold the tail of skip-me (boundary) and the head of skip-far (boundary).
    assert.ok((await Deno.stat(`${dir}/fixture/skip-me`)).isFile);
    await assert.rejects(Deno.stat(`${dir}/fixture/skip-empty`), Deno.errors.NotFound);
  });
});

Deno.test("recheck finds good pieces among missing, short and corrupt data", async () => {
  await withTempDir(async (dir) => {
    const first = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      restore: "none",
    });
    try {
      await feed(first, fixture);
      assert.ok(first.complete);
    } finally {
      await first.close();
    }
    // Corrupt one byte of piece 1 (inside file a), truncate c (pieces 3.. lose data).
    const a = await Deno.open(`${dir}/fixture/a`, { read: true, write: true });
    await a.seek(40_000, Deno.SeekMode.Start);
    await a.write(new Uint8Array([0x55 ^ fixture.data[40_000]]));
    a.close();
    await Deno.truncate(`${dir}/fixture/c`, 40_000);
    const progress: number[] = [];
    const second = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      onRecheckProgress: ({ checked }) => progress.push(checked),
    });
    try {
      assert.equal(second.restoredFrom, "recheck");
      assert.deepEqual([...second.verified.indices()], [0, 2]); // c now ends inside piece 3
      assert.equal(progress.length, fixture.torrent.pieceCount);
      assert.equal(Math.max(...progress), fixture.torrent.pieceCount);
      await feed(second, fixture);
      assert.ok(second.complete);
    } finally {
      await second.close();
    }
    assert.deepEqual(await Deno.readFile(`${dir}/fixture/c`), fixture.data.subarray(80_000));
  });
});

Deno.test("memory back-end: shared across opens, limited, closed", async () => {
  const memory = new MemoryStorage({ maxBytes: 64 * KiB });
  const store = await PieceStore.open(fixture.torrent, memory, { restore: "none" });
  let failure: unknown;
  try {
    await feed(store, fixture);
  } catch (error) {
    failure = error;
  } finally {
    await store.close();
  }
  assert.ok(failure instanceof StorageError && failure.kind === "no-space", String(failure));
  assert.ok(memory.usedBytes <= 64 * KiB);
  const again = await PieceStore.open(fixture.torrent, memory);
  try {
    assert.ok(again.verified.count() >= 1, "pieces verified before the limit survive a reopen");
  } finally {
    await again.close();
  }
  const raw = await memory.open(fixture.torrent);
  await raw.close();
  await assert.rejects(
    raw.read(0, 0, 1),
    (error: unknown) => error instanceof StorageError && error.kind === "closed",
  );
  memory.delete(fixture.torrent);
  assert.equal(memory.usedBytes, 0);
});
