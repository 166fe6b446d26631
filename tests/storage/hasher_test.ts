import assert from "node:assert/strict";
import {
  HasherError,
  NodeCryptoHasher,
  SubtleCryptoHasher,
  WorkerPoolHasher,
} from "../../src/storage/hasher.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { toHex } from "../../src/util/bytes.ts";
import { makeTorrent, patternBytes, pieceBytes } from "./fixture.ts";

const ABC_SHA1 = "a9993e364706816aba3e25717850c26c9cd0d89d";

Deno.test("all hashers agree on SHA-1, including views into larger buffers", async () => {
  const pool = new WorkerPoolHasher(2);
  try {
    const big = patternBytes(1 << 20, 3);
    const view = big.subarray(1000, 5000);
    for (const hasher of [new NodeCryptoHasher(), new SubtleCryptoHasher(), pool]) {
      assert.equal(toHex(await hasher.sha1(new TextEncoder().encode("abc"))), ABC_SHA1);
      const expected = toHex(await new NodeCryptoHasher().sha1(view));
      assert.equal(toHex(await hasher.sha1(view)), expected);
      assert.equal(view.length, 4000, "a view is copied, not transferred away");
    }
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.sha1(patternBytes(65536, i))),
    );
    for (const [i, digest] of many.entries()) {
      assert.deepEqual(digest, await new NodeCryptoHasher().sha1(patternBytes(65536, i)));
    }
  } finally {
    pool.close();
  }
  await assert.rejects(pool.sha1(new Uint8Array(1)), HasherError);
});

Deno.test("the piece layer verifies with a Worker pool hasher", async () => {
  const fixture = makeTorrent([{ path: ["x"], content: patternBytes(200_000, 5) }], 65536);
  const hasher = new WorkerPoolHasher(2);
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { hasher });
  try {
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const bytes = pieceBytes(fixture, piece);
      for (const { offset, length } of store.missingBlocks(piece)) {
        await store.writeBlock(piece, offset, bytes.subarray(offset, offset + length));
      }
    }
    assert.ok(store.complete);
    assert.equal((await store.recheck()).count(), fixture.torrent.pieceCount);
  } finally {
    await store.close();
    hasher.close();
  }
});
