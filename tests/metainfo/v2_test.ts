/**
 * v2 (BEP 52) and hybrid metainfo: what parseTorrent exposes, what it refuses, and which
 * v2-only sources a Runtime refuses (torrents without piece layers).
 */
import assert from "node:assert/strict";
import { encode } from "../../src/bencode/mod.ts";
import {
  parseTorrent,
  pieceLayerRoot,
  TorrentError,
  visibleFiles,
} from "../../src/metainfo/mod.ts";
import { Runtime } from "../../src/session/mod.ts";
import { MemoryStorage } from "../../src/storage/mod.ts";
import { buildV2Torrent } from "./libtorrent_cases.ts";

const MB = 1 << 20;

function problemPaths(bytes: Uint8Array): string[] {
  try {
    parseTorrent(bytes);
  } catch (error) {
    assert.ok(error instanceof TorrentError, String(error));
    return error.paths;
  }
  assert.fail("expected a TorrentError");
}

Deno.test("v2-only: version, hashes, pad files between files, roots and layers", () => {
  const bytes = buildV2Torrent([
    { path: ["big.bin"], length: MB + 5 },
    { path: ["dir", "small.txt"], length: 100, attr: "xh" },
    { path: ["empty"], length: 0 },
  ], { name: "set", pieceLength: 65536 });
  const torrent = parseTorrent(bytes);
  assert.equal(torrent.version, 2);
  assert.equal(torrent.infoHashV2?.length, 32);
  assert.equal(torrent.infoHashV2Hex?.length, 64);
  assert.deepEqual(torrent.infoHash, torrent.infoHashV2Truncated);
  assert.equal(torrent.infoHashHex, torrent.infoHashV2Hex?.slice(0, 40));
  assert.equal(torrent.pieceHashes.length, 0);
  assert.deepEqual(
    torrent.files.map((file) => [file.path.join("/"), file.length, file.offset, file.padding]),
    [
      ["set/big.bin", MB + 5, 0, false],
      ["set/.pad/65531", 65531, MB + 5, true],
      ["set/dir/small.txt", 100, MB + 65536, false],
      ["set/.pad/65436", 65436, MB + 65636, true],
      ["set/empty", 0, MB + 131072, false],
    ],
  );
  assert.equal(torrent.pieceCount, 18);
  const [big, small, empty] = visibleFiles(torrent);
  assert.equal(big.pieceLayer?.length, 17 * 32);
  const hashes = Array.from(
    { length: 17 },
    (_, i) => big.pieceLayer!.subarray(i * 32, i * 32 + 32),
  );
  assert.deepEqual(pieceLayerRoot(hashes, 65536), big.piecesRoot);
  assert.equal(small.pieceLayer, undefined);
  assert.equal(small.executable, true);
  assert.equal(small.hidden, true);
  assert.deepEqual(empty.piecesRoot, new Uint8Array(32)); // as written; an empty file may have none
  assert.deepEqual(torrent.warnings, []);
});

Deno.test("hybrid: the v1 info hash leads, the v2 hash is there too", () => {
  const torrent = parseTorrent(buildV2Torrent([
    { path: ["a"], length: 70_000 },
    { path: ["b"], length: 10 },
  ], { hybrid: true }));
  assert.equal(torrent.version, "hybrid");
  assert.equal(torrent.pieceHashes.length, torrent.pieceCount * 20);
  assert.notDeepEqual(torrent.infoHash, torrent.infoHashV2Truncated);
});

Deno.test("hybrid: v1 files that differ from the v2 tree are refused", () => {
  const files = [{ path: ["a"], length: 70_000 }, { path: ["b"], length: 10 }];
  const renamed = buildV2Torrent(files, {
    hybrid: true,
    v1Files: (list) => list.map((entry, i) => i === 0 ? { ...entry, path: ["z"] } : entry),
  });
  const resized = buildV2Torrent(files, {
    hybrid: true,
    v1Files: (list) => list.map((entry, i) => i === 2 ? { ...entry, length: 11 } : entry),
  });
  const reordered = buildV2Torrent(files, {
    hybrid: true,
    v1Files: (list) => [list[2], list[3], list[0], list[1]],
  });
  for (const bytes of [renamed, resized, reordered]) {
    assert.deepEqual(problemPaths(bytes), ["info.files"]);
  }
});

Deno.test("v2: bad piece length, pad file in the tree, zero root and bad layer are named", () => {
  assert.deepEqual(
    problemPaths(buildV2Torrent([{ path: ["a"], length: 9 }], { pieceLength: 8192 })),
    [
      'info["piece length"]',
    ],
  );
  assert.deepEqual(
    problemPaths(
      buildV2Torrent([{ path: ["a"], length: 9 }, { path: ["p"], length: 9, attr: "p" }]),
    ),
    ['info["file tree"]["p"][""].attr'],
  );
  assert.deepEqual(
    problemPaths(buildV2Torrent([{ path: ["a"], length: 9, root: new Uint8Array(32) }])),
    ['info["file tree"]["a"][""]["pieces root"]'],
  );
  const badLayer = buildV2Torrent([{ path: ["a"], length: MB }], {
    pieceLength: 65536,
    layers: (layers) => new Map([...layers].map(([root]) => [root, new Uint8Array(16 * 32)])),
  });
  assert.match(problemPaths(badLayer)[0], /^\["piece layers"\]\[[0-9a-f]{64}\]$/);
});

Deno.test("bytes after the root dictionary are accepted with a warning", () => {
  const bytes = buildV2Torrent([{ path: ["a"], length: 9 }]);
  const torrent = parseTorrent(new Uint8Array([...bytes, 0x0a, 0x78]));
  assert.deepEqual(torrent.warnings, ["2 bytes after the root dictionary were ignored"]);
  assert.deepEqual(torrent.infoBytes, parseTorrent(bytes).infoBytes);
});

Deno.test("BEP 47 in v1: symlink without length, pad without path, executable and hidden", () => {
  const torrent = parseTorrent(encode({
    info: {
      name: "t",
      "piece length": 16384,
      pieces: new Uint8Array(40),
      files: [
        { length: 100, path: ["bin", "run"], attr: "x" },
        { length: 16284, attr: "p" },
        { path: ["link"], attr: "l", "symlink path": ["..", "..", "bin", "run"] },
        { length: 5, path: [".hidden"], attr: "h" },
      ],
    },
  }));
  assert.deepEqual(torrent.files.map((file) => file.path.join("/")), [
    "t/bin/run",
    "t/.pad/16284",
    "t/link",
    "t/.hidden",
  ]);
  assert.equal(torrent.files[0].executable, true);
  assert.deepEqual(torrent.files[2].symlinkTarget, ["t", "bin", "run"]); // ".." dropped
  assert.equal(torrent.files[2].length, 0);
  assert.equal(torrent.files[3].hidden, true);
});

Deno.test("a Runtime takes v2-only torrents and btmh-only magnets, refuses torrents without layers", async () => {
  await using runtime = new Runtime({ listen: false });
  const v2Only = parseTorrent(buildV2Torrent([{ path: ["a"], length: 9 }]));
  const magnet = await runtime.add(`magnet:?xt=urn:btmh:1220${v2Only.infoHashV2Hex}`, {
    storage: new MemoryStorage(),
    start: false,
  });
  assert.equal(magnet.infoHash, v2Only.infoHashHex);
  await magnet.stop();
  const noLayers = buildV2Torrent([{ path: ["big"], length: 40_000 }], { layers: "none" });
  await assert.rejects(
    runtime.add(noLayers, { storage: new MemoryStorage(), start: false }),
    (error: unknown) =>
      error instanceof TorrentError && error.code === "v2-only-unsupported" &&
      /piece layer of .*big/.test(error.message),
  );
  for (const source of [v2Only, buildV2Torrent([{ path: ["b"], length: 9 }])]) {
    const session = await runtime.add(source, { storage: new MemoryStorage(), start: false });
    assert.equal(session.torrent.version, 2);
  }
  const hybrid = parseTorrent(
    buildV2Torrent([{ path: ["a"], length: 9 }], { name: "a", hybrid: true }),
  );
  const session = await runtime.add(hybrid, { storage: new MemoryStorage(), start: false });
  assert.equal(session.torrent.infoHashHex, hybrid.infoHashHex);
});

Deno.test("hybrid: files are the v1 layout (a missing last pad is accepted) with v2 roots", () => {
  const torrent = parseTorrent(buildV2Torrent(
    [{ path: ["a"], length: 70_000 }, { path: ["b"], length: 1000 }],
    { hybrid: true, v1Files: (files) => files.slice(0, -1) },
  ));
  assert.deepEqual(torrent.files.map((file) => [file.path.join("/"), file.length]), [
    ["temp/a", 70_000],
    ["temp/.pad/11920", 11920],
    ["temp/b", 1000],
  ]);
  assert.equal(torrent.length, 82_920); // the v1 pieces cover these bytes
  assert.equal(torrent.pieceCount, 6);
  const [a, b] = visibleFiles(torrent);
  assert.equal(a.piecesRoot?.length, 32);
  assert.equal(a.pieceLayer?.length, 5 * 32);
  assert.equal(b.piecesRoot?.length, 32);
});

Deno.test("hostile v2: file counts, nesting and names are bounded; nothing escapes", () => {
  const many = buildV2Torrent(
    Array.from({ length: 50 }, (_, i) => ({ path: [`f${i}`], length: 10 })),
  );
  assert.throws(() => parseTorrent(many, { maxFiles: 49 }), /at most 49 files \(maxFiles\)/);
  assert.equal(parseTorrent(many, { maxFiles: 50 }).files.filter((f) => !f.padding).length, 50);
  const deep = buildV2Torrent([{ path: [...Array(40).fill("d"), "f"], length: 10 }]);
  assert.throws(() => parseTorrent(deep, { maxPathSegments: 20 }), /at most 20 nested directories/);
  const sneaky = parseTorrent(buildV2Torrent([
    { path: ["..", "..", "etc", "passwd"], length: 10 },
    { path: ["/abs", "C:x"], length: 10 },
    { path: ["l"], attr: "l", symlink: ["..", "..", "..", "etc", "shadow"] },
  ], { name: "../up" }));
  for (const file of sneaky.files) {
    for (const segment of [...file.path, ...(file.symlinkTarget ?? [])]) {
      assert.ok(segment !== ".." && segment !== "." && !segment.includes("/"), segment);
    }
  }
  assert.deepEqual(sneaky.files.find((f) => f.symlinkTarget)?.symlinkTarget, [
    sneaky.name,
    "etc",
    "shadow",
  ]);
});
