/**
 * libtorrent's test torrents, rebuilt: `test/test_torrent_info.cpp` in libtorrent's
 * repository lists each file of `test/test_torrents/` and whether it must load (with
 * checks on some) or fail (with the error). Each case here is a torrent generated with
 * our bencode encoder that has the same defect or feature as libtorrent's file of the
 * same name (no file is copied); `expect` is libtorrent's expectation, `error` the
 * libtorrent error it names.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Encodable, encode } from "../../src/bencode/mod.ts";
import { pieceLayerRoot } from "../../src/metainfo/merkle.ts";
import type { Torrent } from "../../src/metainfo/mod.ts";

/** One case of libtorrent's suite. */
export interface LibtorrentCase {
  /** libtorrent's file name, without `.torrent`. */
  readonly name: string;
  /** libtorrent's expectation. */
  readonly expect: "load" | "fail";
  /** For a failure, the `errors::` code libtorrent expects. */
  readonly error?: string;
  /** The torrent. */
  readonly bytes: Uint8Array;
  /** Extra checks on a loaded torrent (libtorrent's lambda, where it applies here). */
  readonly check?: (torrent: Torrent) => void;
}

const utf8 = new TextEncoder();

function hash(seed: string, size = 32): Uint8Array {
  return new Uint8Array(createHash("sha256").update(seed).digest()).subarray(0, size);
}

function piecesFor(total: number, pieceLength: number): Uint8Array {
  const count = Math.ceil(total / pieceLength);
  const out = new Uint8Array(count * 20);
  for (let i = 0; i < count; i++) out.set(hash(`v1 ${i}`, 20), i * 20);
  return out;
}

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const chunks = parts.map((part) => typeof part === "string" ? utf8.encode(part) : part);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A v1 torrent: single-file unless `files` is given. */
function v1(info: Record<string, Encodable>, top: Record<string, Encodable> = {}): Uint8Array {
  const base: Record<string, Encodable> = { name: "temp", "piece length": 16384 };
  const merged = { ...base, ...info };
  if (merged.pieces === undefined) {
    const files = merged.files as { length?: number }[] | undefined;
    const total = files
      ? files.reduce((sum, file) => sum + (typeof file.length === "number" ? file.length : 0), 0)
      : typeof merged.length === "number"
      ? merged.length
      : 0;
    merged.pieces = piecesFor(Math.max(total, 1), merged["piece length"] as number);
  }
  return encode({ ...top, info: merged });
}

/** A file of a v2 torrent to build. */
interface V2File {
  readonly path: readonly string[];
  readonly length?: number;
  readonly attr?: string;
  readonly symlink?: readonly string[];
  /** Replaces the computed pieces root (`null`: none). */
  readonly root?: Uint8Array | null;
}

interface V2Options {
  readonly name?: string;
  readonly pieceLength?: number;
  /** Also write v1 `files`/`length` and `pieces` (a hybrid). */
  readonly hybrid?: boolean;
  /** Changes the v1 file list of a hybrid before it is written. */
  readonly v1Files?: (files: Record<string, Encodable>[]) => Record<string, Encodable>[];
  /** Which layers to write: all (default), none (no `piece layers` key), or a function. */
  readonly layers?:
    | "all"
    | "none"
    | ((layers: Map<Uint8Array, Encodable>) => Map<Uint8Array, Encodable>);
  readonly top?: Record<string, Encodable>;
}

/** Layer and root of a file of `length` bytes (synthetic piece hashes, a real merkle root). */
function layerFor(seed: string, length: number, pieceLength: number) {
  if (length === 0) return { root: new Uint8Array(32) };
  if (length <= pieceLength) return { root: hash(`root ${seed}`) };
  const count = Math.ceil(length / pieceLength);
  const hashes = Array.from({ length: count }, (_, i) => hash(`piece ${seed} ${i}`));
  return { root: pieceLayerRoot(hashes, pieceLength), layer: concat(...hashes) };
}

/** A v2 (or hybrid) torrent over `files`, in tree order. */
function v2(files: readonly V2File[], options: V2Options = {}): Uint8Array {
  const pieceLength = options.pieceLength ?? 16384;
  const name = options.name ?? "temp";
  const tree = new Map<string, Encodable>();
  const layers = new Map<Uint8Array, Encodable>();
  const v1Files: Record<string, Encodable>[] = [];
  const single = files.length === 1 && files[0].path.length === 1 && !options.v1Files;
  let total = 0;
  files.forEach((file, i) => {
    const length = file.length ?? 0;
    const leaf: Record<string, Encodable> = {};
    if (file.length !== undefined) leaf.length = file.length;
    if (file.attr) leaf.attr = file.attr;
    if (file.symlink) leaf["symlink path"] = [...file.symlink];
    const { root, layer } = file.root === undefined
      ? layerFor(`${i}`, length, pieceLength)
      : { root: file.root, layer: undefined };
    const chosen = root;
    if (chosen && !file.symlink) leaf["pieces root"] = chosen;
    if (layer && root) layers.set(root, layer);
    let node = tree;
    file.path.slice(0, -1).forEach((segment) => {
      let next = node.get(segment);
      if (!(next instanceof Map)) node.set(segment, next = new Map<string, Encodable>());
      node = next as Map<string, Encodable>;
    });
    node.set(file.path[file.path.length - 1], new Map([["", leaf]]));
    const v1Entry: Record<string, Encodable> = { length, path: [...file.path] };
    if (file.attr) v1Entry.attr = file.attr;
    if (file.symlink) v1Entry["symlink path"] = [...file.symlink];
    v1Files.push(v1Entry);
    total += length;
    const pad = (pieceLength - total % pieceLength) % pieceLength;
    if (!single && pad > 0) {
      v1Files.push({ attr: "p", length: pad, path: [".pad", String(pad)] });
      total += pad;
    }
  });
  const info: Record<string, Encodable> = {
    name,
    "piece length": pieceLength,
    "meta version": 2,
    "file tree": tree,
  };
  if (options.hybrid) {
    if (single) info.length = files[0].length ?? 0;
    else info.files = options.v1Files ? options.v1Files(v1Files) : v1Files;
    info.pieces = piecesFor(total, pieceLength);
  }
  const top: Record<string, Encodable> = { ...options.top, info };
  const chosenLayers = options.layers === undefined || options.layers === "all"
    ? layers
    : options.layers === "none"
    ? undefined
    : options.layers(layers);
  if (chosenLayers) top["piece layers"] = chosenLayers;
  return encode(top);
}

/** `bytes` with the first `from` replaced by `to` (same length, so lengths stay valid). */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const text = new TextDecoder("latin1").decode(bytes);
  const at = text.indexOf(from);
  assert.ok(at >= 0, `patch: ${from} not found`);
  const out = bytes.slice();
  out.set(utf8.encode(to), at);
  return out;
}

const MB = 1 << 20;
const multi = (...paths: string[][]) => paths.map((path) => ({ length: 1000, path }));

/** Every case of libtorrent's suite, in the order of `test_torrent_info.cpp`. */
export function libtorrentCases(): LibtorrentCase[] {
  const load = (
    name: string,
    bytes: Uint8Array,
    check?: (torrent: Torrent) => void,
  ): LibtorrentCase => ({ name, expect: "load", bytes, check });
  const fail = (name: string, error: string, bytes: Uint8Array): LibtorrentCase => ({
    name,
    expect: "fail",
    error,
    bytes,
  });
  const symlinkFiles: Record<string, Encodable>[] = [
    { length: 0, path: ["Headers"], attr: "l", "symlink path": ["Versions", "Current", "Headers"] },
    {
      length: 0,
      path: ["Resources"],
      attr: "l",
      "symlink path": ["Versions", "Current", "Resources"],
    },
    { length: 0, path: ["SDL2"], attr: "l", "symlink path": ["Versions", "Current", "SDL2"] },
    { length: 1000, path: ["Versions", "A", "SDL2"] },
    { length: 0, path: ["Versions", "Current"], attr: "l", "symlink path": ["Versions", "A"] },
  ];
  const unordered = concat(
    "d4:infod",
    "6:lengthi1000e",
    "4:name4:temp",
    "6:pieces20:",
    piecesFor(1000, 16384),
    "12:piece lengthi16384e",
    "e",
    "e",
  );
  // Keys out of order in a v2 info dictionary: "name" after "piece length".
  const v2Unordered = concat(
    "d4:infod",
    "9:file treed4:testd0:d6:lengthi1000e11:pieces root32:",
    hash("r"),
    "eee",
    "12:meta versioni2e",
    "12:piece lengthi16384e",
    "4:name4:temp",
    "ee",
  );
  return [
    load("base", v1({ length: 1000 })),
    load("empty_path", v1({ files: [{ length: 1000, path: ["", "foo"] }] })),
    load("parent_path", v1({ files: [{ length: 1000, path: ["..", "foo"] }] })),
    load("hidden_parent_path", v1({ files: [{ length: 1000, path: ["foo", "..", "..", "bar"] }] })),
    load("single_multi_file", v1({ files: [{ length: 1000, path: ["bar"] }] })),
    load("slash_path", v1({ files: [{ length: 1000, path: ["/", "/", "bar"] }] })),
    load("slash_path2", v1({ files: [{ length: 1000, path: ["abc/.../def", "bar"] }] })),
    load("slash_path3", v1({ name: "temp/../abc", length: 1000 })),
    load("backslash_path", v1({ files: [{ length: 1000, path: ["a\\b", "bar"] }] })),
    load("url_list", v1({ length: 1000 }, { "url-list": "http://test.com/file" })),
    load("url_list2", v1({ length: 1000 }, { "url-list": ["http://a.com/", "http://b.com/"] })),
    load("url_list3", v1({ length: 1000 }, { "url-list": ["", 5] })),
    load("httpseed", v1({ length: 1000 }, { httpseeds: ["http://test.com/seed"] })),
    load("empty_httpseed", v1({ length: 1000 }, { httpseeds: "" })),
    load("long_name", v1({ name: "x".repeat(1000), length: 1000 })),
    load(
      "whitespace_url",
      v1({ length: 1000 }, { announce: "  udp://test.com/announce" }),
      (torrent) => assert.equal(torrent.announce[0][0], "udp://test.com/announce"),
    ),
    load(
      "duplicate_files",
      v1({ files: multi(["foo", "bar.txt"], ["foo", "bar.txt"]) }),
      (torrent) => {
        assert.deepEqual(torrent.files[0].path, ["temp", "foo", "bar.txt"]);
        assert.deepEqual(torrent.files[1].path, ["temp", "foo", "bar.1.txt"]);
      },
    ),
    load(
      "pad_file",
      v1({ files: [{ length: 1000, path: ["a"] }, { length: 15384, path: ["b"], attr: "p" }] }),
      (torrent) => assert.deepEqual(torrent.files.map((file) => file.padding), [false, true]),
    ),
    load(
      "creation_date",
      v1({ length: 1000 }, { "creation date": 1234567 }),
      (torrent) => assert.equal(torrent.creationDate?.getTime(), 1234567000),
    ),
    load(
      "no_creation_date",
      v1({ length: 1000 }),
      (torrent) => assert.equal(torrent.creationDate, undefined),
    ),
    load("url_seed", v1({ length: 1000 }, { "url-list": "http://test.com/file" })),
    load(
      "url_seed_multi",
      v1({ files: multi(["a"], ["b"]) }, { "url-list": "http://test.com/file" }),
    ),
    load(
      "url_seed_multi_single_file",
      v1({ files: multi(["foo", "bar.txt"]) }, {
        "url-list": "http://test.com/file/temp/foo/bar.txt",
      }),
    ),
    load(
      "url_seed_multi_space",
      v1({ name: "test file", files: multi(["a"], ["b"]) }, {
        "url-list": ["http://test.com/test file/foo bar/"],
      }),
    ),
    load(
      "url_seed_multi_space_nolist",
      v1({ name: "test file", files: multi(["a"], ["b"]) }, {
        "url-list": "http://test.com/test file/foo bar/",
      }),
    ),
    load("empty_path_multi", v1({ files: [{ length: 1000, path: [""] }, ...multi(["b"])] })),
    load(
      "duplicate_web_seeds",
      v1({ length: 1000 }, { "url-list": ["http://a/", "http://a/", "http://b/", "http://c/"] }),
    ),
    load(
      "invalid_name2",
      v1({ name: "..", files: multi(["a"]) }),
      (torrent) => assert.equal(torrent.name, torrent.infoHashHex),
    ),
    load("invalid_name3", v1({ name: "foobar ", length: 1000 })),
    load(
      "symlink1",
      v1({
        files: [
          { length: 1000, path: ["a", "b", "bar"] },
          { length: 0, path: ["a", "b", "link"], attr: "l", "symlink path": ["a", "b", "bar"] },
        ],
      }),
      (torrent) => assert.deepEqual(torrent.files[1].symlinkTarget, ["temp", "a", "b", "bar"]),
    ),
    load(
      "symlink2",
      v1({ name: "Some.framework", files: symlinkFiles }),
      (torrent) => assert.equal(torrent.files.length, 5),
    ),
    load("unordered", unordered),
    load(
      "symlink_zero_size",
      v1({
        files: [
          { length: 1000, path: ["a", "b", "bar"] },
          { path: ["a", "b", "link"], attr: "l", "symlink path": ["a", "b", "bar"] },
        ],
      }),
      (torrent) => assert.deepEqual(torrent.files[1].symlinkTarget, ["temp", "a", "b", "bar"]),
    ),
    load(
      "symlink_filtered_path",
      v1({
        files: [
          { length: 1000, path: ["a", "/", "bar"] },
          { path: ["link"], attr: "l", "symlink path": ["a", "/", "bar"] },
        ],
      }),
      (torrent) => assert.deepEqual(torrent.files[1].symlinkTarget, torrent.files[0].path),
    ),
    load(
      "pad_file_no_path",
      v1({ files: [{ length: 14260, path: ["a"] }, { length: 2124, attr: "p" }] }),
      (torrent) => assert.deepEqual(torrent.files[1].path, ["temp", ".pad", "2124"]),
    ),
    load(
      "large",
      v1({
        files: Array.from({ length: 200 }, (_, i) => ({ length: 1 << 30, path: [`f${i}`] })),
        "piece length": 4 * MB,
      }),
    ),
    load(
      "absolute_filename",
      v1({ files: multi(["/abcde"], ["/foobar"]) }),
      (torrent) =>
        assert.deepEqual(torrent.files.map((f) => f.path), [["temp", "_abcde"], [
          "temp",
          "_foobar",
        ]]),
    ),
    load(
      "invalid_filename",
      v1({ files: multi(["a\u0000b"], ["c:d"]) }),
      (torrent) => assert.equal(torrent.files.length, 2),
    ),
    load(
      "invalid_filename2",
      v1({ files: multi(["a|b"], ["c?d"], ["e*f"]) }),
      (torrent) => assert.equal(torrent.files.length, 3),
    ),
    load(
      "overlapping_symlinks",
      v1({ name: "SDL2.framework", files: symlinkFiles }),
      (torrent) => assert.ok(torrent.files.length > 3),
    ),
    load(
      "invalid_directory_name",
      v1({ name: "test2", files: multi(["/", "foo"], ["\\", "foo"]) }),
      (torrent) => assert.equal(torrent.files.length, 2),
    ),
    load(
      "v2",
      v2([{ path: ["test64K"], length: 65536 }], {
        name: "test64K",
        pieceLength: 65536,
        hybrid: true,
      }),
      (torrent) => {
        assert.equal(torrent.version, "hybrid");
        assert.deepEqual(torrent.files.map((f) => [f.path, f.length]), [[["test64K"], 65536]]);
        assert.equal(torrent.infoHashV2?.length, 32);
      },
    ),
    load(
      "v2_multipiece_file",
      v2([{ path: ["test1MB"], length: MB }], {
        name: "test1MB",
        pieceLength: 65536,
        hybrid: true,
      }),
      (torrent) => {
        assert.equal(torrent.version, "hybrid");
        assert.equal(torrent.files[0].pieceLayer?.length, 16 * 32);
      },
    ),
    load(
      "v2_only",
      v2([{ path: ["test1MB"], length: MB }], { name: "test1MB", pieceLength: 65536 }),
      (torrent) => {
        assert.equal(torrent.version, 2);
        assert.equal(torrent.pieceHashes.length, 0);
        assert.deepEqual(torrent.infoHash, torrent.infoHashV2?.subarray(0, 20));
      },
    ),
    load(
      "v2_invalid_filename",
      v2([{ path: ["/estMB"], length: MB }], { name: "testMB", pieceLength: 65536 }),
      (torrent) => assert.deepEqual(torrent.files[0].path, ["_estMB"]),
    ),
    load(
      "v2_multiple_files",
      v2([
        { path: ["a"], length: 100_000 },
        { path: ["b"], length: 16384 },
        { path: ["c", "d"], length: 5 },
        { path: ["e"], length: 70_000 },
        { path: ["f"], length: 0 },
      ]),
      (torrent) => {
        assert.equal(torrent.files.filter((f) => !f.padding).length, 5);
        assert.ok(torrent.files[0].pieceLayer);
      },
    ),
    load(
      "v2_invalid_filename2",
      v2([{ path: ["/"], length: 1000 }, { path: ["\\"], length: 1000 }, {
        path: ["stress_test2"],
        length: 1000,
      }], { name: "test" }),
      (torrent) => assert.equal(torrent.files.filter((f) => !f.padding).length, 3),
    ),
    load(
      "v2_symlinks",
      v2([
        { path: ["Headers"], attr: "l", symlink: ["Versions", "Current", "Headers"] },
        { path: ["Resources"], attr: "l", symlink: ["Versions", "Current", "Resources"] },
        { path: ["SDL2"], attr: "l", symlink: ["Versions", "Current", "SDL2"] },
        { path: ["Versions", "A", "SDL2"], length: 1000 },
        { path: ["Versions", "Current"], attr: "l", symlink: ["Versions", "A"] },
      ], { name: "SDL2.framework" }),
      (torrent) =>
        assert.deepEqual(torrent.files[0].symlinkTarget, [
          "SDL2.framework",
          "Versions",
          "Current",
          "Headers",
        ]),
    ),
    load(
      "v2_hybrid",
      v2([{ path: ["a"], length: 70_000 }, { path: ["b", "c"], length: 1000 }], { hybrid: true }),
      (torrent) => assert.equal(torrent.version, "hybrid"),
    ),
    ...[1, 2, 3, 4, 5].map((n) =>
      load(
        `empty-files-${n}`,
        v2(
          [
            { path: ["a"], length: n % 2 === 0 ? 0 : 1000 },
            { path: ["b"], length: 0 },
            { path: ["c"], length: n > 2 ? 1000 : 0 },
            { path: ["d"], length: n === 5 ? 0 : 20_000 },
          ].filter((file) => file.length > 0 || n !== 4 || file.path[0] !== "b"),
          { hybrid: true },
        ),
        (torrent) => assert.equal(torrent.version, "hybrid"),
      )
    ),
    load(
      "v2_no_piece_layers",
      v2([{ path: ["test1MB"], length: MB }], { pieceLength: 65536, layers: "none" }),
      (torrent) => {
        assert.equal(torrent.version, 2);
        assert.equal(torrent.files[0].pieceLayer, undefined);
      },
    ),
    load(
      "v2_incomplete_piece_layer",
      v2([{ path: ["a"], length: MB }, { path: ["b"], length: MB / 2 }], {
        pieceLength: 65536,
        layers: (layers) => new Map([...layers].slice(0, 1)),
      }),
      (torrent) => {
        assert.equal(torrent.version, 2);
        assert.ok(torrent.files[0].pieceLayer);
        assert.equal(torrent.files.filter((f) => !f.padding)[1].pieceLayer, undefined);
      },
    ),
    load("similar", v1({ length: 1000, similar: [utf8.encode("a".repeat(20))] })),
    load("similar2", v1({ length: 1000 }, { similar: [utf8.encode("a".repeat(20))] })),
    load("collection", v1({ length: 1000, collections: ["bar", "foo"] })),
    load("collection2", v1({ length: 1000 }, { collections: ["bar", "foo"] })),
    load(
      "dht_nodes",
      v1({ length: 1000 }, { nodes: [["127.0.0.1", 6881], ["192.168.1.1", 6881]] }),
    ),
    load(
      "large_piece_size",
      concat(v1({ length: 32767 * 0x4000, "piece length": 32767 * 0x4000 }), "\n"),
      (torrent) => {
        assert.equal(torrent.pieceLength, 32767 * 0x4000);
        assert.equal(torrent.warnings.length, 1);
      },
    ),

    fail(
      "missing_piece_len",
      "torrent_missing_piece_length",
      encode({ info: { name: "temp", length: 1000, pieces: piecesFor(1, 1) } }),
    ),
    fail(
      "invalid_piece_len",
      "torrent_missing_piece_length",
      v1({ length: 1000, "piece length": "16384", pieces: piecesFor(1, 1) }),
    ),
    fail(
      "negative_piece_len",
      "torrent_missing_piece_length",
      v1({ length: 1000, "piece length": -16384, pieces: piecesFor(1, 1) }),
    ),
    fail(
      "no_name",
      "torrent_missing_name",
      encode({ info: { "piece length": 16384, length: 1000, pieces: piecesFor(1, 1) } }),
    ),
    fail("bad_name", "torrent_missing_name", v1({ name: 5, length: 1000 })),
    fail("invalid_name", "torrent_missing_name", v1({ name: ["temp"], length: 1000 })),
    fail("invalid_info", "torrent_missing_info", encode({ info: "info" })),
    fail("string", "torrent_is_no_dict", encode("not a dictionary")),
    fail("negative_size", "torrent_invalid_length", v1({ length: -1, pieces: piecesFor(1, 1) })),
    fail(
      "negative_file_size",
      "torrent_invalid_length",
      v1({ files: [{ length: -1, path: ["a"] }], pieces: piecesFor(1, 1) }),
    ),
    fail("invalid_path_list", "torrent_invalid_name", v1({ files: [{ length: 1000, path: [5] }] })),
    fail("missing_path_list", "torrent_missing_name", v1({ files: [{ length: 1000 }] })),
    fail(
      "pad_file_symlink",
      "torrent_invalid_pad_file",
      v1({
        files: [{ length: 1000, path: ["a"] }, {
          length: 15384,
          path: ["b"],
          attr: "pl",
          "symlink path": ["a"],
        }],
      }),
    ),
    fail("invalid_pieces", "torrent_missing_pieces", v1({ length: 1000, pieces: 5 })),
    fail(
      "unaligned_pieces",
      "torrent_invalid_hashes",
      v1({ length: 1000, pieces: new Uint8Array(19) }),
    ),
    fail(
      "invalid_file_size",
      "torrent_invalid_length",
      v1({ files: [{ length: "1000", path: ["a"] }], pieces: piecesFor(1, 1) }),
    ),
    fail(
      "invalid_symlink",
      "torrent_invalid_name",
      v1({
        files: [{ length: 1000, path: ["a"] }, { path: ["b"], attr: "l", "symlink path": [5] }],
      }),
    ),
    fail(
      "many_pieces",
      "too_many_pieces_in_torrent",
      v1({ length: 0x200001 * 16384, pieces: piecesFor(1, 1) }),
    ),
    fail("no_files", "no_files_in_torrent", v1({ files: [], pieces: piecesFor(1, 1) })),
    fail("zero", "torrent_invalid_length", v1({ length: 0, pieces: new Uint8Array(0) })),
    fail(
      "zero2",
      "torrent_invalid_length",
      v1({
        files: [{ length: 0, path: ["a"] }, { length: 0, path: ["b"] }],
        pieces: new Uint8Array(0),
      }),
    ),
    fail(
      "v2_mismatching_metadata",
      "torrent_inconsistent_files",
      patch(
        v2([{ path: ["test1MB"], length: MB }], {
          name: "test1MB",
          pieceLength: 65536,
          hybrid: true,
        }),
        "7:test1MBd0:",
        "7:/est1MBd0:",
      ),
    ),
    fail(
      "v2_no_power2_piece",
      "torrent_missing_piece_length",
      v2([{ path: ["a"], length: 1000 }], { pieceLength: 3 * 16384 }),
    ),
    fail(
      "v2_invalid_file",
      "torrent_file_parse_failed",
      encode({
        info: {
          name: "test64K",
          "piece length": 65536,
          "meta version": 2,
          "file tree": { test64K: { length: 65536, "pieces root": hash("r") } },
        },
      }),
    ),
    fail(
      "v2_deep_recursion",
      "depth_exceeded",
      encode({
        info: {
          name: "deep",
          "piece length": 16384,
          "meta version": 2,
          "file tree": Array.from({ length: 200 }).reduce<Encodable>((inner) => ({ d: inner }), {
            f: { "": { length: 1, "pieces root": hash("r") } },
          }),
        },
      }),
    ),
    fail(
      "v2_non_multiple_piece_layer",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) =>
          new Map([...layers].map(([root, layer]) => [root, (layer as Uint8Array).subarray(1)])),
      }),
    ),
    fail(
      "v2_piece_layer_invalid_file_hash",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) => new Map([...layers].map(([root, layer]) => [concat("a", root), layer])),
      }),
    ),
    fail(
      "v2_invalid_piece_layer",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) => new Map([...layers].map(([root]) => [root, new Uint8Array(17 * 32)])),
      }),
    ),
    fail(
      "v2_invalid_piece_layer_root",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) =>
          new Map(
            [...layers].map(([root, layer]) => [root, (layer as Uint8Array).slice().fill(1, 0, 1)]),
          ),
      }),
    ),
    fail(
      "v2_unknown_piece_layer_entry",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) => new Map([...layers, [hash("unknown"), new Uint8Array(64)]]),
      }),
    ),
    fail(
      "v2_invalid_piece_layer_size",
      "torrent_invalid_piece_layer",
      v2([{ path: ["a"], length: MB }], {
        pieceLength: 65536,
        layers: (layers) =>
          new Map([...layers].map(([root, layer]) => [root, (layer as Uint8Array).subarray(32)])),
      }),
    ),
    fail(
      "v2_bad_file_alignment",
      "torrent_inconsistent_files",
      v2([{ path: ["a"], length: 1000 }, { path: ["b"], length: 1000 }], {
        hybrid: true,
        v1Files: (files) => files.filter((file) => file.attr !== "p"),
      }),
    ),
    fail("v2_unordered_files", "invalid_bencoding", v2Unordered),
    fail(
      "v2_overlong_integer",
      "invalid_bencoding",
      patch(v2([{ path: ["a"], length: 1000 }]), "i1000e", "i0100e"),
    ),
    fail(
      "v2_missing_file_root_invalid_symlink",
      "torrent_missing_pieces_root",
      encode({
        info: {
          name: "temp",
          "piece length": 16384,
          "meta version": 2,
          "file tree": {
            a: { "": { length: 1000, "pieces root": hash("r") } },
            link: { "": { attr: "l", length: 1000 } },
          },
        },
      }),
    ),
    fail(
      "v2_large_file",
      "torrent_invalid_length",
      v2([{ path: ["a"], length: 2 ** 50, root: hash("r") }], { layers: "none" }),
    ),
    fail(
      "v2_large_offset",
      "too_many_pieces_in_torrent",
      v2(
        Array.from(
          { length: 40 },
          (_, i) => ({ path: [`f${i}`], length: 2 ** 43, root: hash(`r${i}`) }),
        ),
        { layers: "none" },
      ),
    ),
    fail(
      "v2_piece_size",
      "torrent_missing_piece_length",
      v2([{ path: ["a"], length: 1000 }], { pieceLength: 8192 }),
    ),
    fail(
      "v2_invalid_pad_file",
      "torrent_invalid_pad_file",
      v2([{ path: ["a"], length: 1000 }, { path: ["b"], length: 1000, attr: "p" }]),
    ),
    fail(
      "v2_zero_root",
      "torrent_missing_pieces_root",
      v2([{ path: ["a"], length: MB, root: new Uint8Array(32) }], {
        pieceLength: 65536,
        layers: "none",
      }),
    ),
    fail(
      "v2_zero_root_small",
      "torrent_missing_pieces_root",
      v2([{ path: ["a"], length: 1000, root: new Uint8Array(32) }]),
    ),
    fail("v2_empty_filename", "torrent_file_parse_failed", v2([{ path: ["a", ""], length: 1000 }])),
    fail(
      "duplicate_files2",
      "too_many_duplicate_filenames",
      v1({
        files: Array.from(
          { length: 120 },
          (_, i) => ({ length: 4 + i % 2, path: ["foo", "bar.txt"] }),
        ),
      }),
    ),
  ];
}

/** Builds a v2 or hybrid torrent over synthetic files (for other tests). */
export { v2 as buildV2Torrent };

/**
 * Hybrid layouts beyond libtorrent's suite, with what libtorrent 2.0.8 does with each
 * (checked by libtorrent_suite_test.ts where it is installed).
 */
export function hybridEdgeCases(): LibtorrentCase[] {
  const two = [{ path: ["a"], length: 1000 }, { path: ["b"], length: 1000 }];
  const one = (name: string, expect: "load" | "fail", bytes: Uint8Array) => ({
    name,
    expect,
    bytes,
  });
  return [
    one("hybrid_no_last_pad", "load", v2(two, { hybrid: true, v1Files: (f) => f.slice(0, -1) })),
    one(
      "hybrid_one_file_in_dir",
      "load",
      v2([{ path: ["d", "a"], length: 1000 }], { hybrid: true }),
    ),
    one(
      "hybrid_one_file_in_dir_no_pad",
      "load",
      v2([{ path: ["d", "a"], length: 1000 }], { hybrid: true, v1Files: (f) => f.slice(0, 1) }),
    ),
    one(
      "hybrid_one_file_listed",
      "load",
      v2([{ path: ["a"], length: 1000 }], { name: "a", hybrid: true, v1Files: (f) => f }),
    ),
    one(
      "hybrid_attributes_differ",
      "load",
      v2([{ path: ["a"], length: 1000, attr: "x" }, { path: ["b"], length: 10 }], {
        hybrid: true,
        v1Files: (f) => f.map((entry) => entry.attr === "x" ? { ...entry, attr: "h" } : entry),
      }),
    ),
    one(
      "hybrid_empty_file",
      "load",
      v2([...two, { path: ["e"], length: 0 }], { hybrid: true }),
    ),
    one(
      "hybrid_pad_too_long",
      "fail",
      v2(two, {
        hybrid: true,
        v1Files: (f) => f.map((entry, i) => i === 1 ? { ...entry, length: 15385 } : entry),
      }),
    ),
    one(
      "hybrid_name_differs",
      "fail",
      v2(two, {
        hybrid: true,
        v1Files: (f) => f.map((entry, i) => i === 0 ? { ...entry, path: ["z"] } : entry),
      }),
    ),
  ];
}
