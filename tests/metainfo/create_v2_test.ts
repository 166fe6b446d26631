import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BencodeDict, type BencodeValue, decode, encode, locate } from "../../src/bencode/mod.ts";
import {
  createTorrent,
  type MemoryFile,
  TorrentError,
  visibleFiles,
} from "../../src/metainfo/mod.ts";

// Expected merkle roots are computed here from first principles (BEP 52), not
// with src/metainfo/merkle.ts.
const BLOCK = 16384;

function sha(algorithm: "sha1" | "sha256", ...parts: Uint8Array[]): Uint8Array {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** BEP 52 root: leaves of 16 KiB blocks padded with zero hashes to `width` (a power of two). */
function rootOf(bytes: Uint8Array, width?: number): Uint8Array {
  let layer: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += BLOCK) {
    layer.push(sha("sha256", bytes.subarray(i, i + BLOCK)));
  }
  let size = 1;
  while (size < Math.max(layer.length, width ?? 1)) size *= 2;
  while (layer.length < size) layer.push(new Uint8Array(32));
  while (layer.length > 1) {
    const above: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) above.push(sha("sha256", layer[i], layer[i + 1]));
    layer = above;
  }
  return layer[0];
}

/** The piece layer of a file: each piece's root over pieceLength / 16 KiB leaves. */
function layerOf(bytes: Uint8Array, pieceLength: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += pieceLength) {
    parts.push(rootOf(bytes.subarray(i, i + pieceLength), pieceLength / BLOCK));
  }
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function data(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function dict(value: BencodeValue | undefined): BencodeDict {
  assert.ok(value instanceof BencodeDict, `expected a dictionary, got ${String(value)}`);
  return value;
}

function text(bytes: BencodeValue | undefined): string {
  assert.ok(bytes instanceof Uint8Array);
  return new TextDecoder().decode(bytes);
}

function keys(value: BencodeDict): string[] {
  return [...value.keys()];
}

/** The raw `info` bytes of a torrent, as the info hashes are computed over them. */
function infoBytes(bytes: Uint8Array): Uint8Array {
  const span = locate(bytes, ["info"]);
  assert.ok(span);
  return bytes.subarray(span.start, span.end);
}

Deno.test("v2 single file: file tree, pieces root, piece layers, and nothing v1", async () => {
  const content = data(100_000, 1);
  const made = await createTorrent({ name: "movie.bin", data: content }, {
    format: "v2",
    pieceLength: 32768,
  });
  const root = dict(decode(made.bytes));
  const info = dict(root.get("info"));
  assert.deepEqual(keys(info), ["file tree", "meta version", "name", "piece length"]);
  assert.equal(info.get("meta version"), 2);
  assert.equal(text(info.get("name")), "movie.bin");
  const leaf = dict(dict(dict(info.get("file tree")).get("movie.bin")).get(""));
  assert.equal(leaf.get("length"), 100_000);
  const piecesRoot = rootOf(content);
  assert.deepEqual(leaf.get("pieces root"), piecesRoot);
  const layers = dict(root.get("piece layers"));
  assert.equal(layers.size, 1);
  assert.deepEqual(layers.get(piecesRoot), layerOf(content, 32768));
  assert.equal(made.format, "v2");
  assert.equal(made.infoHashes.v1, undefined);
  assert.deepEqual(made.infoHashes.v2, sha("sha256", infoBytes(made.bytes)));
  assert.equal(made.pieceCount, 4);
  assert.equal(made.fileCount, 1);
  assert.equal(made.length, 100_000);
});

Deno.test("hybrid: v1 files in tree order with pad files, pieces over the padded stream", async () => {
  const files: MemoryFile[] = [
    { path: ["b", "z.bin"], data: data(20_000, 2) },
    { path: ["a.txt"], data: data(16384, 3) },
    { path: ["b", "empty"], data: new Uint8Array(0) },
    { path: ["a", "x"], data: data(100, 4) },
    { path: ["a-b"], data: data(40_000, 5) },
  ];
  const pieceLength = 16384;
  const made = await createTorrent({ name: "set", files }, { format: "hybrid", pieceLength });
  const info = dict(dict(decode(made.bytes)).get("info"));
  assert.deepEqual(keys(info), [
    "file tree",
    "files",
    "meta version",
    "name",
    "piece length",
    "pieces",
  ]);
  // Tree order: each level by name bytes ("a" < "a-b" < "a.txt" < "b"), pads after every file
  // not ending on a piece boundary, the last one included; never after an empty file.
  const listed = (info.get("files") as BencodeValue[]).map((entry) => {
    const file = dict(entry);
    const path = (file.get("path") as BencodeValue[]).map(text).join("/");
    return `${path}:${file.get("length")}${file.has("attr") ? `:${text(file.get("attr"))}` : ""}`;
  });
  assert.deepEqual(listed, [
    "a/x:100",
    ".pad/16284:16284:p",
    "a-b:40000",
    ".pad/9152:9152:p",
    "a.txt:16384",
    "b/empty:0",
    "b/z.bin:20000",
    ".pad/12768:12768:p",
  ]);
  const byPath = new Map(files.map((f) => [f.path.join("/"), f.data]));
  const stream = concat([
    byPath.get("a/x")!,
    new Uint8Array(16284),
    byPath.get("a-b")!,
    new Uint8Array(9152),
    byPath.get("a.txt")!,
    byPath.get("b/z.bin")!,
    new Uint8Array(12768),
  ]);
  const pieces = info.get("pieces");
  assert.ok(pieces instanceof Uint8Array);
  assert.equal(pieces.length, (stream.length / pieceLength) * 20);
  for (let i = 0; i < stream.length / pieceLength; i++) {
    assert.deepEqual(
      pieces.subarray(i * 20, i * 20 + 20),
      sha("sha1", stream.subarray(i * pieceLength, (i + 1) * pieceLength)),
    );
  }
  const tree = dict(info.get("file tree"));
  assert.deepEqual(keys(tree), ["a", "a-b", "a.txt", "b"]);
  assert.deepEqual(
    dict(dict(tree.get("a-b")).get("")).get("pieces root"),
    rootOf(byPath.get("a-b")!),
  );
  const empty = dict(dict(dict(tree.get("b")).get("empty")).get(""));
  assert.deepEqual(keys(empty), ["length"], "an empty file has no pieces root");
  // Only a-b (3 pieces) and z.bin (2) are longer than one piece.
  const layers = dict(dict(decode(made.bytes)).get("piece layers"));
  assert.equal(layers.size, 2);
  assert.deepEqual(
    layers.get(rootOf(byPath.get("b/z.bin")!)),
    layerOf(byPath.get("b/z.bin")!, pieceLength),
  );
  assert.deepEqual(made.infoHashes.v1, sha("sha1", infoBytes(made.bytes)));
  assert.deepEqual(made.infoHashes.v2, sha("sha256", infoBytes(made.bytes)));
  assert.equal(made.pieceCount, 7);
  assert.equal(made.fileCount, 5);
  // Bittern reads the hybrid as v1 with padding files.
  const torrent = made.torrent;
  assert.deepEqual(made.infoHashes.v1, torrent.infoHash);
  assert.deepEqual(
    visibleFiles(torrent).map((f) => f.path.slice(1).join("/")),
    ["a/x", "a-b", "a.txt", "b/empty", "b/z.bin"],
  );
});

Deno.test("hybrid with one file has no pad files; a single-file hybrid keeps length", async () => {
  const one = await createTorrent({ name: "d", files: [{ path: ["x"], data: data(100, 6) }] }, {
    format: "hybrid",
    pieceLength: 16384,
  });
  const files = dict(dict(decode(one.bytes)).get("info")).get("files") as BencodeValue[];
  assert.equal(files.length, 1);
  const single = await createTorrent({ name: "x", data: data(100, 6) }, { format: "hybrid" });
  const info = dict(dict(decode(single.bytes)).get("info"));
  assert.equal(info.get("length"), 100);
  assert.equal(info.has("files"), false);
  assert.deepEqual(keys(dict(info.get("file tree"))), ["x"]);
  // The same root either way: a file's tree does not depend on where it sits.
  const piecesRoot = (bytes: Uint8Array, path: string[]) => {
    let node = dict(dict(dict(decode(bytes)).get("info")).get("file tree"));
    for (const segment of path) node = dict(node.get(segment));
    return dict(node.get("")).get("pieces root");
  };
  assert.deepEqual(piecesRoot(one.bytes, ["x"]), piecesRoot(single.bytes, ["x"]));
  assert.deepEqual(piecesRoot(single.bytes, ["x"]), sha("sha256", data(100, 6)));
});

Deno.test("v2 and hybrid output is deterministic whatever order files are given in", async () => {
  const files: MemoryFile[] = [
    { path: ["\u{1F600}.txt"], data: data(5000, 7) },
    { path: ["\uFF5E.txt"], data: data(6000, 8) },
    { path: ["A"], data: data(70_000, 9) },
    { path: ["a"], data: data(70_000, 9) },
  ];
  for (const format of ["v2", "hybrid"] as const) {
    const forward = await createTorrent({ name: "s", files }, { format, pieceLength: 32768 });
    const backward = await createTorrent({ name: "s", files: files.toReversed() }, {
      format,
      pieceLength: 32768,
    });
    assert.deepEqual(forward.bytes, backward.bytes, format);
    const info = dict(dict(decode(forward.bytes)).get("info"));
    // UTF-8 byte order: U+FF5E (EF BD 9E) before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
    assert.deepEqual(keys(dict(info.get("file tree"))), ["A", "a", "\uFF5E.txt", "\u{1F600}.txt"]);
    // Two files with equal contents share one piece layers entry.
    assert.equal(dict(dict(decode(forward.bytes)).get("piece layers")).size, 1);
  }
});

Deno.test("a directory gives the same v2 and hybrid torrents as the same files in memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files: MemoryFile[] = [
      { path: ["sub", "deep.bin"], data: data(50_000, 10) },
      { path: ["top.bin"], data: data(20_000, 11) },
      { path: ["sub.txt"], data: data(3, 12) },
    ];
    for (const file of files) {
      await Deno.mkdir(`${dir}/pack/${file.path.slice(0, -1).join("/")}`, { recursive: true });
      await Deno.writeFile(`${dir}/pack/${file.path.join("/")}`, file.data);
    }
    for (const format of ["v2", "hybrid"] as const) {
      const fromDisk = await createTorrent(`${dir}/pack`, {
        format,
        pieceLength: 16384,
        readChunkBytes: 7000,
      });
      const fromMemory = await createTorrent({ name: "pack", files }, {
        format,
        pieceLength: 16384,
      });
      assert.deepEqual(fromDisk.bytes, fromMemory.bytes, format);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("v2 and hybrid refuse colliding paths and unknown formats", async () => {
  for (const paths of [[["a"], ["a", "b"]], [["x", "y"], ["x", "y"]]]) {
    await assert.rejects(
      createTorrent({
        name: "bad",
        files: paths.map((path) => ({ path, data: new Uint8Array(1) })),
      }, { format: "v2" }),
      (error) => error instanceof TorrentError && error.paths[0] === "files",
    );
  }
  await assert.rejects(
    // @ts-expect-error: a format that does not exist, as from untyped callers
    createTorrent({ name: "x", data: new Uint8Array(1) }, { format: "v3" }),
    (error) => error instanceof TorrentError && error.paths[0] === "format",
  );
});

Deno.test("piece layers are written only for files longer than one piece", async () => {
  const made = await createTorrent({
    name: "p",
    files: [
      { path: ["exact"], data: data(32768, 13) },
      { path: ["longer"], data: data(32769, 14) },
    ],
  }, { format: "v2", pieceLength: 32768 });
  const layers = dict(dict(decode(made.bytes)).get("piece layers"));
  assert.equal(layers.size, 1);
  assert.deepEqual(layers.get(rootOf(data(32769, 14))), layerOf(data(32769, 14), 32768));
  // Re-encoding the decoded document changes nothing: the output is canonical.
  assert.deepEqual(encode(decode(made.bytes)), made.bytes);
});

Deno.test("executable files carry BEP 47 attr x in v2 and hybrid, not in v1", async () => {
  const files: MemoryFile[] = [
    { path: ["run.sh"], data: data(100, 15), executable: true },
    { path: ["data"], data: data(50, 16) },
  ];
  const hybrid = await createTorrent({ name: "x", files }, { format: "hybrid" });
  const info = dict(dict(decode(hybrid.bytes)).get("info"));
  const attrs = (info.get("files") as BencodeValue[]).map((entry) => {
    const attr = dict(entry).get("attr");
    return attr ? text(attr) : "";
  });
  assert.deepEqual(attrs, ["", "p", "x", "p"]);
  const leaf = dict(dict(dict(info.get("file tree")).get("run.sh")).get(""));
  assert.equal(text(leaf.get("attr")), "x");
  const single = await createTorrent(
    { name: "run.sh", data: data(100, 15), executable: true },
    { format: "v2" },
  );
  const singleInfo = dict(dict(decode(single.bytes)).get("info"));
  assert.equal(singleInfo.has("attr"), false, "v2-only has no v1 fields");
  const v1 = await createTorrent({ name: "x", files }, { format: "v1" });
  const v1Files = dict(dict(decode(v1.bytes)).get("info")).get("files") as BencodeValue[];
  assert.ok(v1Files.every((entry) => !dict(entry).has("attr")));
});
