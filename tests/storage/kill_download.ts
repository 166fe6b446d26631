/**
 * Subprocess for resume_test.ts: downloads the first 20 pieces of killFixture() into
 * Deno.args[0], leaves 4 more half-written (in flight), prints "ready" and waits to be
 * killed with SIGKILL. A resume file is saved early on, so it is stale by then.
 */
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { type Fixture, makeTorrent, patternBytes, pieceBytes } from "./fixture.ts";

export const COMPLETE_BEFORE_KILL = 20;
export const IN_FLIGHT_AT_KILL = 4;

export function killFixture(): Fixture {
  return makeTorrent(
    [
      { path: ["one.bin"], content: patternBytes(1_500_000, 21) },
      { path: ["sub", "two.bin"], content: patternBytes(2_700_001, 22) },
    ],
    64 * 1024,
  );
}

if (import.meta.main) {
  const [dir, resumePath] = Deno.args;
  const fixture = killFixture();
  const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), { resumePath });
  const write = async (piece: number, onlyFirstHalf: boolean) => {
    const bytes = pieceBytes(fixture, piece);
    const blocks = store.missingBlocks(piece);
    const chosen = onlyFirstHalf ? blocks.slice(0, blocks.length >> 1) : blocks;
    await Promise.all(
      chosen.map(({ offset, length }) =>
        store.writeBlock(piece, offset, bytes.subarray(offset, offset + length))
      ),
    );
  };
  for (let piece = 0; piece < COMPLETE_BEFORE_KILL; piece++) {
    await write(piece, false);
    if (piece === 5) await store.saveResume();
  }
  for (
    let piece = COMPLETE_BEFORE_KILL;
    piece < COMPLETE_BEFORE_KILL + IN_FLIGHT_AT_KILL;
    piece++
  ) {
    await write(piece, true);
  }
  await Deno.stdout.write(new TextEncoder().encode(`ready ${store.verified.count()}\n`));
  // Wait for the kill; stdin stays open until the parent kills us.
  for await (const _ of Deno.stdin.readable) break;
}
