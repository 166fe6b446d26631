import { type Encodable, encode } from "../bencode/mod.ts";
import { torrentError } from "./errors.ts";
import {
  checkSegment,
  type ListedSource,
  listSource,
  type SourceFile,
  type TorrentSource,
  withReadPermission,
} from "./create_source.ts";
import { parseTorrent } from "./parse.ts";
import { PieceHasher } from "./piece_hasher.ts";
import { choosePieceLength } from "./piece_length.ts";
import type { Torrent } from "./torrent.ts";

/**
 * Options for {@linkcode createTorrent}.
 *
 * @example
 * ```ts
 * import { createTorrent, type CreateTorrentOptions } from "@bittern/bittern";
 *
 * const options: CreateTorrentOptions = { pieceLength: 256 * 1024, private: true };
 * await createTorrent("./data", options);
 * ```
 */
export interface CreateTorrentOptions {
  /** Bytes per piece (a power of two of at least 16 KiB); chosen by {@linkcode choosePieceLength} when absent. */
  pieceLength?: number;
  /** Tracker tiers (BEP 12); a flat list is one tracker per tier. */
  announce?: readonly (string | readonly string[])[];
  /** Sets the BEP 27 private flag. */
  private?: boolean;
  /** `comment`. */
  comment?: string;
  /** `created by`. */
  createdBy?: string;
  /** `creation date`; omitted when absent, so the same input gives the same bytes. */
  creationDate?: Date;
  /** Overrides the torrent name (default: the base name of the source path). */
  name?: string;
  /** Most files taken from a directory. Default 1,000,000. */
  maxFiles?: number;
  /** Deepest directory nesting followed. Default 64. */
  maxDepth?: number;
  /** Bytes read at a time from disk. Default 1 MiB. */
  readChunkBytes?: number;
  /** Stops the work; the returned promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each chunk is hashed with the bytes hashed so far and the total. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
}

/**
 * What {@linkcode createTorrent} returns.
 *
 * @example
 * ```ts
 * import { createTorrent } from "@bittern/bittern";
 *
 * const { bytes, torrent } = await createTorrent({ name: "a.txt", data: new Uint8Array(10) });
 * console.log(bytes.length > 0, torrent.pieceCount); // true 1
 * ```
 */
export interface CreatedTorrent {
  /** The `.torrent` file bytes (canonical bencode). */
  readonly bytes: Uint8Array;
  /** The same torrent, parsed. */
  readonly torrent: Torrent;
}

const DEFAULT_READ_CHUNK = 1024 * 1024;
const MIN_PIECE_LENGTH = 16 * 1024;

/**
 * Creates a v1 torrent from a file, a directory or files in memory.
 *
 * Data is streamed: each file is read in chunks into two reusable buffers
 * (the next read runs while the current chunk is hashed), so memory stays
 * at a few MiB whatever the size. Directory entries are taken in code-unit
 * order of their names; symbolic links are skipped. With no
 * `creationDate`, the output depends only on the data, names and options.
 * Needs `--allow-read` for filesystem sources.
 *
 * @example Creating a torrent for a directory
 * ```ts
 * import { createTorrent } from "@bittern/bittern";
 *
 * const { bytes, torrent } = await createTorrent("./photos", {
 *   announce: ["http://tracker.example/announce"],
 * });
 * await Deno.writeFile("photos.torrent", bytes);
 * console.log(torrent.infoHashHex);
 * ```
 *
 * @param source A path, or files in memory.
 * @param options Piece length, trackers, flags and limits.
 * @returns The file bytes and the parsed torrent.
 * @throws {TorrentError} for a bad option or an empty source.
 */
export async function createTorrent(
  source: TorrentSource,
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const listed = await listSource(source, {
    maxFiles: options.maxFiles ?? 1_000_000,
    maxDepth: options.maxDepth ?? 64,
  });
  const totalLength = listed.files.reduce((sum, file) => sum + file.length, 0);
  if (totalLength === 0) throw torrentError("source", "at least one byte of data");
  const pieceLength = options.pieceLength ?? choosePieceLength(totalLength);
  checkPieceLength(pieceLength);
  const hasher = new PieceHasher(pieceLength);
  const chunkBytes = options.readChunkBytes ?? DEFAULT_READ_CHUNK;
  const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  for (const file of listed.files) {
    options.signal?.throwIfAborted();
    if (file.data) {
      hasher.update(file.data);
      options.onProgress?.(hasher.length, totalLength);
    } else {
      await hashFile(file, hasher, buffers, totalLength, options);
    }
  }
  if (options.name !== undefined) checkSegment(options.name, "name");
  const name = options.name ?? listed.name;
  const bytes = encode(metainfo(listed, name, pieceLength, hasher.digest(), options));
  return { bytes, torrent: parseTorrent(bytes) };
}

function checkPieceLength(pieceLength: number): void {
  const powerOfTwo = Number.isSafeInteger(pieceLength) && (pieceLength & (pieceLength - 1)) === 0;
  if (!powerOfTwo || pieceLength < MIN_PIECE_LENGTH || pieceLength > 2 ** 30) {
    throw torrentError("pieceLength", `a power of two from 16 KiB to 1 GiB (got ${pieceLength})`);
  }
}

/** Hashes one file with double buffering: the next read runs while this chunk hashes. */
async function hashFile(
  file: SourceFile,
  hasher: PieceHasher,
  buffers: Uint8Array[],
  totalLength: number,
  options: CreateTorrentOptions,
): Promise<void> {
  const fsPath = file.fsPath!;
  using handle = await withReadPermission(fsPath, () => Deno.open(fsPath, { read: true }));
  let remaining = file.length;
  let which = 0;
  let pending = fill(handle, buffers[which], Math.min(remaining, buffers[which].length), fsPath);
  // Each round consumes at least one byte (fill rejects on a short file), so this ends.
  while (remaining > 0) {
    const count = await pending;
    remaining -= count;
    const current = buffers[which];
    which ^= 1;
    if (remaining > 0) {
      pending = fill(handle, buffers[which], Math.min(remaining, buffers[which].length), fsPath);
    }
    hasher.update(current.subarray(0, count));
    options.onProgress?.(hasher.length, totalLength);
    if (options.signal?.aborted) {
      if (remaining > 0) await pending.catch(() => {});
      options.signal.throwIfAborted();
    }
  }
}

/** Reads exactly `count` bytes into the start of `buffer`. */
async function fill(
  handle: Deno.FsFile,
  buffer: Uint8Array,
  count: number,
  fsPath: string,
): Promise<number> {
  let filled = 0;
  while (filled < count) {
    const read = await handle.read(buffer.subarray(filled, count));
    if (read === null) throw torrentError("source", `${fsPath} not to shrink while being hashed`);
    filled += read;
  }
  return filled;
}

function metainfo(
  listed: ListedSource,
  name: string,
  pieceLength: number,
  pieces: Uint8Array,
  options: CreateTorrentOptions,
): Record<string, Encodable> {
  const info: Record<string, Encodable> = { name, "piece length": pieceLength, pieces };
  if (listed.multiFile) {
    info.files = listed.files.map((file) => ({ length: file.length, path: [...file.path] }));
  } else {
    info.length = listed.files[0].length;
  }
  if (options.private) info.private = 1;
  const root: Record<string, Encodable> = { info };
  const tiers = (options.announce ?? [])
    .map((tier) => (typeof tier === "string" ? [tier] : [...tier]))
    .filter((tier) => tier.length > 0);
  if (tiers.length > 0) {
    root.announce = tiers[0][0];
    if (tiers.length > 1 || tiers[0].length > 1) root["announce-list"] = tiers;
  }
  if (options.comment !== undefined) root.comment = options.comment;
  if (options.createdBy !== undefined) root["created by"] = options.createdBy;
  if (options.creationDate !== undefined) {
    root["creation date"] = Math.floor(options.creationDate.getTime() / 1000);
  }
  return root;
}
