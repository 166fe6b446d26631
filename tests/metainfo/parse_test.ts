import assert from "node:assert/strict";
import { BencodeError } from "../../src/bencode/mod.ts";
import { parseTorrent, pieceHashAt, pieceLengthAt, TorrentError } from "../../src/metainfo/mod.ts";
import { pieces, sha1Hex, singleInfo, torrentBytes } from "./helpers.ts";

const utf8 = new TextEncoder();

function problemsOf(bytes: Uint8Array, options = {}): string[] {
  try {
    parseTorrent(bytes, options);
  } catch (error) {
    assert.ok(error instanceof TorrentError, `expected TorrentError, got ${error}`);
    return error.problems.map((p) => p.path);
  }
  assert.fail("parseTorrent accepted the input");
}

Deno.test("parseTorrent reads a single-file torrent", () => {
  const hashes = new Uint8Array(60).map((_, i) => i);
  const bytes = torrentBytes(singleInfo({ pieces: hashes, private: 1 }), {
    announce: "http://tracker/announce",
    comment: "hello",
    "created by": "test 1.0",
    "creation date": 1_700_000_000,
  });
  const torrent = parseTorrent(bytes);
  assert.equal(torrent.name, "file.bin");
  assert.equal(torrent.pieceLength, 16384);
  assert.equal(torrent.pieceCount, 3);
  assert.equal(torrent.length, 40000);
  assert.equal(torrent.multiFile, false);
  assert.equal(torrent.private, true);
  assert.deepEqual(torrent.files, [{
    path: ["file.bin"],
    length: 40000,
    offset: 0,
    padding: false,
  }]);
  assert.deepEqual(torrent.announce, [["http://tracker/announce"]]);
  assert.equal(torrent.comment, "hello");
  assert.equal(torrent.createdBy, "test 1.0");
  assert.equal(torrent.creationDate?.getTime(), 1_700_000_000_000);
  assert.deepEqual(pieceHashAt(torrent, 2), hashes.subarray(40, 60));
  assert.equal(pieceLengthAt(torrent, 0), 16384);
  assert.equal(pieceLengthAt(torrent, 2), 40000 - 2 * 16384);
});

Deno.test("parseTorrent hashes the raw info bytes, even when they are not canonical", () => {
  // Keys out of order: a re-encoding would change the hash.
  const info = `d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:${"a".repeat(20)}e`;
  const unsorted = `d6:pieces20:${"a".repeat(20)}4:name1:x6:lengthi5e12:piece lengthi16384ee`;
  for (const infoText of [info, unsorted]) {
    const bytes = utf8.encode(`d8:announce3:url4:info${infoText}e`);
    const torrent = parseTorrent(bytes);
    assert.equal(torrent.infoHashHex, sha1Hex(utf8.encode(infoText)));
    assert.equal(new TextDecoder().decode(torrent.infoBytes), infoText);
  }
});

Deno.test("parseTorrent lays out multi-file torrents with offsets and padding files", () => {
  const bytes = torrentBytes({
    name: "dir",
    "piece length": 16384,
    pieces: pieces(2),
    files: [
      { length: 100, path: ["a", "one.txt"] },
      { length: 16284, path: [".pad", "16284"], attr: "p" },
      { length: 200, path: ["two.txt"], attr: "x" },
    ],
  });
  const torrent = parseTorrent(bytes);
  assert.equal(torrent.multiFile, true);
  assert.equal(torrent.length, 16584);
  assert.deepEqual(torrent.files, [
    { path: ["dir", "a", "one.txt"], length: 100, offset: 0, padding: false },
    { path: ["dir", ".pad", "16284"], length: 16284, offset: 100, padding: true },
    { path: ["dir", "two.txt"], length: 200, offset: 16384, padding: false, executable: true },
  ]);
});

Deno.test("parseTorrent prefers name.utf-8 and path.utf-8", () => {
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: invalid UTF-8
  const bytes = torrentBytes({
    name: latin1,
    "name.utf-8": "café",
    "piece length": 16384,
    pieces: pieces(1),
    files: [{ length: 10, path: [latin1], "path.utf-8": ["menü", "naïve.txt"] }],
  });
  const torrent = parseTorrent(bytes);
  assert.equal(torrent.name, "café");
  assert.deepEqual(torrent.files[0].path, ["café", "menü", "naïve.txt"]);
});

Deno.test("parseTorrent turns invalid UTF-8 into _", () => {
  const bytes = torrentBytes(singleInfo({ name: new Uint8Array([0x61, 0xff, 0x62]) }));
  assert.equal(parseTorrent(bytes).name, "a_b");
});

Deno.test("parseTorrent reads announce-list tiers and falls back to announce", () => {
  const tiers = [["http://a/1", "http://a/2"], ["udp://b/3"]];
  const withList = torrentBytes(singleInfo(), { announce: "http://x/", "announce-list": tiers });
  assert.deepEqual(parseTorrent(withList).announce, tiers);
  // Empty tiers and non-string entries are skipped; an empty list falls back.
  const messy = torrentBytes(singleInfo(), {
    announce: "http://x/",
    "announce-list": [[], [5, "http://c/"], [""]],
  });
  assert.deepEqual(parseTorrent(messy).announce, [["http://c/"]]);
  const emptyList = torrentBytes(singleInfo(), { announce: "http://x/", "announce-list": [] });
  assert.deepEqual(parseTorrent(emptyList).announce, [["http://x/"]]);
  assert.deepEqual(parseTorrent(torrentBytes(singleInfo())).announce, []);
});

Deno.test("parseTorrent sanitises hostile file names", () => {
  const bytes = torrentBytes({
    name: "..",
    "piece length": 16384,
    pieces: pieces(1),
    files: [
      { length: 1, path: ["..", "..", "etc", "passwd"] },
      { length: 1, path: ["/abs"] },
      { length: 1, path: ["C:", "win.ini"] },
      { length: 1, path: ["a\\..\\..\\b"] },
      { length: 1, path: ["nul\u0000byte"] },
      { length: 1, path: ["CON"] },
      { length: 1, path: ["trailing. "] },
      { length: 1, path: [""] },
      { length: 1, path: [".."] },
      { length: 1, path: ["etc", "passwd"] },
    ],
  });
  const torrent = parseTorrent(bytes);
  // A name that sanitises to nothing becomes the info hash.
  assert.equal(torrent.name, torrent.infoHashHex);
  assert.deepEqual(torrent.files.map((f) => f.path.slice(1)), [
    ["etc", "passwd"],
    ["_abs"],
    ["win.ini"],
    ["a_.._.._b"],
    ["nul_byte"],
    ["_CON"],
    ["trailing"],
    ["_"],
    ["_.1"],
    ["etc", "passwd.1"],
  ]);
});

Deno.test("parseTorrent names the wrong field", () => {
  const cases: [Uint8Array, string[]][] = [
    [torrentBytes(singleInfo({ pieces: new Uint8Array(59) })), ["info.pieces"]],
    [torrentBytes(singleInfo({ pieces: pieces(2) })), ["info.pieces"]],
    [torrentBytes(singleInfo({ pieces: pieces(4) })), ["info.pieces"]],
    [torrentBytes(singleInfo({ name: 5 })), ["info.name"]],
    [torrentBytes(singleInfo({ "piece length": 0 })), ['info["piece length"]']],
    [torrentBytes(singleInfo({ length: -1 })), ["info.length"]],
    [torrentBytes(singleInfo({ length: 0, pieces: pieces(0) })), ["info.length"]],
    [torrentBytes(singleInfo({ files: [{ length: 1, path: ["x"] }] })), ["info"]],
    [
      torrentBytes({
        name: "d",
        "piece length": 16384,
        pieces: pieces(1),
        files: [{ length: 1, path: ["x"] }, { length: "1", path: "x" }, { path: [5] }],
      }),
      [
        "info.files[1].length",
        "info.files[1].path",
        "info.files[2].length",
        "info.files[2].path[0]",
      ],
    ],
    [torrentBytes({ name: "d", "piece length": 16384, pieces: pieces(1), files: [] }), [
      "info.files",
    ]],
    [utf8.encode("d4:infoi5ee"), ["info"]],
    [utf8.encode("d8:announce1:xe"), ["info"]],
    [utf8.encode("le"), ["(root)"]],
  ];
  for (const [bytes, paths] of cases) {
    assert.deepEqual(problemsOf(bytes).toSorted(), paths.toSorted());
  }
});

Deno.test("parseTorrent reports several problems at once", () => {
  const bytes = torrentBytes({ "piece length": -5, pieces: new Uint8Array(21), length: 1 });
  assert.deepEqual(problemsOf(bytes).toSorted(), [
    "info.name",
    "info.pieces",
    'info["piece length"]',
  ]);
});

Deno.test("parseTorrent wraps bencode errors, keeping the cause", () => {
  for (const text of ["", "d4:info", "i12", "d4:infod4:name1:xe4:infodee"]) {
    try {
      parseTorrent(utf8.encode(text));
      assert.fail(`accepted ${JSON.stringify(text)}`);
    } catch (error) {
      assert.ok(error instanceof TorrentError);
      assert.ok(error.cause instanceof BencodeError);
      assert.deepEqual(error.paths, ["(root)"]);
    }
  }
});

Deno.test("parseTorrent enforces its limits", () => {
  const many = torrentBytes({
    name: "d",
    "piece length": 16384,
    pieces: pieces(1),
    files: Array.from({ length: 11 }, (_, i) => ({ length: 1, path: [`f${i}`] })),
  });
  assert.deepEqual(problemsOf(many, { maxFiles: 10 }), ["info.files"]);
  assert.equal(parseTorrent(many, { maxFiles: 11 }).files.length, 11);
  const deep = torrentBytes({
    name: "d",
    "piece length": 16384,
    pieces: pieces(1),
    files: [{ length: 1, path: Array.from({ length: 5 }, () => "x") }],
  });
  assert.deepEqual(problemsOf(deep, { maxPathSegments: 4 }), ["info.files[0].path"]);
  assert.deepEqual(problemsOf(torrentBytes(singleInfo()), { maxBytes: 10 }), ["(root)"]);
  const nested = utf8.encode("d4:info" + "l".repeat(100) + "e".repeat(100) + "e");
  assert.deepEqual(problemsOf(nested), ["(root)"]);
});

Deno.test("parseTorrent rejects lengths beyond 2^53 as a TorrentError", () => {
  const huge = torrentBytes(singleInfo({ length: 2n ** 60n }));
  assert.deepEqual(problemsOf(huge), ["info.length"]);
  const sum = torrentBytes({
    name: "d",
    "piece length": 16384,
    pieces: pieces(1),
    files: [{ length: 2 ** 52, path: ["a"] }, { length: 2 ** 52, path: ["b"] }],
  });
  assert.deepEqual(problemsOf(sum), ["info.files[1].length"]);
});

Deno.test("the info span is exact wherever info sits and however keys are ordered", () => {
  const info = `d4:name1:x12:piece lengthi16384e6:pieces20:${"a".repeat(20)}6:lengthi5ee`;
  const documents = [
    `d4:info${info}e`,
    `d4:info${info}8:announce3:urle`,
    `d1:zd1:bi1e1:ai2ee4:info${info}1:ali-7ei0e5:12345ee`,
    `d7:commentd1:yle1:xdee4:info${info}13:creation datei123456789012345678901234567890ee`,
  ];
  for (const text of documents) {
    const torrent = parseTorrent(utf8.encode(text));
    assert.equal(new TextDecoder().decode(torrent.infoBytes), info, text);
  }
});
