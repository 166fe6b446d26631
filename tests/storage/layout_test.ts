import assert from "node:assert/strict";
import { StorageError } from "../../src/storage/errors.ts";
import { checkPieceRange, filePieceRange, fileSpans } from "../../src/storage/layout.ts";
import { makeTorrent } from "./fixture.ts";

const fixture = makeTorrent(
  [
    { path: ["a"], content: new Uint8Array(10) },
    { path: ["empty1"], content: new Uint8Array(0) },
    { path: ["empty2"], content: new Uint8Array(0) },
    { path: ["b"], content: new Uint8Array(3) },
    { path: ["c"], content: new Uint8Array(20) },
  ],
  8,
);

Deno.test("fileSpans splits ranges at file boundaries and skips zero-length files", () => {
  // Bytes: a=[0,10) b=[10,13) c=[13,33); piece 1 = [8,16).
  assert.deepEqual(fileSpans(fixture.torrent, 1, 0, 8), [
    { fileIndex: 0, fileOffset: 8, rangeOffset: 0, length: 2 },
    { fileIndex: 3, fileOffset: 0, rangeOffset: 2, length: 3 },
    { fileIndex: 4, fileOffset: 0, rangeOffset: 5, length: 3 },
  ]);
  assert.deepEqual(fileSpans(fixture.torrent, 4, 0, 1), [
    { fileIndex: 4, fileOffset: 19, rangeOffset: 0, length: 1 },
  ]);
  assert.deepEqual(fileSpans(fixture.torrent, 0, 3, 0), []);
});

Deno.test("ranges outside the torrent are typed out-of-range errors", () => {
  for (
    const [piece, offset, length] of [[5, 0, 1], [-1, 0, 1], [4, 0, 2], [0, 7, 2], [0.5, 0, 1]]
  ) {
    assert.throws(
      () => checkPieceRange(fixture.torrent, piece, offset, length, "read"),
      (error: unknown) => error instanceof StorageError && error.kind === "out-of-range",
    );
  }
});

Deno.test("filePieceRange covers boundary pieces; zero-length files have none", () => {
  assert.deepEqual(filePieceRange(fixture.torrent, 0), { first: 0, last: 1 });
  assert.equal(filePieceRange(fixture.torrent, 1), undefined);
  assert.deepEqual(filePieceRange(fixture.torrent, 3), { first: 1, last: 1 });
  assert.deepEqual(filePieceRange(fixture.torrent, 4), { first: 1, last: 4 });
});
