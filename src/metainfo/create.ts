import { createHash } from "node:crypto";
import { type Encodable, encode } from "../bencode/mod.ts";
import { torrentError } from "./errors.ts";
import { isWebSeedUrl } from "./web_seeds.ts";
import {
  checkSegment,
  listSource,
  type SourceFile,
  type TorrentSource,
  withReadPermission,
} from "./create_source.ts";
import {
  CreationHasher,
  DEFAULT_TORRENT_FORMAT,
  fileTree,
  pieceLayers,
  TORRENT_FORMATS,
  type TorrentFormat,
  type V2FileHashes,
  v2Order,
} from "./create_v2.ts";
import { parseTorrent } from "./parse.ts";
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
  /**
   * `v1`, `v2` (BEP 52) or `hybrid` (both, with BEP 47 pad files aligning
   * each file to a piece, as libtorrent makes them). Default
   * {@linkcode DEFAULT_TORRENT_FORMAT} (`v1`). For `v2` and `hybrid`,
   * files are ordered by the raw bytes of their names at each level.
   */
  format?: TorrentFormat;
  /** Bytes per piece (a power of two of at least 16 KiB); chosen by {@linkcode choosePieceLength} when absent. */
  pieceLength?: number;
  /** Tracker tiers (BEP 12); a flat list is one tracker per tier. */
  announce?: readonly (string | readonly string[])[];
  /**
   * Web seeds (BEP 19 `url-list`): http(s) URLs of servers holding the files (a file's URL for
   * a single-file torrent, the directory above the torrent's for several). Outside `info`, so
   * they do not change the info hash. One is written as a string, more as a list (as
   * libtorrent does); at most 64.
   */
  webSeeds?: readonly string[];
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
  /** The same torrent, parsed (on first access). */
  readonly torrent: Torrent;
  /** The format written. */
  readonly format: TorrentFormat;
  /**
   * The info hashes: `v1` (SHA-1, 20 bytes) for `v1` and `hybrid`, `v2`
   * (SHA-256, 32 bytes; its first 20 bytes are used on the wire and with
   * trackers) for `v2` and `hybrid`.
   */
  readonly infoHashes: { readonly v1?: Uint8Array; readonly v2?: Uint8Array };
  /** The torrent's name. */
  readonly name: string;
  /** Bytes of data (pad files not counted). */
  readonly length: number;
  /** Files, pad files not counted. */
  readonly fileCount: number;
  /** Bytes per piece. */
  readonly pieceLength: number;
  /** Pieces: of the v1 piece stream (pad files included), or for v2 the sum over files. */
  readonly pieceCount: number;
}

const DEFAULT_READ_CHUNK = 1024 * 1024;
const MIN_PIECE_LENGTH = 16 * 1024;

/**
 * Creates a torrent (v1 by default, v2, or hybrid v1 + v2) from a file, a
 * directory or files in memory. A hybrid or v2 torrent has the same info
 * hashes libtorrent computes for the same files and piece length.
 *
 * Data is streamed: each file is read in chunks into two reusable buffers
 * (the next read runs while the current chunk is hashed), so memory stays
 * at a few MiB whatever the size. Directory entries are taken in code-unit
 * order of their names (raw UTF-8 bytes for v2 and hybrid); symbolic links
 * are skipped. Each byte is read once: a hybrid's SHA-1 pieces and SHA-256
 * merkle trees are computed in the same pass. With no
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
 * @example A hybrid (v1 + v2) torrent, as libtorrent makes it
 * ```ts
 * import { createTorrent, toHex } from "@bittern/bittern";
 *
 * const { bytes, infoHashes } = await createTorrent("./photos", { format: "hybrid" });
 * await Deno.writeFile("photos.torrent", bytes);
 * console.log(toHex(infoHashes.v1!), toHex(infoHashes.v2!));
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
  const format = options.format ?? DEFAULT_TORRENT_FORMAT;
  if (!TORRENT_FORMATS.includes(format)) {
    throw torrentError("format", `one of ${TORRENT_FORMATS.join(", ")} (got ${String(format)})`);
  }
  checkWebSeeds(options.webSeeds ?? []);
  const files = format === "v1" ? listed.files : v2Order(listed.files);
  const totalLength = files.reduce((sum, file) => sum + file.length, 0);
  if (totalLength === 0) throw torrentError("source", "at least one byte of data");
  const pieceLength = options.pieceLength ?? choosePieceLength(totalLength);
  checkPieceLength(pieceLength);
  if (options.name !== undefined) checkSegment(options.name, "name");
  // libtorrent pads a hybrid only when it has more than one file.
  const padded = format === "hybrid" && files.length > 1;
  const hasher = new CreationHasher(format, pieceLength, padded);
  const pads: number[] = [];
  const chunkBytes = options.readChunkBytes ?? DEFAULT_READ_CHUNK;
  const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  for (const file of files) {
    options.signal?.throwIfAborted();
    hasher.startFile();
    if (file.data) {
      hasher.update(file.data);
      options.onProgress?.(hasher.hashedBytes, totalLength);
    } else {
      await hashFile(file, hasher, buffers, totalLength, options);
    }
    // An empty file gets no pad: every file before it ended on a boundary.
    pads.push(hasher.endFile());
  }
  const name = options.name ?? listed.name;
  const shape = { name, multiFile: listed.multiFile, files, pads };
  const root = metainfo(shape, pieceLength, hasher.pieces(), hasher.files, format, options);
  const bytes = encode(root);
  const infoBytes = encode(root.info);
  const infoHashes = {
    v1: format === "v2" ? undefined : digest("sha1", infoBytes),
    v2: format === "v1" ? undefined : digest("sha256", infoBytes),
  };
  const pieceCount = format === "v1"
    ? Math.ceil(totalLength / pieceLength)
    : files.reduce((sum, file, i) => sum + Math.ceil((file.length + pads[i]) / pieceLength), 0);
  let parsed: Torrent | undefined;
  return {
    bytes,
    format,
    infoHashes,
    name,
    length: totalLength,
    fileCount: files.length,
    pieceLength,
    pieceCount,
    get torrent(): Torrent {
      return parsed ??= parseTorrent(bytes);
    },
  };
}

function digest(algorithm: "sha1" | "sha256", bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(bytes).digest());
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
  hasher: CreationHasher,
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
    options.onProgress?.(hasher.hashedBytes, totalLength);
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

/** The files as they go in the torrent, with the pad after each (0 for none). */
interface TorrentShape {
  readonly name: string;
  readonly multiFile: boolean;
  readonly files: readonly SourceFile[];
  readonly pads: readonly number[];
}

function metainfo(
  shape: TorrentShape,
  pieceLength: number,
  pieces: Uint8Array | undefined,
  v2Files: readonly V2FileHashes[],
  format: TorrentFormat,
  options: CreateTorrentOptions,
): { info: Record<string, Encodable> } & Record<string, Encodable> {
  const { name, multiFile, files } = shape;
  const info: Record<string, Encodable> = { name, "piece length": pieceLength };
  if (pieces) {
    info.pieces = pieces;
    if (multiFile) {
      const entries: Encodable[] = [];
      files.forEach((file, i) => {
        const entry: Record<string, Encodable> = { length: file.length, path: [...file.path] };
        // BEP 47 executable flag, as libtorrent writes it (v1-only output stays as it was).
        if (file.executable && format !== "v1") entry.attr = "x";
        entries.push(entry);
        const pad = shape.pads[i];
        // BEP 47 pad file, named as libtorrent names it (the name is in the info hash).
        if (pad > 0) entries.push({ attr: "p", length: pad, path: [".pad", String(pad)] });
      });
      info.files = entries;
    } else {
      info.length = files[0].length;
      if (files[0].executable && format !== "v1") info.attr = "x";
    }
  }
  if (format !== "v1") {
    info["meta version"] = 2;
    info["file tree"] = fileTree(name, multiFile, files, v2Files);
  }
  if (options.private) info.private = 1;
  const root: { info: Record<string, Encodable> } & Record<string, Encodable> = { info };
  if (format !== "v1") root["piece layers"] = pieceLayers(v2Files);
  const tiers = (options.announce ?? [])
    .map((tier) => (typeof tier === "string" ? [tier] : [...tier]))
    .filter((tier) => tier.length > 0);
  if (tiers.length > 0) {
    root.announce = tiers[0][0];
    if (tiers.length > 1 || tiers[0].length > 1) root["announce-list"] = tiers;
  }
  if (options.comment !== undefined) root.comment = options.comment;
  const webSeeds = [...new Set(options.webSeeds ?? [])];
  if (webSeeds.length > 0) root["url-list"] = webSeeds.length === 1 ? webSeeds[0] : webSeeds;
  if (options.createdBy !== undefined) root["created by"] = options.createdBy;
  if (options.creationDate !== undefined) {
    root["creation date"] = Math.floor(options.creationDate.getTime() / 1000);
  }
  return root;
}

/** Most web seeds written (what `readWebSeeds` keeps). */
const MAX_CREATED_WEB_SEEDS = 64;

/** Each web seed must be an http(s) URL that `parseTorrent` will keep. */
function checkWebSeeds(webSeeds: readonly string[]): void {
  const bad = webSeeds.find((url) => !isWebSeedUrl(url) || url !== url.trim());
  if (bad !== undefined) {
    throw torrentError("webSeeds", `absolute http: or https: URLs (got ${JSON.stringify(bad)})`);
  }
  if (new Set(webSeeds).size > MAX_CREATED_WEB_SEEDS) {
    throw torrentError("webSeeds", `at most ${MAX_CREATED_WEB_SEEDS} URLs`);
  }
}
