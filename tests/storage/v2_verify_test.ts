/**
 * v2 (BEP 52) piece verification in the piece layer: leaf and piece-root arithmetic against
 * the independent helpers in merkle.ts and `createTorrent` output, then `PieceStore`
 * downloads, failures, hybrids whose hashes disagree, recheck and resume files.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { TorrentError } from "../../src/metainfo/errors.ts";
import { MerkleFileHasher, merkleRoot, sha256 } from "../../src/metainfo/merkle.ts";
import type { Torrent, TorrentFile } from "../../src/metainfo/torrent.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { MemoryStorage } from "../../src/storage/memory.ts";
import { type BlockWriteResult, PieceStore } from "../../src/storage/piece_store.ts";
import { loadResume, saveResume } from "../../src/storage/resume.ts";
import { hashLeaves, V2Pieces } from "../../src/storage/v2_pieces.ts";
import { Bitfield } from "../../src/util/bitfield.ts";
import { concatBytes, toHex } from "../../src/util/bytes.ts";
import { patternBytes, withTempDir } from "./fixture.ts";
import { KiB, makeV2Torrent, PIECE, type V2Fixture, v2PieceBytes } from "./v2_fixture.ts";

const LEAF = 16 * KiB;

function dataFiles(torrent: Torrent): [number, TorrentFile][] {
  return torrent.files.flatMap((file, index) =>
    file.padding || file.length === 0 ? [] : [[index, file] as [number, TorrentFile]]
  );
}

Deno.test("v2 leaves and piece roots match merkle.ts and createTorrent for odd file sizes", async () => {
  const fixture = await makeV2Torrent("v2");
  const { torrent } = fixture;
  const pieces = new V2Pieces(torrent);
  const shapes: Record<string, [number, number, number][]> = {};
  for (const [index, file] of dataFiles(torrent)) {
    const content = fixture.contents.get(file.path.join("/"))!;
    const independent = new MerkleFileHasher();
    independent.update(content);
    assert.equal(toHex(file.piecesRoot!), toHex(independent.root!), "createTorrent's root");
    const layer = independent.pieceLayer(PIECE);
    if (file.length > PIECE) assert.equal(toHex(file.pieceLayer!), toHex(concatBytes(layer)));
    const first = file.offset / PIECE;
    const last = Math.ceil((file.offset + file.length) / PIECE) - 1;
    shapes[file.path.at(-1)!] = [];
    for (let piece = first; piece <= last; piece++) {
      const shape = pieces.shape(piece);
      assert.equal(shape.file, index);
      shapes[file.path.at(-1)!].push([shape.dataLength, shape.dataLeaves, shape.treeLeaves]);
      const leaves = new Uint8Array(shape.dataLeaves * 32);
      // The whole piece, padding (zeros) included: only data bytes are hashed.
      assert.equal(hashLeaves(v2PieceBytes(fixture, piece), 0, shape.dataLength, leaves), true);
      // Each leaf is the SHA-256 of the file's bytes in it, the last one not padded.
      const start = (piece - first) * PIECE;
      for (let leaf = 0; leaf < shape.dataLeaves; leaf++) {
        const from = start + leaf * LEAF;
        const bytes = content.subarray(from, Math.min(from + LEAF, content.length));
        assert.equal(toHex(leaves.subarray(leaf * 32, leaf * 32 + 32)), toHex(sha256(bytes)));
      }
      const root = pieces.pieceRoot(piece, leaves)!;
      const expected = file.length > PIECE ? layer[piece - first] : independent.root!;
      assert.equal(toHex(root), toHex(expected), `piece ${piece} of ${file.path.join("/")}`);
      assert.equal(toHex(shape.expected!), toHex(expected));
      assert.equal(pieces.matches(piece, leaves), true);
    }
  }
  // [data bytes, data leaves, tree leaves] per piece: a file of one piece or less pads its
  // tree only to the next power of two of its leaves; a larger file's pieces are piece-wide.
  assert.deepEqual(shapes, {
    "a-tiny.txt": [[100, 1, 1]],
    "b-block-plus.bin": [[LEAF + 1, 2, 2]],
    "c-one-piece.bin": [[PIECE, 4, 4]],
    "d-several.bin": [[PIECE, 4, 4], [PIECE, 4, 4], [PIECE, 4, 4], [5000, 1, 4]],
  });
  // The alternatives are really different, so the checks above tell them apart.
  const two = [sha256(new Uint8Array([1])), sha256(new Uint8Array([2]))];
  assert.notEqual(toHex(merkleRoot(two, 2)), toHex(merkleRoot(two, 4)));
  const tail = fixture.contents.get("odd/d-several.bin")!.subarray(3 * PIECE);
  const padded = new Uint8Array(LEAF);
  padded.set(tail);
  assert.notEqual(toHex(sha256(tail)), toHex(sha256(padded)));
});

Deno.test("v2 padding: non-zero padding bytes fail the check, leaves in padding are not hashed", async () => {
  const fixture = await makeV2Torrent("v2");
  const pieces = new V2Pieces(fixture.torrent);
  const piece = fixture.torrent.files.find((file) => file.path.at(-1) === "a-tiny.txt")!.offset /
    PIECE;
  const bytes = v2PieceBytes(fixture, piece).slice();
  const leaves = new Uint8Array(32);
  assert.equal(hashLeaves(bytes, 0, 100, leaves), true);
  bytes[40000] = 1; // in a leaf wholly past the file
  assert.equal(hashLeaves(bytes, 0, 100, new Uint8Array(32)), false);
  bytes[40000] = 0;
  bytes[100] = 1; // in the file's last leaf, after its data
  const again = new Uint8Array(32);
  assert.equal(hashLeaves(bytes, 0, 100, again), false);
  assert.equal(toHex(again), toHex(leaves), "the leaf covers the file's bytes only");
  assert.equal(pieces.matches(piece, leaves), true);
});

/** Writes every missing block, shuffled, a few at a time; returns the completing results. */
async function feed(
  store: PieceStore,
  fixture: V2Fixture,
  change?: (piece: number, offset: number, data: Uint8Array) => void,
): Promise<BlockWriteResult[]> {
  const blocks: { piece: number; offset: number; length: number }[] = [];
  for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
    if (!store.needs(piece)) continue;
    for (const block of store.missingBlocks(piece)) blocks.push({ piece, ...block });
  }
  const random = patternBytes(blocks.length * 4, 7);
  for (let i = blocks.length - 1; i > 0; i--) {
    const j = (random[i * 4] | (random[i * 4 + 1] << 8)) % (i + 1);
    [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
  }
  const done: BlockWriteResult[] = [];
  for (let i = 0; i < blocks.length; i += 4) {
    const writes = blocks.slice(i, i + 4).map(({ piece, offset, length }) => {
      const data = v2PieceBytes(fixture, piece).slice(offset, offset + length);
      change?.(piece, offset, data);
      return store.writeBlock(piece, offset, data);
    });
    store.flushBatches(); // as the session's tick does for batches that wait for more
    const results = await Promise.all(writes);
    done.push(...results.filter((result) => result.status !== "stored"));
  }
  return done;
}

for (const format of ["v2", "hybrid"] as const) {
  Deno.test(`PieceStore downloads a ${format} torrent out of order, on disk byte-exact, and rechecks it`, async () => {
    const fixture = await makeV2Torrent(format);
    await withTempDir(async (dir) => {
      const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
        restore: "none",
        batchWrites: true,
      });
      const done = await feed(store, fixture);
      assert.equal(store.complete, true);
      assert.equal(done.length, fixture.torrent.pieceCount);
      for (const result of done) {
        assert.equal(result.status, "verified");
        assert.ok(result.status === "verified" && result.leafHashes, "leaf hashes offered");
      }
      await store.close();
      for (const [path, content] of fixture.contents) {
        assert.deepEqual(await Deno.readFile(`${dir}/${path}`), content, path);
      }
      const again = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
        restore: "recheck",
      });
      assert.equal(again.verified.count(), fixture.torrent.pieceCount);
      await again.close();
      // A changed byte fails its piece at the next recheck.
      const file = await Deno.open(`${dir}/odd/d-several.bin`, { read: true, write: true });
      await file.seek(PIECE + 3, Deno.SeekMode.Start);
      await file.write(new Uint8Array([0xee]));
      file.close();
      const third = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
        restore: "recheck",
      });
      const corrupt = fixture.torrent.files.find((f) => f.path.at(-1) === "d-several.bin")!
            .offset / PIECE + 1;
      assert.equal(third.verified.get(corrupt), false);
      assert.equal(third.verified.count(), fixture.torrent.pieceCount - 1);
      await third.close();
    });
  });

  Deno.test(`PieceStore fails a corrupt ${format} piece, names the bad leaf, then verifies it`, async () => {
    const fixture = await makeV2Torrent(format);
    const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
    const target = fixture.torrent.files.find((f) => f.path.at(-1) === "d-several.bin")!
      .offset / PIECE;
    const done = await feed(store, fixture, (piece, offset, data) => {
      if (piece === target && offset === 2 * LEAF) data[9] ^= 0x40;
    });
    const failed = done.filter((result) => result.status === "failed");
    assert.deepEqual(failed.map((result) => result.piece), [target]);
    const leaves = failed[0].status === "failed" ? failed[0].leafHashes! : new Uint8Array();
    assert.equal(store.needs(target), true);
    const good = await feed(store, fixture);
    assert.deepEqual(good.map((result) => [result.piece, result.status]), [[target, "verified"]]);
    const goodLeaves = good[0].status === "verified" ? good[0].leafHashes! : new Uint8Array();
    const differing = [0, 1, 2, 3].filter((leaf) =>
      toHex(leaves.subarray(leaf * 32, leaf * 32 + 32)) !==
        toHex(goodLeaves.subarray(leaf * 32, leaf * 32 + 32))
    );
    assert.deepEqual(differing, [2], "only the corrupt block's leaf differs");
    assert.equal(store.complete, true);
    await store.close();
  });
}

Deno.test("PieceStore fails a v2 piece whose padding bytes are not zero", async () => {
  const fixture = await makeV2Torrent("v2");
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), { restore: "none" });
  const tiny = fixture.torrent.files.find((f) => f.path.at(-1) === "a-tiny.txt")!.offset / PIECE;
  const done = await feed(store, fixture, (piece, offset, data) => {
    if (piece === tiny && offset === 0) data[200] = 7;
  });
  assert.deepEqual(done.filter((r) => r.status === "failed").map((r) => r.piece), [tiny]);
  await store.close();
});

Deno.test("a hybrid piece that passes one hash and fails the other stops with inconsistent-hashes", async () => {
  const fixture = await makeV2Torrent("hybrid");
  const pieceHashes = fixture.torrent.pieceHashes.slice();
  pieceHashes[0] ^= 1; // piece 0's SHA-1 no longer describes the v2 tree's data
  const torrent: Torrent = { ...fixture.torrent, pieceHashes };
  const store = await PieceStore.open(torrent, new MemoryStorage(), { restore: "none" });
  const writes = store.missingBlocks(0).map(({ offset, length }) =>
    store.writeBlock(0, offset, v2PieceBytes(fixture, 0).slice(offset, offset + length))
  );
  const settled = await Promise.allSettled(writes);
  const rejected = settled.filter((s) => s.status === "rejected");
  assert.equal(rejected.length, 1);
  const error = (rejected[0] as PromiseRejectedResult).reason;
  assert.ok(error instanceof StorageError);
  assert.equal(error.kind, "inconsistent-hashes");
  assert.match(error.message, /piece 0.*v2 merkle hash but not its SHA-1/);
  // The bytes are in storage now: a recheck finds the same disagreement.
  await assert.rejects(
    store.recheck(),
    (e) => e instanceof StorageError && e.kind === "inconsistent-hashes",
  );
  await store.close();
});

Deno.test("a hybrid file without its piece layer is checked by SHA-1 alone", async () => {
  const fixture = await makeV2Torrent("hybrid");
  const files = fixture.torrent.files.map((file) => {
    const { pieceLayer: _, ...rest } = file;
    return rest;
  });
  const torrent: Torrent = { ...fixture.torrent, files };
  const store = await PieceStore.open(torrent, new MemoryStorage(), { restore: "none" });
  const done = await feed(store, fixture);
  assert.ok(done.every((result) => result.status === "verified"));
  assert.equal(store.complete, true);
  await store.close();
});

Deno.test("a v2-only torrent without a file's piece layer is refused at open, naming the file", async () => {
  const fixture = await makeV2Torrent("v2");
  const files = fixture.torrent.files.map((file) => {
    const { pieceLayer: _, ...rest } = file;
    return rest;
  });
  await withTempDir(async (dir) => {
    await assert.rejects(
      PieceStore.open({ ...fixture.torrent, files }, new FileSystemStorage(dir)),
      (error) =>
        error instanceof TorrentError && error.code === "v2-only-unsupported" &&
        /d-several\.bin/.test(error.message),
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "refused before storage created anything");
  });
});

Deno.test("v2 pieces need a block size that is a multiple of 16 KiB", async () => {
  const fixture = await makeV2Torrent("v2");
  await assert.rejects(
    PieceStore.open(fixture.torrent, new MemoryStorage(), { blockSize: 8 * KiB }),
    (error) => error instanceof StorageError && /16 KiB leaves/.test(error.message),
  );
  const store = await PieceStore.open(fixture.torrent, new MemoryStorage(), {
    blockSize: 32 * KiB,
    restore: "none",
  });
  const done = await feed(store, fixture);
  assert.ok(done.every((result) => result.status === "verified"));
  assert.equal(store.complete, true);
  await store.close();
});

Deno.test("a v2-only piece of padding only is had from the start and never demanded", async () => {
  const fixture = await makeV2Torrent("v2", [{ path: ["one.bin"], data: patternBytes(PIECE, 5) }]);
  const base = fixture.torrent;
  // Hand-made: a whole piece of padding after the file (libtorrent has such pieces at once).
  const torrent: Torrent = {
    ...base,
    multiFile: true,
    files: [
      { ...base.files[0], path: ["one", "one.bin"] },
      { path: ["one", ".pad", String(PIECE)], length: PIECE, offset: PIECE, padding: true },
    ],
    pieceCount: 2,
    length: 2 * PIECE,
  };
  const pieces = new V2Pieces(torrent);
  assert.equal(pieces.shape(1).file, -1);
  assert.equal(pieces.matches(1, new Uint8Array(0)), true);
  const store = await PieceStore.open(torrent, new MemoryStorage(), { restore: "none" });
  assert.equal(store.verified.get(1), true);
  assert.equal(store.needs(1), false);
  assert.deepEqual(store.missingBlocks(1), []);
  const blocks = store.missingBlocks(0);
  for (const { offset, length } of blocks) {
    await store.writeBlock(0, offset, fixture.data.slice(offset, offset + length));
  }
  assert.equal(store.complete, true);
  assert.equal(store.verified.count(), 2);
  // A recheck reads nothing for it and keeps it.
  assert.equal((await store.recheck()).count(), 2);
  await store.close();
});

Deno.test("resume files record the version and v2 info hash; another version or hash is refused", async () => {
  const v2 = (await makeV2Torrent("v2")).torrent;
  const hybrid = (await makeV2Torrent("hybrid")).torrent;
  await withTempDir(async (dir) => {
    const path = `${dir}/resume`;
    const state = (torrent: Torrent) => ({
      verified: new Bitfield(torrent.pieceCount),
      files: torrent.files.map(() => undefined),
    });
    await saveResume(path, v2, state(v2));
    assert.equal((await loadResume(path, v2, state(v2).files)).ok, true);
    // Same v1-style info hash, another metainfo version.
    const asHybrid: Torrent = { ...hybrid, infoHash: v2.infoHash, files: v2.files };
    const wrongVersion = await loadResume(path, asHybrid, state(v2).files);
    assert.deepEqual(wrongVersion, {
      ok: false,
      reason: "resume file is for a v2 torrent, this one is hybrid",
    });
    const otherV2 = new Uint8Array(createHash("sha256").update("other").digest());
    const wrongHash = await loadResume(path, { ...v2, infoHashV2: otherV2 }, state(v2).files);
    assert.deepEqual(wrongHash, {
      ok: false,
      reason: "resume file is for another torrent (its v2 info hash differs)",
    });
    await saveResume(path, hybrid, state(hybrid));
    assert.equal((await loadResume(path, hybrid, state(hybrid).files)).ok, true);
  });
});

Deno.test("a v2 store restores from its resume file; the same files under another version recheck", async () => {
  const v2 = await makeV2Torrent("v2");
  const hybrid = await makeV2Torrent("hybrid");
  await withTempDir(async (dir) => {
    const resumePath = `${dir}/state.resume`;
    const store = await PieceStore.open(v2.torrent, new FileSystemStorage(`${dir}/data`), {
      resumePath,
    });
    await feed(store, v2);
    await store.close();
    const restored = await PieceStore.open(v2.torrent, new FileSystemStorage(`${dir}/data`), {
      resumePath,
    });
    assert.equal(restored.restoredFrom, "resume-file");
    assert.equal(restored.complete, true);
    await restored.close();
    // The hybrid has the same files and layout: its resume check refuses the v2 file, and
    // the recheck verifies every piece by both hashes.
    const other = await PieceStore.open(hybrid.torrent, new FileSystemStorage(`${dir}/data`), {
      resumePath,
    });
    assert.equal(other.restoredFrom, "recheck");
    assert.match(other.resumeRejection ?? "", /another torrent|v2 torrent, this one is hybrid/);
    assert.equal(other.complete, true);
    await other.close();
  });
});

Deno.test("write-only storage: v2 pieces verify from their leaves with no read-back, hybrids too", async () => {
  for (const format of ["v2", "hybrid"] as const) {
    const fixture = await makeV2Torrent(format);
    const memory = new MemoryStorage();
    let reads = 0;
    const writeOnly = {
      async open(torrent: Torrent) {
        const inner = await memory.open(torrent);
        return {
          readable: false,
          read: () => (reads++, Promise.reject(new StorageError("permission", "read", "x", "no"))),
          write: (piece: number, offset: number, data: Uint8Array) =>
            inner.write(piece, offset, data),
          flush: () => inner.flush(),
          close: () => inner.close(),
        };
      },
    };
    const store = await PieceStore.open(fixture.torrent, writeOnly);
    const done = await feed(store, fixture);
    assert.ok(done.every((result) => result.status === "verified"), format);
    assert.equal(store.complete, true);
    assert.equal(reads, 0);
    await store.close();
  }
});
