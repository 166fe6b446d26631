/**
 * Reading the fields of a decoded metainfo document into a typed shape, with
 * every problem named by its field path. This is the single validation step of
 * {@linkcode parseTorrent}; it knows nothing of sanitising or layout.
 */
import { BencodeDict, type BencodeValue } from "../bencode/mod.ts";
import { TorrentError, type TorrentProblem } from "./errors.ts";

/** One entry of `info.files`, as read. */
export interface RawFileEntry {
  /** `length`. */
  readonly length: number;
  /** `path.utf-8` when it is a valid list of strings, else `path`. */
  readonly path: readonly Uint8Array[];
  /** `attr` (BEP 47), when present. */
  readonly attr?: Uint8Array;
}

/** The metainfo fields Bittern uses, type-checked but not yet interpreted. */
export interface MetainfoFields {
  /** `info.name.utf-8` when it is a string, else `info.name`. */
  readonly name: Uint8Array;
  /** `info["piece length"]`. */
  readonly pieceLength: number;
  /** `info.pieces`. */
  readonly pieces: Uint8Array;
  /** `info.private` is the integer 1. */
  readonly private: boolean;
  /** `info.length` (single-file torrents). */
  readonly length?: number;
  /** `info.files` (multi-file torrents). */
  readonly files?: readonly RawFileEntry[];
  /** `announce`, when a string. */
  readonly announce?: Uint8Array;
  /** `announce-list` tiers, keeping only the string entries. */
  readonly announceList?: readonly (readonly Uint8Array[])[];
  /** `creation date` in seconds, when an integer. */
  readonly creationDate?: number;
  /** `created by`, when a string. */
  readonly createdBy?: Uint8Array;
  /** `comment` (`comment.utf-8` preferred), when a string. */
  readonly comment?: Uint8Array;
}

/** Limits applied while reading fields. */
export interface FieldLimits {
  /** Most entries accepted in `info.files`. */
  readonly maxFiles: number;
  /** Most segments accepted in one file's `path`. */
  readonly maxPathSegments: number;
}

/** Collects problems while reading, so one error can name them all. */
class FieldReader {
  readonly problems: TorrentProblem[] = [];

  problem(path: string, expected: string): undefined {
    this.problems.push({ path, expected });
    return undefined;
  }

  dict(value: BencodeValue | undefined, path: string): BencodeDict | undefined {
    if (value instanceof BencodeDict) return value;
    return this.problem(path, value === undefined ? "a dictionary (missing)" : "a dictionary");
  }

  bytes(value: BencodeValue | undefined, path: string): Uint8Array | undefined {
    if (value instanceof Uint8Array) return value;
    return this.problem(path, value === undefined ? "a string (missing)" : "a string");
  }

  integer(value: BencodeValue | undefined, path: string, min: number): number | undefined {
    if (typeof value === "number" && value >= min) return value;
    if (value === undefined) return this.problem(path, "an integer (missing)");
    if (typeof value === "bigint" && value > 0n) {
      return this.problem(path, `an integer of at most ${Number.MAX_SAFE_INTEGER}`);
    }
    return this.problem(path, `an integer of at least ${min}`);
  }
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
  const reader = new FieldReader();
  const top = reader.dict(root, "(root)");
  const info = top && reader.dict(top.get("info"), "info");
  if (!top || !info) throw new TorrentError(reader.problems);

  const name = utf8Variant(info, "name") ?? reader.bytes(info.get("name"), "info.name");
  const pieceLength = reader.integer(info.get("piece length"), "info.piece length", 1);
  const pieces = reader.bytes(info.get("pieces"), "info.pieces");
  if (pieces && pieces.length % 20 !== 0) {
    reader.problem("info.pieces", `a multiple of 20 bytes (got ${pieces.length})`);
  }
  const hasLength = info.has("length");
  const hasFiles = info.has("files");
  let length: number | undefined;
  let files: RawFileEntry[] | undefined;
  if (hasLength && hasFiles) {
    reader.problem("info", "either length or files, not both");
  } else if (hasFiles) {
    files = readFiles(reader, info.get("files"), limits);
  } else {
    length = reader.integer(info.get("length"), "info.length", 0);
  }

  const problemsBefore = reader.problems.length;
  if (problemsBefore > 0 || !name || pieceLength === undefined || !pieces) {
    throw new TorrentError(reader.problems);
  }
  return {
    name,
    pieceLength,
    pieces,
    private: info.get("private") === 1,
    length,
    files,
    announce: optionalBytes(top.get("announce")),
    announceList: readAnnounceList(top.get("announce-list")),
    creationDate: optionalInteger(top.get("creation date")),
    createdBy: optionalBytes(top.get("created by")),
    comment: utf8Variant(top, "comment") ?? optionalBytes(top.get("comment")),
  };
}

function readFiles(
  reader: FieldReader,
  value: BencodeValue | undefined,
  limits: FieldLimits,
): RawFileEntry[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return reader.problem("info.files", "a non-empty list");
  }
  if (value.length > limits.maxFiles) {
    return reader.problem("info.files", `at most ${limits.maxFiles} files (maxFiles)`);
  }
  const files: RawFileEntry[] = [];
  for (let i = 0; i < value.length; i++) {
    const where = `info.files[${i}]`;
    const entry = reader.dict(value[i], where);
    if (!entry) continue;
    const length = reader.integer(entry.get("length"), `${where}.length`, 0);
    const path = pathVariant(entry.get("path.utf-8")) ??
      readPath(reader, entry.get("path"), `${where}.path`, limits);
    const attr = optionalBytes(entry.get("attr"));
    if (length !== undefined && path) files.push({ length, path, attr });
  }
  return files;
}

function readPath(
  reader: FieldReader,
  value: BencodeValue | undefined,
  where: string,
  limits: FieldLimits,
): Uint8Array[] | undefined {
  if (!Array.isArray(value)) return reader.problem(where, "a list of strings");
  if (value.length > limits.maxPathSegments) {
    return reader.problem(where, `at most ${limits.maxPathSegments} segments (maxPathSegments)`);
  }
  for (let i = 0; i < value.length; i++) {
    if (!(value[i] instanceof Uint8Array)) return reader.problem(`${where}[${i}]`, "a string");
  }
  return value as Uint8Array[];
}

/** A `path.utf-8` list, used only when it is well formed (else `path` is read). */
function pathVariant(value: BencodeValue | undefined): Uint8Array[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.every((segment) => segment instanceof Uint8Array)
    ? value as Uint8Array[]
    : undefined;
}

function utf8Variant(dict: BencodeDict, key: string): Uint8Array | undefined {
  return optionalBytes(dict.get(`${key}.utf-8`));
}

function optionalBytes(value: BencodeValue | undefined): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

function optionalInteger(value: BencodeValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/** Tiers of string URLs; other entries and empty tiers are skipped, as libtorrent does. */
function readAnnounceList(value: BencodeValue | undefined): Uint8Array[][] | undefined {
  if (!Array.isArray(value)) return undefined;
  const tiers: Uint8Array[][] = [];
  for (const tier of value) {
    if (!Array.isArray(tier)) continue;
    const urls = tier.filter((url): url is Uint8Array => url instanceof Uint8Array);
    if (urls.length > 0) tiers.push(urls);
  }
  return tiers;
}
