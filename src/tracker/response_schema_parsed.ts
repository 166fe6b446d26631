// Generated from the YAML in src/tracker/response_schema.ts by tests/schema/parsed_schemas.ts:
// edit the YAML, then regenerate; tests/schema/shipped_test.ts checks they agree.
/**
 * The shipped schemas of `src/tracker/response_schema.ts` parsed ahead of time, so loading the
 * library runs no YAML parser (`compileParsedSchema` compiles them).
 *
 * @module
 */

/** `TRACKER_RESPONSE_SCHEMA_YAML` as js-yaml parses it. */
export const TRACKER_RESPONSE_SCHEMA_PARSED = {
  "description": "HTTP tracker announce and scrape responses (BEP 3, 7, 23, 24, 31, 48)",
  "root": "AnnounceResponse",
  "types": {
    "Text": { "type": "string", "lossy": true },
    "Count": { "type": "integer", "min": 0 },
    "AnnounceResponse": {
      "type": "dictionary",
      "entries": {
        "failure reason": "Text",
        "retry in": { "type": "Count", "lenient": true },
        "warning message": { "type": "Text", "lenient": true },
        "interval": "Count",
        "min interval": { "type": "Count", "lenient": true },
        "tracker id": { "type": "binary", "lenient": true },
        "complete": { "type": "Count", "lenient": true },
        "incomplete": { "type": "Count", "lenient": true },
        "external ip": {
          "oneOf": [{ "type": "binary", "length": 4 }, { "type": "binary", "length": 16 }],
          "lenient": true,
        },
        "peers": { "oneOf": ["CompactPeers", "PeerList"] },
        "peers6": { "type": "binary", "multipleOf": 18 },
      },
    },
    "CompactPeers": {
      "description": "4-byte IPv4 address and 2-byte port per peer (BEP 23)",
      "type": "binary",
      "multipleOf": 6,
    },
    "PeerList": { "type": "list", "skipInvalid": true, "items": "Peer" },
    "Peer": {
      "type": "dictionary",
      "entries": {
        "peer id": { "type": "binary", "length": 20, "lenient": true },
        "ip": { "type": "string", "minLength": 1, "maxLength": 255, "required": true },
        "port": { "type": "integer", "min": 1, "max": 65535, "required": true },
      },
    },
    "ScrapeResponse": {
      "type": "dictionary",
      "entries": {
        "failure reason": "Text",
        "files": {
          "type": "dictionary",
          "keys": { "type": "binary", "length": 20 },
          "values": "ScrapeCounts",
        },
      },
    },
    "ScrapeCounts": {
      "type": "dictionary",
      "entries": {
        "complete": { "type": "Count", "lenient": true },
        "downloaded": { "type": "Count", "lenient": true },
        "incomplete": { "type": "Count", "lenient": true },
        "name": { "type": "Text", "lenient": true },
      },
    },
  },
};
