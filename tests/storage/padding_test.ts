import assert from "node:assert/strict";
import {
  MemoryStorage,
  parseTorrent,
  PieceStore,
  StorageError,
  visibleFileIndices,
  visibleFiles,
} from "../../mod.ts";
import { paddedTorrent } from "../metainfo/helpers.ts";
import { patternBytes } from "./fixture.ts";

const padded = paddedTorrent([
  { name: "a.bin", data: patternBytes(20_000, 1) },
  { name: "b.bin", data: patternBytes(5_000, 2) },
  { name: "c.bin", data: patternBytes(30_000, 3) },
]);
const torrent = parseTorrent(padded.bytes);

Deno.test("visibleFiles: the files people see, padding files never counted", () => {
  assert.equal(torrent.files.length, 5, "two padding files in torrent.files");
  assert.deepEqual(visibleFiles(torrent).map((file) => file.path.join("/")), [
    "padded/a.bin",
    "padded/b.bin",
    "padded/c.bin",
  ]);
  assert.deepEqual(visibleFileIndices(torrent), [0, 2, 4]);
});

Deno.test("PieceStore wantedFiles counts visible files: [2] is the third listed file, not a padding file", async () => {
  // c.bin starts piece 3 (after a, its padding, b and its padding: 3 x 16 KiB) and ends in piece 4.
  const store = await PieceStore.open(torrent, new MemoryStorage(), {
    wantedFiles: [2],
    restore: "none",
  });
  try {
    const wanted = [...Array(torrent.pieceCount).keys()].filter((piece) => store.wanted.get(piece));
    assert.deepEqual(wanted, [3, 4]);
    assert.deepEqual([...store.wantedFiles], [2]);
    store.setWantedFiles([1]);
    const wantedB = [...Array(torrent.pieceCount).keys()].filter((piece) =>
      store.wanted.get(piece)
    );
    assert.deepEqual(wantedB, [2], "b.bin is piece 2 alone");
    assert.throws(() => store.setWantedFiles([3]), StorageError, "only 3 visible files");
  } finally {
    await store.close();
  }
  await assert.rejects(
    PieceStore.open(torrent, new MemoryStorage(), { wantedFiles: [4] }),
    StorageError,
  );
});
