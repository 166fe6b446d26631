/**
 * Parsing a v2 (BEP 52) or hybrid metainfo document, with libtorrent's checks.
 * The layout follows libtorrent's: in a multi-file torrent every file starts on
 * a piece boundary, so a pad file follows each file that does not end on one
 * (implied in a v2 tree, explicit in a hybrid's v1 `files`, which must match and
 * is the layout a hybrid is downloaded with).
 */
import { createHash } from "node:crypto";
import { type BencodeDict, BencodeError, decode } from "../bencode/mod.ts";
import { tryValidate } from "../schema/mod.ts";
import { toHex } from "../util/bytes.ts";
import { TorrentError, torrentError, type TorrentProblem } from "./errors.ts";
import { checkFileEntries, type FieldLimits, fieldsOf } from "./fields.ts";
import { type FileTreeEntry, readFileTree } from "./file_tree.ts";
import { infoSpan } from "./info_span.ts";
import { checkDuplicateNames, checkPieces, layoutFiles, torrentDetails } from "./layout.ts";
import { MERKLE_BLOCK_SIZE } from "./merkle.ts";
import { type MetainfoV2Document, metainfoV2Schema } from "./metainfo_schema.ts";
import { checkPieceLayers } from "./piece_layers.ts";
import {
  sanitizeFilePaths,
  type SanitizeOptions,
  sanitizePath,
  sanitizePathSegment,
} from "./sanitize.ts";
import type { Torrent, TorrentFile } from "./torrent.ts";

/** Limits for {@linkcode parseV2Torrent}. */
export interface V2Limits extends FieldLimits {
  /** Most pieces accepted. */
  readonly maxPieces: number;
}

type MutableFile = { -readonly [K in keyof TorrentFile]: TorrentFile[K] };

/**
 * Parses a document whose `info["meta version"]` is 2.
 *
 * @example
 * ```ts ignore
 * const torrent = parseV2Torrent(bytes, root, {}, limits, []);
 * ```
 *
 * @param document The document's bytes (without trailing bytes).
 * @param root The decoded document.
 * @param options Sanitising options.
 * @param limits Size limits.
 * @param warnings Warnings so far, returned in the torrent.
 * @returns The torrent: version 2, or "hybrid" when it has v1 piece hashes.
 * @throws {TorrentError} naming what is wrong.
 */
export function parseV2Torrent(
  document: Uint8Array,
  root: BencodeDict,
  options: SanitizeOptions,
  limits: V2Limits,
  warnings: string[],
): Torrent {
  const span = infoSpan(document, root);
  const infoBytes = document.subarray(span.start, span.end);
  checkCanonical(infoBytes, limits.maxDepth);
  const value = validateDocument(root, limits);
  const info = value.info;
  const rawInfo = root.get("info") as BencodeDict;
  const pieceLength = info["piece length"];
  if (pieceLength < MERKLE_BLOCK_SIZE || (pieceLength & (pieceLength - 1)) !== 0) {
    throw torrentError('info["piece length"]', "a power of two of at least 16 KiB (BEP 52)");
  }
  const hasV1Files = info.files !== undefined || info.length !== undefined;
  const hybrid = hasV1Files && info.pieces !== undefined;
  const infoHashV2 = new Uint8Array(createHash("sha256").update(infoBytes).digest());
  const infoHashV1 = new Uint8Array(createHash("sha1").update(infoBytes).digest());
  const fallbackName = hasV1Files ? toHex(infoHashV1) : toHex(infoHashV2);
  const name = sanitizePathSegment(info["name.utf-8"] ?? info.name, options) || fallbackName;

  const tree = readFileTree(rawInfo.get("file tree"), info.files !== undefined, limits);
  const v2Files = layoutTree(tree.files, tree.singleFile, name, pieceLength, options);
  const v2Length = totalLength(v2Files);
  if (v2Length === 0) throw torrentError('info["file tree"]', "a total length above 0");
  const pieceCount = Math.ceil(v2Length / pieceLength);
  if (pieceCount > limits.maxPieces) {
    throw torrentError(
      'info["file tree"]',
      `at most ${limits.maxPieces} pieces (maxPieces), found ${pieceCount}`,
    );
  }

  const fields = fieldsOf(info, value);
  // A hybrid is downloaded over v1, so its files are the v1 layout (they may lack the last
  // pad file, as libtorrent 2.0 accepts), carrying the v2 roots of the matching files.
  let files = v2Files;
  if (hasV1Files) {
    const v1Files: MutableFile[] = layoutFiles(fields, name, options).map((file) => ({ ...file }));
    const matches = matchFiles(v1Files, v2Files);
    if (!matches || Math.ceil(totalLength(v1Files) / pieceLength) !== pieceCount) {
      throw torrentError(
        "info.files",
        "the same files as the v2 file tree: same names, order and lengths, each file " +
          "padded to a piece boundary (BEP 52 hybrid)",
      );
    }
    for (const [v2Index, v1Index] of matches) {
      const root = v2Files[v2Index].piecesRoot;
      if (root) v1Files[v1Index].piecesRoot = root;
    }
    if (hybrid) {
      checkPieces(fields, totalLength(v1Files), limits.maxPieces);
      files = v1Files;
    }
    const layers = checkPieceLayers(value["piece layers"], v2Files, pieceLength);
    for (const [index, layer] of layers) {
      const target = hybrid ? matches.get(index) : index;
      if (target !== undefined) files[target].pieceLayer = layer;
    }
  } else {
    const layers = checkPieceLayers(value["piece layers"], v2Files, pieceLength);
    for (const [index, layer] of layers) v2Files[index].pieceLayer = layer;
  }
  const length = totalLength(files);

  const infoHash = hybrid ? infoHashV1 : infoHashV2.slice(0, 20);
  return {
    infoHash,
    infoHashHex: toHex(infoHash),
    version: hybrid ? "hybrid" : 2,
    infoHashV2,
    infoHashV2Hex: toHex(infoHashV2),
    infoHashV2Truncated: infoHashV2.slice(0, 20),
    name,
    pieceLength,
    pieceCount,
    pieceHashes: hybrid ? fields.pieces : new Uint8Array(0),
    files,
    multiFile: !tree.singleFile,
    length,
    ...torrentDetails(fields, root, infoBytes, warnings),
  };
}

/** libtorrent rejects a v2 info dictionary with unsorted or duplicate keys (a "soft" bencode error). */
function checkCanonical(infoBytes: Uint8Array, maxDepth: number): void {
  try {
    decode(infoBytes, { maxDepth, maxLength: infoBytes.length });
  } catch (error) {
    if (!(error instanceof BencodeError)) throw error;
    throw torrentError(
      "info",
      `canonical bencode, keys sorted and unique, as BEP 52 requires (${error.message})`,
      { cause: error },
    );
  }
}

function validateDocument(root: BencodeDict, limits: FieldLimits): MetainfoV2Document {
  const result = tryValidate(metainfoV2Schema, root, { maxDepth: limits.maxDepth });
  const entryProblems = checkFileEntries(root);
  if (!result.ok) {
    const problems: TorrentProblem[] = result.error.problems.map((problem) => ({
      path: problem.path === "" ? "(root)" : problem.path,
      expected: problem.expected,
      found: problem.found,
    }));
    throw new TorrentError([...problems, ...entryProblems], { cause: result.error });
  }
  if (entryProblems.length > 0) throw new TorrentError(entryProblems);
  return result.value;
}

/**
 * The files of a v2 tree in the torrent's byte stream. A single-file torrent is
 * named by its tree key; otherwise paths are `[name, ...path]`, sanitised and
 * de-duplicated like v1 paths, with a pad file after each file that does not end
 * on a piece boundary (the last one too, as libtorrent lays them out).
 */
function layoutTree(
  entries: readonly FileTreeEntry[],
  singleFile: boolean,
  name: string,
  pieceLength: number,
  options: SanitizeOptions,
): MutableFile[] {
  const rawPaths = entries.map((entry) => entry.path);
  const deduplicated = singleFile ? [] : sanitizeFilePaths(rawPaths, options);
  if (!singleFile) checkDuplicateNames(rawPaths, deduplicated, options, 'info["file tree"]');
  const safePaths = singleFile
    ? [sanitizePath(entries[0].path, options)]
    : deduplicated.map((path) => [name, ...path]);
  const files: MutableFile[] = [];
  let offset = 0;
  entries.forEach((entry, i) => {
    const file: MutableFile = {
      path: safePaths[i],
      length: entry.length,
      offset,
      padding: false,
    };
    if (entry.executable) file.executable = true;
    if (entry.hidden) file.hidden = true;
    if (entry.symlinkPath) {
      const target = sanitizePath(entry.symlinkPath, options);
      file.symlinkTarget = singleFile ? target : [name, ...target];
    }
    if (entry.piecesRoot) file.piecesRoot = entry.piecesRoot;
    files.push(file);
    offset += entry.length;
    const tail = offset % pieceLength;
    if (!singleFile && tail !== 0) {
      const pad = pieceLength - tail;
      files.push({ path: [name, ".pad", String(pad)], length: pad, offset, padding: true });
      offset += pad;
    }
    if (!Number.isSafeInteger(offset)) {
      throw torrentError('info["file tree"]', "a total length within 2^53 bytes");
    }
  });
  return files;
}

function totalLength(files: readonly TorrentFile[]): number {
  const last = files[files.length - 1];
  return last ? last.offset + last.length : 0;
}

/**
 * Pairs a hybrid's v1 files with its v2 files, as libtorrent 2.0 compares them: the
 * entries that hold data (not pad files; non-empty, or symlinks), in order, must have the
 * same paths, lengths, offsets and symlink targets (pad files and empty files are free,
 * so a missing last pad is accepted; a missing pad between files moves the next file's
 * offset and is not).
 *
 * @returns v2 index -> v1 index of each such file, or `undefined` when they differ.
 */
function matchFiles(
  v1: readonly TorrentFile[],
  v2: readonly TorrentFile[],
): Map<number, number> | undefined {
  const relevant = (files: readonly TorrentFile[]) =>
    files.flatMap((file, index) =>
      !file.padding && (file.length > 0 || file.symlinkTarget !== undefined) ? [index] : []
    );
  const left = relevant(v1);
  const right = relevant(v2);
  if (left.length !== right.length) return undefined;
  const matches = new Map<number, number>();
  for (let i = 0; i < left.length; i++) {
    const a = v1[left[i]];
    const b = v2[right[i]];
    if (
      a.length !== b.length || a.offset !== b.offset || a.path.join("/") !== b.path.join("/") ||
      (a.symlinkTarget ?? []).join("/") !== (b.symlinkTarget ?? []).join("/")
    ) {
      return undefined;
    }
    matches.set(right[i], left[i]);
  }
  return matches;
}
