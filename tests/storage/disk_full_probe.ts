/**
 * Subprocess for filesystem_test.ts: downloads a 2 MiB fixture into Deno.args[0] under a
 * file-size limit and prints the error it stops with as JSON.
 */
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { StorageError } from "../../src/storage/errors.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { makeTorrent, patternBytes, pieceBytes } from "./fixture.ts";

const fixture = makeTorrent(
  [{ path: ["big"], content: patternBytes(2 * 1024 * 1024, 18) }],
  64 * 1024,
);
const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(Deno.args[0]), {
  restore: "none",
});
let report: Record<string, unknown> = { name: "none" };
try {
  for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
    const bytes = pieceBytes(fixture, piece);
    for (const { offset, length } of store.missingBlocks(piece)) {
      await store.writeBlock(piece, offset, bytes.subarray(offset, offset + length));
    }
  }
} catch (error) {
  report = {
    name: error instanceof Error ? error.name : "?",
    kind: error instanceof StorageError ? error.kind : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
} finally {
  report.verified = store.verified.count();
  await store.close();
}
// deno-lint-ignore no-console
console.log(JSON.stringify(report));
