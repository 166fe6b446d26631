/** v2 and hybrid torrents made by `createTorrent`, with their byte stream, for storage tests. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../src/metainfo/create.ts";
import type { TorrentFormat } from "../../src/metainfo/create_v2.ts";
import type { Torrent } from "../../src/metainfo/torrent.ts";
import { patternBytes } from "./fixture.ts";

export const KiB = 1024;
export const PIECE = 64 * KiB;

/**
 * Files of odd sizes (sorted by name as v2 orders them): smaller than a block, exactly one
 * block plus one byte, exactly one piece, several pieces with a partial last one.
 */
export const ODD_FILES: { path: string[]; data: Uint8Array }[] = [
  { path: ["a-tiny.txt"], data: patternBytes(100, 1) },
  { path: ["b-block-plus.bin"], data: patternBytes(16 * KiB + 1, 2) },
  { path: ["c-one-piece.bin"], data: patternBytes(PIECE, 3) },
  { path: ["d-several.bin"], data: patternBytes(3 * PIECE + 5000, 4) },
];

export interface V2Fixture {
  torrent: Torrent;
  bytes: Uint8Array;
  /** The torrent's byte stream: each file's data, then zeros for its padding. */
  data: Uint8Array;
  /** File data by the joined path of `torrent.files`. */
  contents: Map<string, Uint8Array>;
}

/** A torrent of `files` in `format`, and its byte stream. */
export async function makeV2Torrent(
  format: TorrentFormat,
  files = ODD_FILES,
  pieceLength = PIECE,
  name = "odd",
): Promise<V2Fixture> {
  const created = await createTorrent({ name, files }, { format, pieceLength });
  const torrent = created.torrent;
  const contents = new Map<string, Uint8Array>();
  for (const file of files) contents.set([name, ...file.path].join("/"), file.data);
  const data = new Uint8Array(torrent.length);
  for (const file of torrent.files) {
    if (file.padding) continue;
    const content = torrent.multiFile ? contents.get(file.path.join("/")) : files[0].data;
    if (!content) throw new Error(`no content for ${file.path.join("/")}`);
    data.set(content, file.offset);
  }
  return { torrent, bytes: created.bytes, data, contents };
}

/** Bytes of piece `piece`. */
export function v2PieceBytes(fixture: V2Fixture, piece: number): Uint8Array {
  const { pieceLength } = fixture.torrent;
  return fixture.data.subarray(piece * pieceLength, (piece + 1) * pieceLength);
}

/** Writes the fixture's files under `dir`, as a seeder has them. */
export async function writeV2Files(dir: string, fixture: V2Fixture): Promise<void> {
  for (const [path, content] of fixture.contents) {
    const full = join(dir, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeFile(full, content);
  }
}

/** Asserts every file of the fixture under `dir` holds exactly the seeded bytes. */
export async function assertV2Files(dir: string, fixture: V2Fixture): Promise<void> {
  for (const [path, content] of fixture.contents) {
    assert.deepEqual(await Deno.readFile(join(dir, path)), content, `${path} differs`);
  }
}
