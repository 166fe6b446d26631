/**
 * Reading the fields of a decoded metainfo document into a typed shape: the
 * single validation step of {@linkcode parseTorrent}. Validation is the
 * shipped YAML schema ({@linkcode metainfoSchema}); this adds the size limits
 * and picks the `.utf-8` variants. It knows nothing of sanitising or layout.
 */
import { BencodeDict, type BencodeValue } from "../bencode/mod.ts";
import { tryValidate } from "../schema/mod.ts";
import { TorrentError, type TorrentProblem } from "./errors.ts";
import { type MetainfoFileEntry, metainfoSchema } from "./metainfo_schema.ts";

/** One entry of `info.files`, as read. */
export interface RawFileEntry {
  /** `length` (0 for a BEP 47 symlink, whatever it says, as libtorrent reads it). */
  readonly length: number;
  /**
   * `path.utf-8` when valid, else `path` (invalid UTF-8 as U+FFFD); for a pad file
   * without a path, `[".pad", length]` (as libtorrent names it).
   */
  readonly path: readonly string[];
  /** BEP 47 `attr` contains `p`. */
  readonly padding: boolean;
  /** BEP 47 `attr` contains `x`. */
  readonly executable: boolean;
  /** BEP 47 `attr` contains `h`. */
  readonly hidden: boolean;
  /** BEP 47 `symlink path` of an entry whose `attr` contains `l` (raw segments). */
  readonly symlinkPath?: readonly string[];
}

/** BEP 47 attributes of a file entry (v1 or v2). */
export interface FileAttributes {
  /** `p`: a pad file. */
  readonly padding: boolean;
  /** `l`: a symlink. */
  readonly symlink: boolean;
  /** `x`: executable. */
  readonly executable: boolean;
  /** `h`: hidden. */
  readonly hidden: boolean;
}

/**
 * Reads a BEP 47 `attr` string (unknown letters are ignored, as libtorrent does).
 *
 * @example
 * ```ts ignore
 * readAttributes("xh").executable; // true
 * ```
 */
export function readAttributes(attr: string | undefined): FileAttributes {
  const text = attr ?? "";
  return {
    padding: text.includes("p"),
    symlink: text.includes("l"),
    executable: text.includes("x"),
    hidden: text.includes("h"),
  };
}

/** The metainfo fields Bittern uses, type-checked but not yet interpreted. */
export interface MetainfoFields {
  /** `info.name.utf-8` when valid, else `info.name`. */
  readonly name: string;
  /** `info["piece length"]`. */
  readonly pieceLength: number;
  /** `info.pieces`. */
  readonly pieces: Uint8Array;
  /** `info.private` is 1. */
  readonly private: boolean;
  /** `info.length` (single-file torrents). */
  readonly length?: number;
  /** `info.files` (multi-file torrents). */
  readonly files?: readonly RawFileEntry[];
  /** `announce`. */
  readonly announce?: string;
  /** `announce-list` tiers (malformed tiers and URLs dropped). */
  readonly announceList?: readonly (readonly string[])[];
  /** `creation date` in seconds. */
  readonly creationDate?: number;
  /** `created by`. */
  readonly createdBy?: string;
  /** `comment.utf-8` when valid, else `comment`. */
  readonly comment?: string;
}

/** Limits applied while reading fields. */
export interface FieldLimits {
  /** Most entries accepted in `info.files`. */
  readonly maxFiles: number;
  /** Most segments accepted in one file's `path`. */
  readonly maxPathSegments: number;
  /** Deepest nesting checked. */
  readonly maxDepth: number;
}

/**
 * Reads and type-checks the metainfo fields of a decoded document.
 *
 * @example
 * ```ts ignore
 * const fields = readMetainfoFields(decode(bytes, { allowUnsortedKeys: true }), limits);
 * ```
 *
 * @param root The decoded document.
 * @param limits How many files and path segments to accept.
 * @returns The typed fields.
 * @throws {TorrentError} naming every wrong field.
 */
export function readMetainfoFields(root: BencodeValue, limits: FieldLimits): MetainfoFields {
  checkLimits(root, limits);
  const result = tryValidate(metainfoSchema, root, { maxDepth: limits.maxDepth });
  const entryProblems = checkFileEntries(root);
  if (!result.ok) {
    const problems = result.error.problems.map((problem) => ({
      path: problem.path === "" ? "(root)" : problem.path,
      expected: problem.expected,
      found: problem.found,
    }));
    throw new TorrentError(mergeProblems(problems, entryProblems), { cause: result.error });
  }
  if (entryProblems.length > 0) throw new TorrentError(entryProblems);
  const { info, ...top } = result.value;
  return fieldsOf(info, top);
}

/** A validated `info` dictionary, v1 or v2 (a v2-only one has no `pieces`). */
export interface ValidatedInfo {
  readonly name: string;
  readonly "name.utf-8"?: string;
  readonly "piece length": number;
  readonly pieces?: Uint8Array;
  readonly private?: number;
  readonly length?: number;
  readonly files?: readonly MetainfoFileEntry[];
}

/** The validated top level of a metainfo document, outside `info`. */
export interface ValidatedTop {
  readonly announce?: string;
  readonly "announce-list"?: readonly (readonly string[])[];
  readonly "creation date"?: number;
  readonly "created by"?: string;
  readonly comment?: string;
  readonly "comment.utf-8"?: string;
}

/**
 * The fields of a validated document, the same for both metainfo versions.
 *
 * @example
 * ```ts
 * import { fieldsOf } from "./fields.ts";
 *
 * const fields = fieldsOf({ name: "a", "piece length": 16384, length: 1 }, {});
 * console.log(fields.pieces.length); // 0: no v1 piece hashes
 * ```
 *
 * @param info The validated `info` dictionary.
 * @param top The validated top level.
 * @returns The fields Bittern uses.
 */
export function fieldsOf(info: ValidatedInfo, top: ValidatedTop): MetainfoFields {
  return {
    name: info["name.utf-8"] ?? info.name,
    pieceLength: info["piece length"],
    pieces: info.pieces ?? new Uint8Array(0),
    private: info.private === 1,
    length: info.length,
    files: info.files?.map(readFileEntry),
    announce: top.announce,
    announceList: top["announce-list"],
    creationDate: top["creation date"],
    createdBy: top["created by"],
    comment: top["comment.utf-8"] ?? top.comment,
  };
}

/**
 * One validated `info.files` entry as libtorrent reads it (BEP 47): a symlink's length is 0;
 * a pad file without a path is `.pad/<length>`; a symlink without `symlink path` is a plain
 * (empty) file.
 */
export function readFileEntry(file: MetainfoFileEntry): RawFileEntry {
  const attributes = readAttributes(file.attr);
  const length = attributes.symlink ? 0 : file.length ?? 0;
  const path = file["path.utf-8"] ?? file.path ?? [".pad", String(length)];
  const entry: { -readonly [K in keyof RawFileEntry]: RawFileEntry[K] } = {
    length,
    path,
    padding: attributes.padding,
    executable: attributes.executable,
    hidden: attributes.hidden,
  };
  if (attributes.symlink && file["symlink path"]) entry.symlinkPath = file["symlink path"];
  return entry;
}

/**
 * The `info.files` rules the schema cannot say (they depend on `attr`): `length` is required
 * unless the entry is a symlink, `path` unless it is a pad file, and a pad file cannot be a
 * symlink. Checked on the raw document, so they are reported with the schema's problems.
 */
export function checkFileEntries(root: BencodeValue): TorrentProblem[] {
  const info = root instanceof BencodeDict ? root.get("info") : undefined;
  const files = info instanceof BencodeDict ? info.get("files") : undefined;
  if (!Array.isArray(files)) return [];
  const problems: TorrentProblem[] = [];
  files.forEach((entry, i) => {
    if (!(entry instanceof BencodeDict)) return;
    const attr = entry.get("attr");
    const attributes = readAttributes(attr instanceof Uint8Array ? latin1(attr) : undefined);
    if (attributes.padding && attributes.symlink) {
      problems.push({ path: `info.files[${i}].attr`, expected: "a pad file that is no symlink" });
    }
    if (!attributes.symlink && !entry.has("length")) {
      problems.push({
        path: `info.files[${i}].length`,
        expected: "a length (only a symlink may lack it)",
      });
    }
    if (!attributes.padding && !entry.has("path") && !entry.has("path.utf-8")) {
      problems.push({
        path: `info.files[${i}].path`,
        expected: "a path (only a pad file may lack it)",
      });
    }
  });
  return problems;
}

/** Schema problems and {@linkcode checkFileEntries} problems, in document order of the files. */
function mergeProblems(
  schema: readonly TorrentProblem[],
  entries: readonly TorrentProblem[],
): TorrentProblem[] {
  const fileIndex = (problem: TorrentProblem): number => {
    const match = problem.path.match(/^info\.files\[(\d+)\]/);
    return match ? Number(match[1]) : Infinity;
  };
  const merged = [...schema];
  for (const problem of entries) {
    const at = merged.findIndex((other) => fileIndex(other) > fileIndex(problem));
    merged.splice(at < 0 ? merged.length : at, 0, problem);
  }
  return merged;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes.subarray(0, 64));
}

/** Size limits, checked on the raw document before validation does any work. */
function checkLimits(root: BencodeValue, limits: FieldLimits): void {
  const info = root instanceof BencodeDict ? root.get("info") : undefined;
  const files = info instanceof BencodeDict ? info.get("files") : undefined;
  if (!Array.isArray(files)) return;
  const problems: TorrentProblem[] = [];
  if (files.length > limits.maxFiles) {
    problems.push({ path: "info.files", expected: `at most ${limits.maxFiles} files (maxFiles)` });
  } else {
    for (let i = 0; i < files.length; i++) {
      const entry = files[i];
      if (!(entry instanceof BencodeDict)) continue;
      for (const key of ["path", "path.utf-8"]) {
        const path = entry.get(key);
        if (Array.isArray(path) && path.length > limits.maxPathSegments) {
          problems.push({
            path: `info.files[${i}]${key === "path" ? ".path" : '["path.utf-8"]'}`,
            expected: `at most ${limits.maxPathSegments} segments (maxPathSegments)`,
          });
        }
      }
    }
  }
  if (problems.length > 0) throw new TorrentError(problems);
}
