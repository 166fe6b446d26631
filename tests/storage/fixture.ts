/** Builds `Torrent` objects from in-memory content, so storage tests need no parser. */
import { createHash } from "node:crypto";
import type { Torrent, TorrentFile } from "../../src/metainfo/torrent.ts";
import { concatBytes, toHex } from "../../src/util/bytes.ts";

export interface FixtureFile {
  /** Path inside the torrent (without the torrent name for multi-file torrents). */
  path: string[];
  content: Uint8Array;
  padding?: boolean;
}

export interface Fixture {
  torrent: Torrent;
  /** The torrent's concatenated bytes. */
  data: Uint8Array;
}

/** Deterministic pseudo-random bytes (xorshift32), so processes can agree on content. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** A torrent over `files`; single-file when `multiFile` is false (one file, path = [name]). */
export function makeTorrent(
  files: FixtureFile[],
  pieceLength: number,
  options: { name?: string; multiFile?: boolean } = {},
): Fixture {
  const name = options.name ?? "fixture";
  const multiFile = options.multiFile ?? files.length !== 1;
  const data = concatBytes(files.map((file) => file.content));
  const pieceCount = Math.max(1, Math.ceil(data.length / pieceLength));
  const hashes = new Uint8Array(pieceCount * 20);
  for (let piece = 0; piece < pieceCount; piece++) {
    const bytes = data.subarray(piece * pieceLength, (piece + 1) * pieceLength);
    hashes.set(createHash("sha1").update(bytes).digest(), piece * 20);
  }
  let offset = 0;
  const torrentFiles: TorrentFile[] = files.map((file) => {
    const entry: TorrentFile = {
      path: multiFile ? [name, ...file.path] : [name],
      length: file.content.length,
      offset,
      padding: file.padding ?? false,
    };
    offset += file.content.length;
    return entry;
  });
  const infoHash = new Uint8Array(
    createHash("sha1").update(hashes).update(new TextEncoder().encode(name)).digest(),
  );
  return {
    data,
    torrent: {
      infoHash,
      infoHashHex: toHex(infoHash),
      name,
      pieceLength,
      version: 1,
      pieceCount,
      pieceHashes: hashes,
      files: torrentFiles,
      multiFile,
      length: data.length,
      private: false,
      announce: [],
      infoBytes: new Uint8Array(0),
      warnings: [],
    },
  };
}

/** Runs `body` with a fresh temp directory, always removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "bittern-storage-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Bytes of piece `piece` from the fixture's data. */
export function pieceBytes(fixture: Fixture, piece: number): Uint8Array {
  const { pieceLength } = fixture.torrent;
  return fixture.data.subarray(piece * pieceLength, (piece + 1) * pieceLength);
}
