/**
 * Repairing a failed v2 piece: `badBlocks` compares leaves as received with proven ones, and
 * `PieceStore.keepGoodBlocks` keeps the good blocks of a failed piece so that only the bad
 * ones are fetched again (v2 and hybrid, memory and filesystem storage).
 */
import assert from "node:assert/strict";
import { sha256 } from "../../src/metainfo/merkle.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import type { Storage } from "../../src/storage/types.ts";
import { badBlocks, hashLeaves, V2Pieces } from "../../src/storage/v2_pieces.ts";
import { concatBytes, toHex } from "../../src/util/bytes.ts";
import { withTempDir } from "./fixture.ts";
import { KiB, makeV2Torrent, PIECE, type V2Fixture, v2PieceBytes } from "./v2_fixture.ts";

const LEAF = 16 * KiB;

function leafOf(seed: number): Uint8Array {
  return sha256(new Uint8Array([seed]));
}

Deno.test("badBlocks: differing leaves, blocks spanning leaves, dirty padding, padding-only blocks", () => {
  const trusted = concatBytes([leafOf(0), leafOf(1), leafOf(2), leafOf(3)]);
  const received = trusted.slice();
  assert.deepEqual(badBlocks(received, trusted, 4, LEAF), [], "all equal");
  received.set(leafOf(9), 2 * 32);
  assert.deepEqual(badBlocks(received, trusted, 4, LEAF), [2], "16 KiB blocks: block i is leaf i");
  assert.deepEqual(
    badBlocks(received, trusted, 2, 2 * LEAF),
    [1],
    "32 KiB blocks: two leaves each",
  );
  received.set(leafOf(8), 0);
  assert.deepEqual(badBlocks(received, trusted, 4, LEAF), [0, 2]);
  assert.deepEqual(badBlocks(received, trusted, 4, LEAF, new Set([3])), [0, 2, 3], "dirty");
  // One data leaf, three blocks of padding only: bad only when their padding was not zero.
  const one = trusted.subarray(0, 32);
  assert.deepEqual(badBlocks(one.slice(), trusted, 4, LEAF), []);
  assert.deepEqual(badBlocks(one.slice(), trusted, 4, LEAF, new Set([2])), [2]);
});

/** The true leaf hashes of piece `piece`. */
function trueLeaves(fixture: V2Fixture, piece: number): Uint8Array {
  const shape = new V2Pieces(fixture.torrent).shape(piece);
  const leaves = new Uint8Array(shape.dataLeaves * 32);
  hashLeaves(v2PieceBytes(fixture, piece), 0, shape.dataLength, leaves);
  return leaves;
}

/** Writes every missing block of `piece` (changed by `change`); returns the completing result. */
async function writePiece(
  store: PieceStore,
  fixture: V2Fixture,
  piece: number,
  change?: (offset: number, data: Uint8Array) => void,
) {
  const results = await Promise.all(
    store.missingBlocks(piece).map(({ offset, length }) => {
      const data = v2PieceBytes(fixture, piece).slice(offset, offset + length);
      change?.(offset, data);
      return store.writeBlock(piece, offset, data);
    }),
  );
  return results.find((result) => result.status !== "stored") ?? results.at(-1)!;
}

function pieceOf(fixture: V2Fixture, name: string, nth = 0): number {
  return fixture.torrent.files.find((file) => file.path.at(-1) === name)!.offset / PIECE + nth;
}

const backEnds: [string, (dir: string) => Storage][] = [
  ["memory", () => new MemoryStorage()],
  ["filesystem", (dir) => new FileSystemStorage(dir)],
];

for (const format of ["v2", "hybrid"] as const) {
  for (const [backEnd, storageFor] of backEnds) {
    Deno.test(`keepGoodBlocks (${format}, ${backEnd}): only the corrupt blocks are fetched again`, async () => {
      await withTempDir(async (dir) => {
        const fixture = await makeV2Torrent(format);
        const store = await PieceStore.open(fixture.torrent, storageFor(dir), { restore: "none" });
        const piece = pieceOf(fixture, "d-several.bin", 1);
        const failed = await writePiece(store, fixture, piece, (offset, data) => {
          if (offset === LEAF || offset === 3 * LEAF) data[77] ^= 1;
        });
        assert.equal(failed.status, "failed");
        assert.equal(store.missingBlocks(piece).length, 4, "a failed piece is missing every block");
        assert.deepEqual(store.keepGoodBlocks(piece, trueLeaves(fixture, piece)), [1, 3]);
        assert.deepEqual(store.missingBlocks(piece).map((block) => block.offset), [LEAF, 3 * LEAF]);
        assert.equal(store.needs(piece), true);
        const done = await writePiece(store, fixture, piece);
        assert.equal(done.status, "verified", "the kept blocks and the new ones verify");
        const bytes = await store.readBlock(piece, 0, PIECE);
        assert.equal(toHex(sha256(bytes)), toHex(sha256(v2PieceBytes(fixture, piece))));
        await store.close();
      });
    });
  }

  Deno.test(`keepGoodBlocks (${format}): non-zero padding makes its block bad`, async () => {
    const fixture = await makeV2Torrent(format);
    const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
    // The last piece of d-several.bin: 5000 bytes of data, then padding.
    const piece = pieceOf(fixture, "d-several.bin", 3);
    const failed = await writePiece(store, fixture, piece, (offset, data) => {
      if (offset === 2 * LEAF) data[5] = 0xff;
    });
    assert.equal(failed.status, "failed");
    assert.deepEqual(store.keepGoodBlocks(piece, trueLeaves(fixture, piece)), [2]);
    assert.equal((await writePiece(store, fixture, piece)).status, "verified");
    await store.close();
  });
}

Deno.test("keepGoodBlocks refuses unproven leaves and keeps nothing for an unknown failure", async () => {
  const fixture = await makeV2Torrent("v2");
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
  const piece = pieceOf(fixture, "d-several.bin", 0);
  const corrupt = (offset: number, data: Uint8Array) => {
    if (offset === 0) data[0] ^= 1;
  };
  // Nothing failed yet.
  assert.equal(store.keepGoodBlocks(piece, trueLeaves(fixture, piece)), undefined);
  assert.equal((await writePiece(store, fixture, piece, corrupt)).status, "failed");
  // Leaves that do not hash to the piece's hash are a caller's mistake.
  const forged = trueLeaves(fixture, piece);
  forged[40] ^= 1;
  assert.throws(
    () => store.keepGoodBlocks(piece, forged),
    (error) => error instanceof StorageError && error.kind === "out-of-range",
  );
  // A block of the piece written since: the piece started over, nothing is kept.
  await store.writeBlock(piece, 0, v2PieceBytes(fixture, piece).slice(0, LEAF));
  assert.equal(store.keepGoodBlocks(piece, trueLeaves(fixture, piece)), undefined);
  assert.equal((await writePiece(store, fixture, piece)).status, "verified");
  // Used once: a second call keeps nothing.
  const next = pieceOf(fixture, "d-several.bin", 2);
  assert.equal((await writePiece(store, fixture, next, corrupt)).status, "failed");
  assert.deepEqual(store.keepGoodBlocks(next, trueLeaves(fixture, next)), [0]);
  assert.equal(store.keepGoodBlocks(next, trueLeaves(fixture, next)), undefined);
  await store.close();
});
