import { createHash } from "node:crypto";
import {
  BencodeDict,
  BencodeError,
  type BencodeValue,
  decodePrefix,
  DEFAULT_MAX_LENGTH,
} from "../bencode/mod.ts";
import { toHex } from "../util/bytes.ts";
import { torrentError } from "./errors.ts";
import { readMetainfoFields } from "./fields.ts";
import { infoSpan } from "./info_span.ts";
import { checkPieces, layoutFiles, torrentDetails } from "./layout.ts";
import { parseV2Torrent } from "./parse_v2.ts";
import { type SanitizeOptions, sanitizePathSegment } from "./sanitize.ts";
import type { Torrent } from "./torrent.ts";

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
  /** Most pieces accepted (libtorrent's default limit). Default 2,097,152. */
  maxPieces?: number;
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
/**
 * Default for {@linkcode ParseTorrentOptions.maxPieces}: libtorrent's default limit.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PIECES } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_PIECES); // 2097152
 * ```
 */
export const DEFAULT_MAX_PIECES = 0x200000;
const DEFAULT_MAX_DEPTH = 64;

/**
 * Parses a BitTorrent metainfo (`.torrent`) file: v1, v2 (BEP 52) or hybrid.
 *
 * The info hash is SHA-1 over the raw `info` bytes exactly as they appear in
 * the file (and, for v2 and hybrid torrents, `infoHashV2` is their SHA-256).
 * A v2 torrent's `file tree` is checked as libtorrent checks it: a power-of-two
 * piece length of at least 16 KiB, sorted keys, a 32-byte `pieces root` for
 * every file, each `piece layers` entry hashing up to its file's root (a file's
 * layer may be missing: the torrent loads without it), and in a hybrid the v1
 * `files` (with their pad files) describing the same files as the tree. Bytes
 * after the root dictionary are ignored with a warning in `warnings`. `name.utf-8` and `path.utf-8` are preferred when present; invalid
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
  let root: BencodeValue;
  let end: number;
  try {
    ({ value: root, end } = decodePrefix(bytes, decodeOptions));
  } catch (error) {
    if (error instanceof BencodeError) {
      throw torrentError("(root)", `valid bencode (${error.message})`, { cause: error });
    }
    throw error;
  }
  const warnings: string[] = [];
  if (end < bytes.length) {
    warnings.push(`${bytes.length - end} bytes after the root dictionary were ignored`);
  }
  const document = bytes.subarray(0, end);
  const limits = {
    maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
    maxPathSegments: options.maxPathSegments ?? DEFAULT_MAX_PATH_SEGMENTS,
    maxDepth: decodeOptions.maxDepth,
    maxPieces: options.maxPieces ?? DEFAULT_MAX_PIECES,
  };
  if (metaVersion(root) === 2) {
    return parseV2Torrent(document, root as BencodeDict, options, limits, warnings);
  }
  const fields = readMetainfoFields(root, limits);
  // readMetainfoFields has checked that root is a dictionary with an `info` dictionary.
  const span = infoSpan(document, root as BencodeDict);
  const infoBytes = document.subarray(span.start, span.end);
  const infoHash = new Uint8Array(createHash("sha1").update(infoBytes).digest());
  const infoHashHex = toHex(infoHash);
  const name = sanitizePathSegment(fields.name, options) || infoHashHex;
  const files = layoutFiles(fields, name, options);
  const length = files.length === 0
    ? 0
    : files[files.length - 1].offset + files[files.length - 1].length;
  checkPieces(fields, length, limits.maxPieces);
  return {
    infoHash,
    infoHashHex,
    version: 1,
    name,
    pieceLength: fields.pieceLength,
    pieceCount: fields.pieces.length / 20,
    pieceHashes: fields.pieces,
    files,
    multiFile: fields.files !== undefined,
    length,
    ...torrentDetails(fields, root, infoBytes, warnings),
  };
}

/**
 * The `meta version` of a decoded document: 2 for a v2 or hybrid torrent, 1 otherwise.
 * Rejects an unknown version, and a `file tree` without `meta version` 2 (as libtorrent).
 */
function metaVersion(root: BencodeValue): 1 | 2 {
  const info = root instanceof BencodeDict ? root.get("info") : undefined;
  if (!(info instanceof BencodeDict)) return 1;
  const version = info.get("meta version");
  if (typeof version === "number" && version > 2 || typeof version === "bigint") {
    throw torrentError('info["meta version"]', "1 or 2 (BEP 52)");
  }
  if (version === 2) return 2;
  if (info.has("file tree")) {
    throw torrentError('info["meta version"]', "2 beside a v2 file tree");
  }
  return 1;
}
