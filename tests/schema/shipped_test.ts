import assert from "node:assert/strict";
import { BencodeDict, decode, type Encodable, encode } from "../../src/bencode/mod.ts";
import { tryValidate, validate } from "../../src/schema/mod.ts";
import {
  type MetainfoDocument,
  metainfoFileV2Schema,
  metainfoSchema,
  metainfoV2Schema,
} from "../../src/metainfo/metainfo_schema.ts";
import {
  announceResponseSchema,
  scrapeResponseSchema,
  type TrackerAnnounceBody,
} from "../../src/tracker/response_schema.ts";

import { PARSED_SCHEMAS, parseShipped } from "./parsed_schemas.ts";

const bencoded = (value: Encodable) => decode(encode(value));
const utf8 = (text: string) => new TextEncoder().encode(text);

const singleFile = {
  announce: "http://tracker.example/announce",
  "announce-list": [["http://tracker.example/announce"], ["udp://backup.example:6969"]],
  comment: "a comment",
  "created by": "Bittern 0.1",
  "creation date": 1700000000,
  info: {
    name: "ubuntu.iso",
    "piece length": 262144,
    pieces: new Uint8Array(60),
    length: 700000,
    private: 1,
  },
};

Deno.test("metainfo schema: a real-looking single-file torrent", () => {
  const value: MetainfoDocument = validate(metainfoSchema, bencoded(singleFile));
  assert.equal(value.info.name, "ubuntu.iso");
  assert.equal(value.info["piece length"], 262144);
  assert.equal(value.info.pieces.length, 60);
  assert.equal(value.info.length, 700000);
  assert.equal(value.info.private, 1);
  assert.deepEqual(value["announce-list"], singleFile["announce-list"]);
  assert.equal(value["creation date"], 1700000000);
});

Deno.test("metainfo schema: a multi-file torrent with utf-8 variants and padding files", () => {
  const doc = bencoded({
    info: {
      name: new Uint8Array([0x63, 0x61, 0x66, 0xe9]), // "café" in Latin-1: not UTF-8
      "name.utf-8": "café",
      "piece length": 16384,
      pieces: new Uint8Array(20),
      files: [
        { length: 5, path: ["dir", "a.txt"], "path.utf-8": ["dir", "a.txt"] },
        { length: 16379, path: [".pad", "16379"], attr: "p" },
        { length: 0, path: ["empty"] },
      ],
    },
  });
  const value = validate(metainfoSchema, doc);
  assert.equal(value.info.name, "caf\ufffd");
  assert.equal(value.info["name.utf-8"], "café");
  assert.equal(value.info.files?.length, 3);
  assert.equal(value.info.files?.[1].attr, "p");
  assert.deepEqual(value.info.files?.[0]["path.utf-8"], ["dir", "a.txt"]);
});

Deno.test("metainfo schema: messy descriptive fields are dropped, not fatal (as libtorrent)", () => {
  const doc = bencoded({
    announce: 5,
    "announce-list": [["http://a"], "not a tier", [7, "http://b"]],
    comment: ["not", "text"],
    "creation date": "2024-01-01",
    "url-list": ["http://seed", 3],
    info: {
      name: "x",
      "name.utf-8": new Uint8Array([0xff]),
      "piece length": 1,
      pieces: new Uint8Array(0),
      length: 0,
    },
  });
  const value = validate(metainfoSchema, doc);
  assert.equal(value.announce, undefined);
  assert.deepEqual(value["announce-list"], [["http://a"], ["http://b"]]);
  assert.equal(value.comment, undefined);
  assert.equal(value["creation date"], undefined);
  assert.deepEqual(value["url-list"], ["http://seed"]);
  assert.equal("name.utf-8" in value.info, false);
});

Deno.test("metainfo schema: broken essentials are all reported with paths", () => {
  const doc = bencoded({
    info: {
      "piece length": 0,
      pieces: new Uint8Array(19),
      private: 2,
      files: [{ length: 1, path: ["ok"] }, { length: -1, path: [] }, { path: ["x"] }],
      length: 5,
    },
  });
  const result = tryValidate(metainfoSchema, doc);
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => p.path), [
    "info.files[1].length",
    "info.files[1].path",
    // A missing length is the parser's to report (a BEP 47 symlink may lack it).
    'info["piece length"]',
    "info.pieces",
    "info.private",
    "info.name",
    "info",
  ]);
  assert.equal(tryValidate(metainfoSchema, bencoded({ announce: "x" })).ok, false);
  assert.equal(tryValidate(metainfoSchema, bencoded([1])).ok, false);
});

Deno.test("tracker schema: compact and dictionary peers, IPv6, informational fields", () => {
  const compact: TrackerAnnounceBody = validate(
    announceResponseSchema,
    bencoded({
      interval: 1800,
      "min interval": 900,
      complete: 5,
      incomplete: 2,
      peers: new Uint8Array(12),
      peers6: new Uint8Array(18),
      "tracker id": "abc",
      "external ip": new Uint8Array([127, 0, 0, 1]),
    }),
  );
  assert.equal(compact.interval, 1800);
  assert.ok(compact.peers instanceof Uint8Array);
  assert.equal(compact.peers6?.length, 18);
  assert.deepEqual(compact["tracker id"], utf8("abc"));

  const listed = validate(
    announceResponseSchema,
    bencoded({
      interval: 60,
      peers: [
        { "peer id": new Uint8Array(20), ip: "10.0.0.1", port: 6881 },
        { ip: "::1", port: 0 }, // port 0: skipped
        { ip: "host.example", port: 51413, "peer id": "short" }, // bad id dropped
        "garbage",
      ],
      "min interval": "soon",
    }),
  );
  assert.deepEqual(listed.peers, [
    { "peer id": new Uint8Array(20), ip: "10.0.0.1", port: 6881 },
    { ip: "host.example", port: 51413 },
  ]);
  assert.equal(listed["min interval"], undefined);
});

Deno.test("tracker schema: failure responses and malformed essentials", () => {
  const failure = validate(
    announceResponseSchema,
    bencoded({ "failure reason": "unregistered torrent", "retry in": 60 }),
  );
  assert.equal(failure["failure reason"], "unregistered torrent");
  const result = tryValidate(
    announceResponseSchema,
    bencoded({ interval: -1, peers: new Uint8Array(7), peers6: new Uint8Array(17) }),
  );
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => p.path), ["interval", "peers", "peers6"]);
});

Deno.test("tracker schema: scrape responses keyed by raw info hash", () => {
  const hashA = new Uint8Array(20).fill(0xaa);
  const hashB = new Uint8Array(20).fill(0xbb);
  const files = new BencodeDict([
    [hashA, bencoded({ complete: 3, downloaded: 10, incomplete: 1 })],
    [hashB, bencoded({ complete: 0, downloaded: 0, incomplete: 0, name: "x" })],
  ]);
  const value = validate(scrapeResponseSchema, new BencodeDict([["files", files]]));
  assert.deepEqual([...value.files?.keys() ?? []], [hashA, hashB]);
  assert.deepEqual(value.files?.get([...value.files.keys()][0]), {
    complete: 3,
    downloaded: 10,
    incomplete: 1,
  });
  const bad = new BencodeDict([["files", new BencodeDict([[new Uint8Array(3), 5]])]]);
  const result = tryValidate(scrapeResponseSchema, bad);
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => p.path), [
    "files[0x000000]",
    "files[0x000000]",
  ]);
});

Deno.test("metainfo v2 schema: meta version 2, a file tree, piece layers; leaves checked alone", () => {
  const root = new Uint8Array(32).fill(1);
  const doc = bencoded({
    info: {
      name: "x",
      "piece length": 16384,
      "meta version": 2,
      "file tree": { "a.txt": { "": { length: 5, "pieces root": root } } },
    },
    "piece layers": new Map([[root, new Uint8Array(64)]]),
  });
  const value = validate(metainfoV2Schema, doc);
  assert.equal(value.info["meta version"], 2);
  assert.deepEqual([...value["piece layers"]!.keys()], [root]);
  const leaf = validate(
    metainfoFileV2Schema,
    bencoded({ length: 5, attr: "x", "pieces root": root }),
  );
  assert.equal(leaf.attr, "x");
  const wrong = tryValidate(
    metainfoV2Schema,
    bencoded({ info: { name: "x", "piece length": 16384, "meta version": 3, "file tree": 5 } }),
  );
  assert.ok(!wrong.ok);
  assert.deepEqual(wrong.error.problems.map((p) => p.path).sort(), [
    'info["file tree"]',
    'info["meta version"]',
  ]);
});

Deno.test("the shipped schemas parsed ahead of time equal what js-yaml makes of their YAML today", () => {
  assert.equal(PARSED_SCHEMAS.length, 3);
  for (const { yamlName, yaml, parsedName, parsed, module } of PARSED_SCHEMAS) {
    const fresh = parseShipped(yaml);
    const hint = `${parsedName} (${module}) differs from ${yamlName}: ` +
      "deno run --allow-write tests/schema/parsed_schemas.ts && deno fmt src/";
    assert.deepEqual(parsed, fresh, hint);
    // Entries are checked, and their problems listed, in key order: it must match too.
    assert.equal(JSON.stringify(parsed), JSON.stringify(fresh), hint);
  }
});
