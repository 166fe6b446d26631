import assert from "node:assert/strict";
import {
  HasherError,
  type IncrementalSha1,
  NodeCryptoHasher,
  type Sha1Hasher,
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

Deno.test("every built-in incremental SHA-1 matches sha1 and keeps no reference to its input", async () => {
  const pool = new WorkerPoolHasher(1);
  try {
    const data = patternBytes(100_000, 8);
    const expected = await new NodeCryptoHasher().sha1(data);
    for (const hasher of [new NodeCryptoHasher(), new SubtleCryptoHasher(), pool]) {
      const hash = hasher.incremental();
      // One reused buffer, overwritten after each update, as a socket reader would.
      const reused = new Uint8Array(16384);
      for (let offset = 0; offset < data.length; offset += reused.length) {
        const part = data.subarray(offset, offset + reused.length);
        reused.set(part);
        hash.update(reused.subarray(0, part.length));
        reused.fill(0xaa);
      }
      const digest = hash.digest();
      assert.equal(digest.length, 20);
      assert.equal(toHex(digest), toHex(expected), hasher.constructor.name);
      assert.equal(
        toHex(hasher.incremental().digest()),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "SHA-1 of nothing",
      );
    }
  } finally {
    pool.close();
  }
  assert.throws(() => pool.incremental(), HasherError);
});

/** A node:crypto hasher that counts which of its paths the piece layer uses. */
class CountingHasher implements Sha1Hasher {
  readonly parallelism = 1;
  readonly #inner = new NodeCryptoHasher();
  sha1Calls = 0;
  started = 0;
  updates = 0;
  digests = 0;
  sha1(data: Uint8Array): Promise<Uint8Array> {
    this.sha1Calls++;
    return this.#inner.sha1(data);
  }
  incremental(): IncrementalSha1 {
    this.started++;
    const hash = this.#inner.incremental();
    return {
      update: (data) => {
        this.updates++;
        hash.update(data);
      },
      digest: () => {
        this.digests++;
        return hash.digest();
      },
    };
  }
  close(): void {}
}

Deno.test("the piece layer's running hash goes through the hasher's incremental()", async () => {
  // 4 pieces of 2 blocks, the last piece shorter (1 block).
  const fixture = makeTorrent([{ path: ["x"], content: patternBytes(3 * 32768 + 1000, 6) }], 32768);
  const hasher = new CountingHasher();
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), {
    hasher,
    blockSize: 16384,
    restore: "none",
  });
  try {
    // Pieces 0, 1 and 3 in order: the running hash alone verifies them.
    for (const piece of [0, 1, 3]) {
      const bytes = pieceBytes(fixture, piece);
      for (const { offset, length } of store.missingBlocks(piece)) {
        await store.writeBlock(piece, offset, bytes.subarray(offset, offset + length));
      }
    }
    assert.deepEqual(
      [hasher.started, hasher.updates, hasher.digests, hasher.sha1Calls],
      [3, 5, 3, 0],
      "in-order blocks: no read-back, no whole-piece sha1",
    );
    // Piece 2 out of order: block 1 waits in storage; block 0 starts the running hash,
    // which then finishes over block 1 read back.
    const bytes = pieceBytes(fixture, 2);
    assert.equal((await store.writeBlock(2, 16384, bytes.subarray(16384))).status, "stored");
    assert.equal((await store.writeBlock(2, 0, bytes.subarray(0, 16384))).status, "verified");
    assert.deepEqual(
      [hasher.started, hasher.updates, hasher.digests, hasher.sha1Calls],
      [4, 7, 4, 0],
    );
    assert.ok(store.complete);
    // A recheck hashes whole pieces read back: sha1, not the running hash.
    assert.equal((await store.recheck()).count(), 4);
    assert.deepEqual([hasher.started, hasher.sha1Calls], [4, 4]);
  } finally {
    await store.close();
  }
});

Deno.test("a hasher without incremental() still verifies in-order pieces (node:crypto fallback)", async () => {
  const fixture = makeTorrent([{ path: ["x"], content: patternBytes(100_000, 7) }], 32768);
  let sha1Calls = 0;
  const inner = new NodeCryptoHasher();
  const legacy: Sha1Hasher = {
    parallelism: 1,
    sha1: (data) => {
      sha1Calls++;
      return inner.sha1(data);
    },
    close() {},
  };
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), {
    hasher: legacy,
    restore: "none",
  });
  try {
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const bytes = pieceBytes(fixture, piece);
      for (const { offset, length } of store.missingBlocks(piece)) {
        const result = await store.writeBlock(
          piece,
          offset,
          bytes.subarray(offset, offset + length),
        );
        assert.notEqual(result.status, "failed");
      }
    }
    assert.ok(store.complete);
    assert.equal(sha1Calls, 0, "in-order pieces were hashed as they arrived");
  } finally {
    await store.close();
  }
});
