/**
 * The shipped schema of a BitTorrent v1 metainfo file (BEP 3, with BEP 12
 * `announce-list`, BEP 19 `url-list`, BEP 27 `private`, BEP 47 `attr`).
 * It is YAML text kept in a module, so it works under `deno compile` and
 * without read permission; {@linkcode metainfoSchema} is loaded once.
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
import { loadSchema } from "../schema/mod.ts";
import type { Schema } from "../schema/mod.ts";

/** The metainfo schema as YAML (see {@linkcode loadSchema} for the format). */
export const METAINFO_SCHEMA_YAML = `
description: BitTorrent v1 metainfo (BEP 3, 12, 19, 27, 47)
root: Metainfo
types:
  Text: { type: string, lossy: true }
  StrictText: { type: string }
  Metainfo:
    type: dictionary
    entries:
      announce: { type: StrictText, lenient: true }
      announce-list: { type: AnnounceList, lenient: true }
      comment: { type: Text, lenient: true }
      comment.utf-8: { type: StrictText, lenient: true }
      created by: { type: Text, lenient: true }
      creation date: { type: integer, lenient: true }
      encoding: { type: StrictText, lenient: true }
      url-list: { oneOf: [StrictText, UrlList], lenient: true }
      info: { type: Info, required: true }
  AnnounceList:
    description: tiers of tracker URLs; malformed tiers and URLs are skipped
    type: list
    skipInvalid: true
    items: { type: list, skipInvalid: true, items: StrictText }
  UrlList: { type: list, skipInvalid: true, items: StrictText }
  Info:
    type: dictionary
    exclusive:
      - { keys: [length, files], required: true }
    entries:
      name: { type: Text, required: true }
      name.utf-8: { type: StrictText, lenient: true }
      piece length: { type: integer, min: 1, required: true }
      pieces: { type: binary, multipleOf: 20, required: true }
      private: { type: integer, min: 0, max: 1 }
      source: { type: StrictText, lenient: true }
      length: { type: integer, min: 0 }
      files: { type: list, minItems: 1, items: File }
  File:
    type: dictionary
    entries:
      length: { type: integer, min: 0, required: true }
      path: { type: list, minItems: 1, items: Text, required: true }
      path.utf-8: { type: list, minItems: 1, items: StrictText, lenient: true }
      attr: { type: StrictText, lenient: true }
`;

/** One entry of `info.files`, validated. */
export interface MetainfoFileEntry {
  /** Length in bytes. */
  length: number;
  /** Path segments (invalid UTF-8 decoded with replacement characters). */
  path: string[];
  /** Path segments from `path.utf-8`, when present and valid. */
  "path.utf-8"?: string[];
  /** BEP 47 attributes, e.g. `"p"` for a padding file. */
  attr?: string;
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

/** The loaded metainfo schema; `validate(metainfoSchema, decoded)` returns a {@linkcode MetainfoDocument}. */
export const metainfoSchema: Schema<MetainfoDocument> = loadSchema<MetainfoDocument>(
  METAINFO_SCHEMA_YAML,
);
