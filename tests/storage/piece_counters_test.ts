/**
 * PieceStore's running counters (complete, wantedPieces, missingWantedPieces, wantedBytes,
 * verifiedBytes, verifiedWantedBytes, needs) against a brute-force scan of the bitfields,
 * after random sequences of verifications, failed pieces, file selections, rechecks,
 * reopens and resume files.
 */
import assert from "node:assert/strict";
import { pieceLengthAt } from "../../src/metainfo/torrent.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { type BlockWriteResult, PieceStore } from "../../src/storage/piece_store.ts";
import { seededRandom } from "../session/helpers.ts";
import { type Fixture, makeTorrent, patternBytes, pieceBytes, withTempDir } from "./fixture.ts";

const KiB = 1024;

interface Figures {
  complete: boolean;
  wantedPieces: number;
  missingWantedPieces: number;
  wantedBytes: number;
  verifiedBytes: number;
  verifiedWantedBytes: number;
  needs: boolean[];
}

/** The figures by scanning every piece of both bitfields. */
function scan(store: PieceStore): Figures {
  const figures: Figures = {
    complete: true,
    wantedPieces: 0,
    missingWantedPieces: 0,
    wantedBytes: 0,
    verifiedBytes: 0,
    verifiedWantedBytes: 0,
    needs: [],
  };
  for (let piece = 0; piece < store.torrent.pieceCount; piece++) {
    const length = pieceLengthAt(store.torrent, piece);
    const wanted = store.wanted.get(piece);
    const verified = store.verified.get(piece);
    if (wanted) {
      figures.wantedPieces++;
      figures.wantedBytes += length;
    }
    if (verified) figures.verifiedBytes += length;
    if (wanted && verified) figures.verifiedWantedBytes += length;
    if (wanted && !verified) {
      figures.missingWantedPieces++;
      figures.complete = false;
    }
    figures.needs.push(wanted && !verified);
  }
  return figures;
}

/** The figures as the store's O(1) getters report them. */
function reported(store: PieceStore): Figures {
  return {
    complete: store.complete,
    wantedPieces: store.wantedPieces,
    missingWantedPieces: store.missingWantedPieces,
    wantedBytes: store.wantedBytes,
    verifiedBytes: store.verifiedBytes,
    verifiedWantedBytes: store.verifiedWantedBytes,
    needs: Array.from({ length: store.torrent.pieceCount }, (_, piece) => store.needs(piece)),
  };
}

function assertCounters(store: PieceStore, after: string): void {
  assert.deepEqual(reported(store), scan(store), `counters disagree with a scan after ${after}`);
}

/** Writes every missing block of `piece` (shuffled), the first one corrupted when asked. */
async function writePiece(
  store: PieceStore,
  fixture: Fixture,
  piece: number,
  random: () => number,
  corrupt = false,
): Promise<BlockWriteResult[]> {
  const blocks = store.missingBlocks(piece);
  for (let i = blocks.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
  }
  const results = [];
  for (const [i, { offset, length }] of blocks.entries()) {
    const data = pieceBytes(fixture, piece).slice(offset, offset + length);
    if (corrupt && i === 0) data[0] ^= 0xff;
    results.push(await store.writeBlock(piece, offset, data));
  }
  return results;
}

/** A random subset of `count` file indices (possibly empty). */
function randomFiles(count: number, random: () => number): number[] {
  return Array.from({ length: count }, (_, index) => index).filter(() => random() < 0.5);
}

/**
 * Files of random lengths (some empty, some smaller than a piece), so pieces are shared
 * between files and the last piece is short. No padding files: their index meaning may
 * change, and the counters do not care.
 */
function randomFixture(random: () => number, seed: number): Fixture {
  const count = 1 + Math.floor(random() * 6);
  const files = Array.from({ length: count }, (_, i) => ({
    path: [`f${i}`],
    content: patternBytes(random() < 0.15 ? 0 : Math.floor(random() * 120 * KiB), seed * 10 + i),
  }));
  if (files.every((file) => file.content.length === 0)) files[0].content = patternBytes(5, seed);
  return makeTorrent(files, 32 * KiB);
}

Deno.test("counters match a scan after random verifications, failures, selections and rechecks", async () => {
  const seen = { complete: 0, incomplete: 0, failed: 0, recheckLost: 0, reopened: 0 };
  for (let seed = 1; seed <= 25; seed++) {
    const random = seededRandom(seed);
    const fixture = randomFixture(random, seed);
    const { pieceCount } = fixture.torrent;
    const fileCount = fixture.torrent.files.length;
    const memory = new MemoryStorage();
    let store = await PieceStore.open(fixture.torrent, memory, {
      blockSize: 16 * KiB,
      wantedFiles: randomFiles(fileCount, random),
    });
    try {
      assertCounters(store, `open (seed ${seed})`);
      for (let step = 0; step < 60; step++) {
        const roll = random();
        const piece = Math.floor(random() * pieceCount);
        let what: string;
        if (roll < 0.45) {
          what = `verifying piece ${piece}`;
          const results = await writePiece(store, fixture, piece, random);
          if (results.length) assert.equal(results[results.length - 1].status, "verified", what);
        } else if (roll < 0.55) {
          what = `a corrupt copy of piece ${piece}`;
          const results = await writePiece(store, fixture, piece, random, true);
          if (results.length) {
            assert.equal(results[results.length - 1].status, "failed", what);
            seen.failed++;
          }
        } else if (roll < 0.75) {
          const files = randomFiles(fileCount, random);
          what = `selecting files [${files}]`;
          store.setWantedFiles(files);
        } else if (roll < 0.9) {
          // Damage a verified piece behind the store's back so the recheck loses it.
          const damaged = store.verified.get(piece);
          if (damaged) {
            await store.storage.write(piece, 0, new Uint8Array([~pieceBytes(fixture, piece)[0]]));
          }
          what = `a recheck${damaged ? ` that loses piece ${piece}` : ""}`;
          const before = store.verified.count();
          await store.recheck();
          if (damaged) {
            assert.equal(store.verified.count(), before - 1, what);
            seen.recheckLost++;
          }
        } else {
          const files = randomFiles(fileCount, random);
          what = `reopening (a recheck at open) with files [${files}]`;
          await store.close();
          store = await PieceStore.open(fixture.torrent, memory, {
            blockSize: 16 * KiB,
            wantedFiles: files,
          });
          assert.equal(store.restoredFrom, "recheck");
          seen.reopened++;
        }
        assertCounters(store, `${what} (seed ${seed}, step ${step})`);
        if (store.complete) seen.complete++;
        else seen.incomplete++;
      }
    } finally {
      await store.close();
    }
  }
  // The sequences did reach the states the counters must follow.
  for (const [name, times] of Object.entries(seen)) assert.ok(times > 0, `never saw ${name}`);
});

Deno.test("counters follow a resume file, a forced recheck and restore none", async () => {
  const fixture = makeTorrent(
    [
      { path: ["a"], content: patternBytes(50_000, 1) },
      { path: ["b"], content: patternBytes(30_000, 2) },
      { path: ["c"], content: patternBytes(70_000, 3) },
    ],
    32 * KiB,
  );
  await withTempDir(async (dir) => {
    const resumePath = `${dir}/resume`;
    const random = seededRandom(7);
    const first = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      resumePath,
      restore: "none",
    });
    try {
      for (const piece of [0, 2, 4]) await writePiece(first, fixture, piece, random);
      assertCounters(first, "verifying pieces 0, 2 and 4");
      assert.equal(first.verifiedBytes, 2 * 32 * KiB + (150_000 - 4 * 32 * KiB));
    } finally {
      await first.close();
    }
    // File b spans pieces 1..2: only piece 2 of those is verified.
    const resumed = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      resumePath,
      wantedFiles: [1],
    });
    try {
      assert.equal(resumed.restoredFrom, "resume-file");
      assertCounters(resumed, "restoring from the resume file");
      assert.deepEqual(
        [resumed.wantedPieces, resumed.missingWantedPieces, resumed.verifiedWantedBytes],
        [2, 1, 32 * KiB],
      );
      assert.equal(resumed.needs(1), true);
      assert.equal(resumed.needs(2), false);
      assert.equal(resumed.needs(4), false, "verified but not wanted");
      assert.equal(resumed.needs(3), false, "neither wanted nor verified");
      await writePiece(resumed, fixture, 1, random);
      assert.ok(resumed.complete);
      assertCounters(resumed, "completing file b");
    } finally {
      await resumed.close();
    }
    const rechecked = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      resumePath,
      restore: "recheck",
    });
    try {
      assert.equal(rechecked.restoredFrom, "recheck");
      assertCounters(rechecked, "a forced recheck at open");
      assert.equal(rechecked.missingWantedPieces, 1, "only piece 3 was never written");
    } finally {
      await rechecked.close();
    }
    const fresh = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      restore: "none",
    });
    try {
      assertCounters(fresh, "restore none");
      assert.deepEqual([fresh.verifiedBytes, fresh.wantedBytes], [0, 150_000]);
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("needs refuses a piece outside the torrent", async () => {
  const fixture = makeTorrent([{ path: ["x"], content: patternBytes(40_000, 9) }], 32 * KiB);
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
  try {
    assert.equal(store.needs(1), true);
    for (const piece of [-1, 2, 0.5, Number.NaN]) {
      assert.throws(
        () => store.needs(piece),
        (error: unknown) => error instanceof StorageError && error.kind === "out-of-range",
        String(piece),
      );
    }
  } finally {
    await store.close();
  }
});
