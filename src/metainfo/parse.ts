import { createHash } from "node:crypto";
import { type BencodeDict, BencodeError, decode, DEFAULT_MAX_LENGTH } from "../bencode/mod.ts";
import { toHex } from "../util/bytes.ts";
import { TorrentError, torrentError } from "./errors.ts";
import { type MetainfoFields, readMetainfoFields } from "./fields.ts";
import { infoSpan } from "./info_span.ts";
import { sanitizeFilePaths, type SanitizeOptions, sanitizePathSegment } from "./sanitize.ts";
import type { Torrent, TorrentFile } from "./torrent.ts";
import { readWebSeeds } from "./web_seeds.ts";

/**
 * Limits for {@linkcode parseTorrent}; all hostile-input bounds are here.
 *
 * @example
 * ```ts
 * import { parseTorrent } from "@bittern/bittern";
 *
 * const torrent = parseTorrent(await Deno.readFile("x.torrent"), { maxFiles: 10_000 });
 * ```
 */
export interface ParseTorrentOptions extends SanitizeOptions {
  /** Largest metainfo accepted, in bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Most entries accepted in `info.files`. Default 1,000,000. */
  maxFiles?: number;
  /** Most segments accepted in one file path. Default 256. */
  maxPathSegments?: number;
  /** Deepest bencode nesting accepted. Default 64. */
  maxDepth?: number;
}

/**
 * Default for {@linkcode ParseTorrentOptions.maxFiles}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FILES } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_FILES); // 1000000
 * ```
 */
export const DEFAULT_MAX_FILES = 1_000_000;
/**
 * Default for {@linkcode ParseTorrentOptions.maxPathSegments}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PATH_SEGMENTS } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_PATH_SEGMENTS); // 256
 * ```
 */
export const DEFAULT_MAX_PATH_SEGMENTS = 256;
const DEFAULT_MAX_DEPTH = 64;

/**
 * Parses a BitTorrent v1 metainfo (`.torrent`) file.
 *
 * The info hash is SHA-1 over the raw `info` bytes exactly as they appear in
 * the file. `name.utf-8` and `path.utf-8` are preferred when present; invalid
 * UTF-8 becomes `_`. File names are hostile input and are **sanitised, not
 * rejected** (as libtorrent does), by the rules of {@linkcode sanitizePathSegment}
 * and {@linkcode sanitizeFilePaths}: no resulting path can leave the download
 * directory, and no two files collide. A name that sanitises to nothing
 * becomes the info hash in hex.
 *
 * Structural problems (a missing or mistyped field, `pieces` not a multiple
 * of 20 bytes or not matching the total length) throw {@linkcode TorrentError}
 * naming the fields; malformed bencode throws a `TorrentError` whose `cause`
 * is the {@linkcode BencodeError}.
 *
 * @example
 * ```ts
 * import { parseTorrent } from "@bittern/bittern";
 *
 * const torrent = parseTorrent(await Deno.readFile("ubuntu.torrent"));
 * console.log(torrent.name, torrent.infoHashHex, torrent.files.length);
 * ```
 *
 * @param bytes The metainfo file contents.
 * @param options Limits.
 * @returns The parsed torrent.
 * @throws {TorrentError} for malformed or inconsistent metainfo.
 */
export function parseTorrent(bytes: Uint8Array, options: ParseTorrentOptions = {}): Torrent {
  const decodeOptions = {
    allowUnsortedKeys: true,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxLength: options.maxBytes ?? DEFAULT_MAX_LENGTH,
  };
  let root;
  try {
    root = decode(bytes, decodeOptions);
  } catch (error) {
    if (error instanceof BencodeError) {
      throw torrentError("(root)", `valid bencode (${error.message})`, { cause: error });
    }
    throw error;
  }
  const fields = readMetainfoFields(root, {
    maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
    maxPathSegments: options.maxPathSegments ?? DEFAULT_MAX_PATH_SEGMENTS,
    maxDepth: decodeOptions.maxDepth,
  });
  // readMetainfoFields has checked that root is a dictionary with an `info` dictionary.
  const span = infoSpan(bytes, root as BencodeDict);
  const infoBytes = bytes.subarray(span.start, span.end);
  const infoHash = new Uint8Array(createHash("sha1").update(infoBytes).digest());
  const infoHashHex = toHex(infoHash);
  const name = sanitizePathSegment(fields.name, options) || infoHashHex;
  const files = layoutFiles(fields, name, options);
  const length = files.length === 0
    ? 0
    : files[files.length - 1].offset + files[files.length - 1].length;
  checkPieces(fields, length);
  return {
    infoHash,
    infoHashHex,
    name,
    pieceLength: fields.pieceLength,
    pieceCount: fields.pieces.length / 20,
    pieceHashes: fields.pieces,
    files,
    multiFile: fields.files !== undefined,
    length,
    private: fields.private,
    announce: announceTiers(fields),
    creationDate: fields.creationDate === undefined
      ? undefined
      : new Date(fields.creationDate * 1000),
    createdBy: fields.createdBy,
    comment: fields.comment,
    infoBytes,
    webSeeds: readWebSeeds(root),
  };
}

function layoutFiles(
  fields: MetainfoFields,
  name: string,
  options: SanitizeOptions,
): TorrentFile[] {
  if (!fields.files) {
    return [{ path: [name], length: fields.length ?? 0, offset: 0, padding: false }];
  }
  const safePaths = sanitizeFilePaths(fields.files.map((file) => file.path), options);
  const files: TorrentFile[] = [];
  let offset = 0;
  for (let i = 0; i < fields.files.length; i++) {
    const entry = fields.files[i];
    files.push({
      path: [name, ...safePaths[i]],
      length: entry.length,
      offset,
      padding: entry.padding,
    });
    offset += entry.length;
    if (!Number.isSafeInteger(offset)) {
      throw torrentError(`info.files[${i}].length`, "a total length within 2^53 bytes");
    }
  }
  return files;
}

function checkPieces(fields: MetainfoFields, length: number): void {
  const where = fields.files ? "info.files" : "info.length";
  if (length === 0) throw torrentError(where, "a total length above 0");
  const expected = Math.ceil(length / fields.pieceLength);
  const actual = fields.pieces.length / 20;
  if (actual !== expected) {
    throw new TorrentError([{
      path: "info.pieces",
      expected: `${expected} piece hashes for ${length} bytes in pieces of ` +
        `${fields.pieceLength} (got ${actual})`,
    }]);
  }
}

function announceTiers(fields: MetainfoFields): string[][] {
  const tiers = (fields.announceList ?? [])
    .map((tier) => tier.map((url) => url.trim()).filter((url) => url !== ""))
    .filter((tier) => tier.length > 0);
  if (tiers.length > 0) return tiers;
  const single = fields.announce?.trim();
  return single ? [[single]] : [];
}
