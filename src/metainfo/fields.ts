/**
 * Reading the fields of a decoded metainfo document into a typed shape: the
 * single validation step of {@linkcode parseTorrent}. Validation is the
 * shipped YAML schema ({@linkcode metainfoSchema}); this adds the size limits
 * and picks the `.utf-8` variants. It knows nothing of sanitising or layout.
 */
import { BencodeDict, type BencodeValue } from "../bencode/mod.ts";
import { tryValidate } from "../schema/mod.ts";
import { TorrentError, type TorrentProblem } from "./errors.ts";
import { metainfoSchema } from "./metainfo_schema.ts";

/** One entry of `info.files`, as read. */
export interface RawFileEntry {
  /** `length`. */
  readonly length: number;
  /** `path.utf-8` when valid, else `path` (invalid UTF-8 as U+FFFD). */
  readonly path: readonly string[];
  /** BEP 47 `attr` contains `p`. */
  readonly padding: boolean;
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
  if (!result.ok) {
    const problems = result.error.problems.map((problem) => ({
      path: problem.path === "" ? "(root)" : problem.path,
      expected: problem.expected,
      found: problem.found,
    }));
    throw new TorrentError(problems, { cause: result.error });
  }
  const { info, ...top } = result.value;
  return {
    name: info["name.utf-8"] ?? info.name,
    pieceLength: info["piece length"],
    pieces: info.pieces,
    private: info.private === 1,
    length: info.length,
    files: info.files?.map((file) => ({
      length: file.length,
      path: file["path.utf-8"] ?? file.path,
      padding: file.attr?.includes("p") ?? false,
    })),
    announce: top.announce,
    announceList: top["announce-list"],
    creationDate: top["creation date"],
    createdBy: top["created by"],
    comment: top["comment.utf-8"] ?? top.comment,
  };
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
