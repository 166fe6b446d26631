/**
 * Reading a BEP 52 `file tree`: nested dictionaries whose leaves hold a file's
 * `length`, `pieces root` and BEP 47 attributes under the empty key. The walk is
 * iterative (a tree can be deep) and bounded (files, depth), with libtorrent's
 * rules: a pad file cannot be in a v2 tree, every non-empty file has a 32-byte
 * `pieces root` that is not all zeros (an empty file needs none), a symlink
 * without a target is read as a plain file.
 */
import { BencodeDict, type BencodeValue } from "../bencode/mod.ts";
import { binaryToBytes } from "../bencode/dict.ts";
import { tryValidate } from "../schema/mod.ts";
import { TorrentError, torrentError, type TorrentProblem } from "./errors.ts";
import { readAttributes } from "./fields.ts";
import { MERKLE_BLOCK_SIZE } from "./merkle.ts";
import { metainfoFileV2Schema } from "./metainfo_schema.ts";

/** One file of a v2 file tree, as read (names raw, not yet sanitised). */
export interface FileTreeEntry {
  /** Raw path segments below the tree's root. */
  readonly path: readonly string[];
  /** Length in bytes (0 for a symlink). */
  readonly length: number;
  /** The 32-byte `pieces root`; absent for a symlink and (usually) an empty file. */
  readonly piecesRoot?: Uint8Array;
  /** BEP 47 `x`. */
  readonly executable: boolean;
  /** BEP 47 `h`. */
  readonly hidden: boolean;
  /** BEP 47 `symlink path` (raw segments) of a symlink. */
  readonly symlinkPath?: readonly string[];
}

/** A file tree, as read. */
export interface FileTree {
  /** Files in tree order (keys sorted, depth first), as libtorrent lists them. */
  readonly files: FileTreeEntry[];
  /**
   * Whether the tree is one file at its top (a single-file torrent: the file's
   * name is its key, not `info.name`). Never when the info also has a v1 `files` list.
   */
  readonly singleFile: boolean;
}

/** Limits for {@linkcode readFileTree}. */
export interface FileTreeLimits {
  /** Most files accepted. */
  readonly maxFiles: number;
  /** Deepest nesting of directories accepted. */
  readonly maxPathSegments: number;
}

/** libtorrent fails a tree nested deeper than this. */
const MAX_TREE_DEPTH = 100;
/** libtorrent's bound on a v2 file's length: its block count must fit in half an `int`. */
const MAX_BLOCKS = 0x3fffffff;
const PIECES_ROOT_LENGTH = 32;
const WHERE = 'info["file tree"]';
const utf8 = new TextDecoder();

/**
 * Reads `info["file tree"]`.
 *
 * @example
 * ```ts ignore
 * const tree = readFileTree(info.get("file tree"), false, { maxFiles: 1000, maxPathSegments: 256 });
 * ```
 *
 * @param tree The raw `file tree` value.
 * @param hasV1Files Whether the info also has a v1 `files` list (a hybrid's single file is
 *   then still a file in a directory).
 * @param limits How many files and how deep.
 * @returns The files, in order.
 * @throws {TorrentError} naming the entry that is wrong.
 */
export function readFileTree(
  tree: BencodeValue | undefined,
  hasV1Files: boolean,
  limits: FileTreeLimits,
): FileTree {
  if (!(tree instanceof BencodeDict)) throw torrentError(WHERE, "a dictionary");
  const files: FileTreeEntry[] = [];
  const maxDepth = Math.min(MAX_TREE_DEPTH, limits.maxPathSegments);
  let singleFile = false;
  const stack: { dict: BencodeDict; index: number; path: string[] }[] = [
    { dict: tree, index: 0, path: [] },
  ];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.index >= frame.dict.size) {
      stack.pop();
      continue;
    }
    const key = frame.dict.binaryKeys[frame.index];
    const value = frame.dict.rawValues[frame.index];
    frame.index++;
    const name = utf8.decode(binaryToBytes(key));
    const path = [...frame.path, name];
    const where = `${WHERE}${path.map((segment) => `[${JSON.stringify(segment)}]`).join("")}`;
    if (key === "" || !(value instanceof BencodeDict)) {
      throw torrentError(where, "a dictionary under a non-empty name");
    }
    if (value.size === 1 && value.binaryKeys[0] === "") {
      if (files.length >= limits.maxFiles) {
        throw torrentError(WHERE, `at most ${limits.maxFiles} files (maxFiles)`);
      }
      if (stack.length === 1 && tree.size === 1 && !hasV1Files) singleFile = true;
      files.push(readLeaf(value.rawValues[0], path, `${where}[""]`));
      continue;
    }
    if (path.length >= maxDepth) {
      throw torrentError(where, `at most ${maxDepth} nested directories`);
    }
    stack.push({ dict: value, index: 0, path });
  }
  if (files.length === 0) throw torrentError(WHERE, "at least one file");
  return { files, singleFile };
}

function readLeaf(value: BencodeValue, path: string[], where: string): FileTreeEntry {
  const result = tryValidate(metainfoFileV2Schema, value);
  if (!result.ok) {
    const problems: TorrentProblem[] = result.error.problems.map((problem) => ({
      path: problem.path === "" ? where : `${where}.${problem.path}`,
      expected: problem.expected,
      found: problem.found,
    }));
    throw new TorrentError(problems, { cause: result.error });
  }
  const leaf = result.value;
  const attributes = readAttributes(leaf.attr);
  if (attributes.padding) throw torrentError(`${where}.attr`, "no pad file (p) in a v2 file tree");
  const target = attributes.symlink ? leaf["symlink path"] : undefined;
  const symlink = target !== undefined && target.length > 0;
  // A symlink without a target is read as a plain file (libtorrent clears the flag in v1).
  if (!symlink && leaf.length === undefined && !attributes.symlink) {
    throw torrentError(`${where}.length`, "a length (only a symlink may lack it)");
  }
  const length = symlink ? 0 : leaf.length ?? 0;
  if (Math.floor(length / MERKLE_BLOCK_SIZE) >= MAX_BLOCKS) {
    throw torrentError(`${where}.length`, `a length below ${MAX_BLOCKS} blocks of 16 KiB`);
  }
  const entry: { -readonly [K in keyof FileTreeEntry]: FileTreeEntry[K] } = {
    path,
    length,
    executable: attributes.executable,
    hidden: attributes.hidden,
  };
  if (symlink) {
    entry.symlinkPath = target;
    return entry;
  }
  // An empty file has no root (libtorrent writes none); any other file needs one.
  const root = leaf["pieces root"];
  if (length === 0) {
    if (root?.length === PIECES_ROOT_LENGTH) entry.piecesRoot = root;
    return entry;
  }
  if (!root || root.length !== PIECES_ROOT_LENGTH) {
    throw torrentError(`${where}["pieces root"]`, "a 32-byte SHA-256 merkle root");
  }
  if (root.every((byte) => byte === 0)) {
    throw torrentError(`${where}["pieces root"]`, "the merkle root of a non-empty file, not zeros");
  }
  entry.piecesRoot = root;
  return entry;
}
