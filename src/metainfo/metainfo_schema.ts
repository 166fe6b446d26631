/**
 * The shipped schemas of a metainfo file: v1 (BEP 3, with BEP 12
 * `announce-list`, BEP 19 `url-list`, BEP 27 `private`, BEP 47 `attr`) and
 * v2 or hybrid (BEP 52 `meta version`, `file tree`, `piece layers`).
 * They are YAML text kept in a module, so they work under `deno compile` and
 * without read permission; {@linkcode metainfoSchema} and
 * {@linkcode metainfoV2Schema} are loaded once.
 *
 * Leniency follows libtorrent: the torrent only fails on what it cannot do
 * without (`info` with `name`, `piece length`, `pieces`, and `length` xor
 * `files`). Descriptive fields (`announce`, `announce-list` tiers and URLs,
 * `comment`, `created by`, `creation date`, `encoding`, `url-list`, the
 * `.utf-8` variants, `attr`) are dropped when malformed instead of failing
 * the torrent. `name` and `path` elements that are not valid UTF-8 are
 * decoded with U+FFFD replacement characters (legacy encodings), while
 * `name.utf-8` / `path.utf-8` must be valid to be used. `private` must be
 * exactly 0 or 1: guessing wrong could leak a private torrent to public peers.
 */
import type { BencodeValue } from "../bencode/mod.ts";
import { loadSchema, loadSchemaDocument } from "../schema/mod.ts";
import type { Schema } from "../schema/mod.ts";

/**
 * The types shared by the v1 and v2 schemas. `File` is an entry of a v1 `files` list (BEP 3,
 * with BEP 47 attributes: a symlink (`l`) may lack `length`, a pad file (`p`) may lack `path`,
 * as libtorrent accepts); `FileV2` is a leaf of a v2 `file tree` (BEP 52), whose nesting is
 * walked in code (it can be deep; each leaf is checked against `FileV2`).
 */
const SHARED_TYPES = `
  Text: { type: string, lossy: true }
  StrictText: { type: string }
  AnnounceList:
    description: tiers of tracker URLs; malformed tiers and URLs are skipped
    type: list
    skipInvalid: true
    items: { type: list, skipInvalid: true, items: StrictText }
  UrlList: { type: list, skipInvalid: true, items: StrictText }
  Path: { type: list, minItems: 1, items: Text }
  File:
    type: dictionary
    entries:
      length: { type: integer, min: 0 }
      path: { type: Path }
      path.utf-8: { type: list, minItems: 1, items: StrictText, lenient: true }
      attr: { type: StrictText, lenient: true }
      symlink path: { type: list, items: Text }
  FileV2:
    description: a leaf of the v2 file tree, under the empty key
    type: dictionary
    entries:
      length: { type: integer, min: 0 }
      pieces root: { type: binary }
      attr: { type: StrictText, lenient: true }
      symlink path: { type: list, items: Text }
  PieceLayers:
    description: pieces root -> concatenated SHA-256 piece hashes (checked in code)
    type: dictionary
    keys: binary
    values: any
`;

/** The top-level entries shared by the v1 and v2 schemas. */
const SHARED_TOP_ENTRIES = `
      announce: { type: StrictText, lenient: true }
      announce-list: { type: AnnounceList, lenient: true }
      comment: { type: Text, lenient: true }
      comment.utf-8: { type: StrictText, lenient: true }
      created by: { type: Text, lenient: true }
      creation date: { type: integer, lenient: true }
      encoding: { type: StrictText, lenient: true }
      url-list: { oneOf: [StrictText, UrlList], lenient: true }`;

/** The `info` entries shared by the v1 and v2 schemas. */
const SHARED_INFO_ENTRIES = `
      name: { type: Text, required: true }
      name.utf-8: { type: StrictText, lenient: true }
      piece length: { type: integer, min: 1, required: true }
      private: { type: integer, min: 0, max: 1 }
      source: { type: StrictText, lenient: true }`;

/** The metainfo schema of a v1 torrent as YAML (see {@linkcode loadSchema} for the format). */
export const METAINFO_SCHEMA_YAML = `
description: BitTorrent v1 metainfo (BEP 3, 12, 19, 27, 47)
root: Metainfo
types:${SHARED_TYPES}
  Metainfo:
    type: dictionary
    entries:${SHARED_TOP_ENTRIES}
      info: { type: Info, required: true }
  Info:
    type: dictionary
    exclusive:
      - { keys: [length, files], required: true }
    entries:${SHARED_INFO_ENTRIES}
      pieces: { type: binary, multipleOf: 20, required: true }
      length: { type: integer, min: 0 }
      files: { type: list, minItems: 1, items: File }
`;

/**
 * The metainfo schema of a v2 or hybrid torrent (BEP 52: `meta version` 2, `file tree`,
 * `piece layers`; a hybrid also has the v1 `pieces` and `length` or `files`) as YAML.
 */
export const METAINFO_V2_SCHEMA_YAML = `
description: BitTorrent v2 and hybrid metainfo (BEP 52, with BEP 3, 12, 19, 27, 47)
root: MetainfoV2
types:${SHARED_TYPES}
  MetainfoV2:
    type: dictionary
    entries:${SHARED_TOP_ENTRIES}
      piece layers: { type: PieceLayers, lenient: true }
      info: { type: InfoV2, required: true }
  InfoV2:
    type: dictionary
    exclusive:
      - [length, files]
    entries:${SHARED_INFO_ENTRIES}
      meta version: { type: integer, min: 2, max: 2, required: true }
      file tree: { type: dictionary, required: true }
      pieces: { type: binary, multipleOf: 20 }
      length: { type: integer, min: 0 }
      files: { type: list, minItems: 1, items: File }
`;

/** One entry of `info.files`, validated. */
export interface MetainfoFileEntry {
  /** Length in bytes (a BEP 47 symlink may lack it). */
  length?: number;
  /** Path segments (invalid UTF-8 decoded with replacement characters); a pad file may lack it. */
  path?: string[];
  /** Path segments from `path.utf-8`, when present and valid. */
  "path.utf-8"?: string[];
  /** BEP 47 attributes: `p` pad, `l` symlink, `x` executable, `h` hidden. */
  attr?: string;
  /** BEP 47 target of a symlink (`attr` has `l`), relative to the torrent's root. */
  "symlink path"?: string[];
}

/** A leaf of a v2 `file tree` (the dictionary under the empty key), validated. */
export interface MetainfoFileV2Entry {
  /** Length in bytes (a BEP 47 symlink may lack it). */
  length?: number;
  /** Root of the file's SHA-256 merkle tree (32 bytes when valid; checked in code). */
  "pieces root"?: Uint8Array;
  /** BEP 47 attributes. */
  attr?: string;
  /** BEP 47 target of a symlink. */
  "symlink path"?: string[];
}

/** The `info` dictionary, validated. Exactly one of `length` and `files` is present. */
export interface MetainfoInfo {
  /** Suggested name (invalid UTF-8 decoded with replacement characters). */
  name: string;
  /** `name.utf-8`, when present and valid. */
  "name.utf-8"?: string;
  /** Nominal piece length in bytes (>= 1). */
  "piece length": number;
  /** Concatenated 20-byte SHA-1 piece hashes (a view into the input). */
  pieces: Uint8Array;
  /** BEP 27 private flag: 0 or 1. */
  private?: number;
  /** Source tag used by private trackers. */
  source?: string;
  /** Length of a single-file torrent. */
  length?: number;
  /** Files of a multi-file torrent (at least one). */
  files?: MetainfoFileEntry[];
}

/** A metainfo document, validated. */
export interface MetainfoDocument {
  /** Tracker URL. */
  announce?: string;
  /** BEP 12 tiers of tracker URLs (malformed tiers and URLs dropped). */
  "announce-list"?: string[][];
  /** Free-text comment. */
  comment?: string;
  /** `comment.utf-8`, when valid. */
  "comment.utf-8"?: string;
  /** Program that created the torrent. */
  "created by"?: string;
  /** Creation time in seconds since the epoch. */
  "creation date"?: number;
  /** Declared legacy text encoding. */
  encoding?: string;
  /** BEP 19 web seed URL or URLs. */
  "url-list"?: string | string[];
  /** The info dictionary. */
  info: MetainfoInfo;
}

/** The `info` dictionary of a v2 or hybrid torrent, validated. */
export interface MetainfoInfoV2 extends Omit<MetainfoInfo, "pieces"> {
  /** BEP 52 version: 2. */
  "meta version": number;
  /** The file tree: checked to be a dictionary here, walked in code (its leaves are checked with {@linkcode metainfoFileV2Schema}). */
  "file tree": Record<string, never>;
  /** A hybrid's concatenated 20-byte SHA-1 piece hashes. */
  pieces?: Uint8Array;
}

/** A v2 or hybrid metainfo document, validated. */
export interface MetainfoV2Document extends Omit<MetainfoDocument, "info"> {
  /** Pieces root -> concatenated SHA-256 piece hashes (sizes checked in code). */
  "piece layers"?: Map<Uint8Array, BencodeValue>;
  /** The info dictionary. */
  info: MetainfoInfoV2;
}

/** The loaded metainfo schema; `validate(metainfoSchema, decoded)` returns a {@linkcode MetainfoDocument}. */
export const metainfoSchema: Schema<MetainfoDocument> = loadSchema<MetainfoDocument>(
  METAINFO_SCHEMA_YAML,
);

const v2Document = loadSchemaDocument(METAINFO_V2_SCHEMA_YAML);

/** The loaded v2 metainfo schema; validates to a {@linkcode MetainfoV2Document}. */
export const metainfoV2Schema: Schema<MetainfoV2Document> = v2Document
  .root as Schema<MetainfoV2Document>;

/** The `FileV2` type of the v2 schema: one leaf of a `file tree`. */
export const metainfoFileV2Schema: Schema<MetainfoFileV2Entry> = v2Document.types.get(
  "FileV2",
) as Schema<MetainfoFileV2Entry>;
