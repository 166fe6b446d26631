// Generated from the YAML in src/metainfo/metainfo_schema.ts by tests/schema/parsed_schemas.ts:
// edit the YAML, then regenerate; tests/schema/shipped_test.ts checks they agree.
/**
 * The shipped schemas of `src/metainfo/metainfo_schema.ts` parsed ahead of time, so loading the
 * library runs no YAML parser (`compileParsedSchema` compiles them).
 *
 * @module
 */

/** `METAINFO_SCHEMA_YAML` as js-yaml parses it. */
export const METAINFO_SCHEMA_PARSED = {
  "description": "BitTorrent v1 metainfo (BEP 3, 12, 19, 27, 47)",
  "root": "Metainfo",
  "types": {
    "Text": { "type": "string", "lossy": true },
    "StrictText": { "type": "string" },
    "AnnounceList": {
      "description": "tiers of tracker URLs; malformed tiers and URLs are skipped",
      "type": "list",
      "skipInvalid": true,
      "items": { "type": "list", "skipInvalid": true, "items": "StrictText" },
    },
    "UrlList": { "type": "list", "skipInvalid": true, "items": "StrictText" },
    "Path": { "type": "list", "minItems": 1, "items": "Text" },
    "File": {
      "type": "dictionary",
      "entries": {
        "length": { "type": "integer", "min": 0 },
        "path": { "type": "Path" },
        "path.utf-8": { "type": "list", "minItems": 1, "items": "StrictText", "lenient": true },
        "attr": { "type": "StrictText", "lenient": true },
        "symlink path": { "type": "list", "items": "Text" },
      },
    },
    "FileV2": {
      "description": "a leaf of the v2 file tree, under the empty key",
      "type": "dictionary",
      "entries": {
        "length": { "type": "integer", "min": 0 },
        "pieces root": { "type": "binary" },
        "attr": { "type": "StrictText", "lenient": true },
        "symlink path": { "type": "list", "items": "Text" },
      },
    },
    "PieceLayers": {
      "description": "pieces root -> concatenated SHA-256 piece hashes (checked in code)",
      "type": "dictionary",
      "keys": "binary",
      "values": "any",
    },
    "Metainfo": {
      "type": "dictionary",
      "entries": {
        "announce": { "type": "StrictText", "lenient": true },
        "announce-list": { "type": "AnnounceList", "lenient": true },
        "comment": { "type": "Text", "lenient": true },
        "comment.utf-8": { "type": "StrictText", "lenient": true },
        "created by": { "type": "Text", "lenient": true },
        "creation date": { "type": "integer", "lenient": true },
        "encoding": { "type": "StrictText", "lenient": true },
        "url-list": { "oneOf": ["StrictText", "UrlList"], "lenient": true },
        "info": { "type": "Info", "required": true },
      },
    },
    "Info": {
      "type": "dictionary",
      "exclusive": [{ "keys": ["length", "files"], "required": true }],
      "entries": {
        "name": { "type": "Text", "required": true },
        "name.utf-8": { "type": "StrictText", "lenient": true },
        "piece length": { "type": "integer", "min": 1, "required": true },
        "private": { "type": "integer", "min": 0, "max": 1 },
        "source": { "type": "StrictText", "lenient": true },
        "pieces": { "type": "binary", "multipleOf": 20, "required": true },
        "length": { "type": "integer", "min": 0 },
        "files": { "type": "list", "minItems": 1, "items": "File" },
      },
    },
  },
};

/** `METAINFO_V2_SCHEMA_YAML` as js-yaml parses it. */
export const METAINFO_V2_SCHEMA_PARSED = {
  "description": "BitTorrent v2 and hybrid metainfo (BEP 52, with BEP 3, 12, 19, 27, 47)",
  "root": "MetainfoV2",
  "types": {
    "Text": { "type": "string", "lossy": true },
    "StrictText": { "type": "string" },
    "AnnounceList": {
      "description": "tiers of tracker URLs; malformed tiers and URLs are skipped",
      "type": "list",
      "skipInvalid": true,
      "items": { "type": "list", "skipInvalid": true, "items": "StrictText" },
    },
    "UrlList": { "type": "list", "skipInvalid": true, "items": "StrictText" },
    "Path": { "type": "list", "minItems": 1, "items": "Text" },
    "File": {
      "type": "dictionary",
      "entries": {
        "length": { "type": "integer", "min": 0 },
        "path": { "type": "Path" },
        "path.utf-8": { "type": "list", "minItems": 1, "items": "StrictText", "lenient": true },
        "attr": { "type": "StrictText", "lenient": true },
        "symlink path": { "type": "list", "items": "Text" },
      },
    },
    "FileV2": {
      "description": "a leaf of the v2 file tree, under the empty key",
      "type": "dictionary",
      "entries": {
        "length": { "type": "integer", "min": 0 },
        "pieces root": { "type": "binary" },
        "attr": { "type": "StrictText", "lenient": true },
        "symlink path": { "type": "list", "items": "Text" },
      },
    },
    "PieceLayers": {
      "description": "pieces root -> concatenated SHA-256 piece hashes (checked in code)",
      "type": "dictionary",
      "keys": "binary",
      "values": "any",
    },
    "MetainfoV2": {
      "type": "dictionary",
      "entries": {
        "announce": { "type": "StrictText", "lenient": true },
        "announce-list": { "type": "AnnounceList", "lenient": true },
        "comment": { "type": "Text", "lenient": true },
        "comment.utf-8": { "type": "StrictText", "lenient": true },
        "created by": { "type": "Text", "lenient": true },
        "creation date": { "type": "integer", "lenient": true },
        "encoding": { "type": "StrictText", "lenient": true },
        "url-list": { "oneOf": ["StrictText", "UrlList"], "lenient": true },
        "piece layers": { "type": "PieceLayers", "lenient": true },
        "info": { "type": "InfoV2", "required": true },
      },
    },
    "InfoV2": {
      "type": "dictionary",
      "exclusive": [["length", "files"]],
      "entries": {
        "name": { "type": "Text", "required": true },
        "name.utf-8": { "type": "StrictText", "lenient": true },
        "piece length": { "type": "integer", "min": 1, "required": true },
        "private": { "type": "integer", "min": 0, "max": 1 },
        "source": { "type": "StrictText", "lenient": true },
        "meta version": { "type": "integer", "min": 2, "max": 2, "required": true },
        "file tree": { "type": "dictionary", "required": true },
        "pieces": { "type": "binary", "multipleOf": 20 },
        "length": { "type": "integer", "min": 0 },
        "files": { "type": "list", "minItems": 1, "items": "File" },
      },
    },
  },
};
