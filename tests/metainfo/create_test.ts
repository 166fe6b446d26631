import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  choosePieceLength,
  createTorrent,
  metainfoFromInfo,
  parseTorrent,
  pieceHashAt,
  PieceHasher,
  TorrentError,
} from "../../src/metainfo/mod.ts";
import { decode, encode } from "../../src/bencode/mod.ts";

/** Deterministic pseudo-random bytes. */
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

function sha1(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(bytes).digest());
}

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertRejectsWithPath(promise: Promise<unknown>, path: string): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof TorrentError, String(error));
    assert.deepEqual(error.paths, [path]);
    return true;
  });
}

Deno.test("createTorrent hashes a single file piece by piece", async () => {
  await withTempDir(async (dir) => {
    const content = data(100_000, 1);
    await Deno.writeFile(`${dir}/movie.bin`, content);
    // A read chunk that does not align with pieces exercises the piece boundaries.
    for (const readChunkBytes of [1000, 1 << 20]) {
      const { torrent } = await createTorrent(`${dir}/movie.bin`, {
        pieceLength: 16384,
        readChunkBytes,
      });
      assert.equal(torrent.name, "movie.bin");
      assert.equal(torrent.multiFile, false);
      assert.equal(torrent.length, 100_000);
      assert.equal(torrent.pieceCount, 7);
      for (let i = 0; i < torrent.pieceCount; i++) {
        assert.deepEqual(
          pieceHashAt(torrent, i),
          sha1(content.subarray(i * 16384, (i + 1) * 16384)),
        );
      }
    }
  });
});

Deno.test("createTorrent walks a directory in name order, across file boundaries", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/Album ü`;
    await Deno.mkdir(`${root}/b/deeper`, { recursive: true });
    const files: [string, Uint8Array][] = [
      ["a.txt", data(10_000, 2)],
      ["b/deeper/z.bin", data(30_000, 3)],
      ["b/y.bin", data(5, 4)],
      ["c 名前.txt", data(20_000, 5)],
    ];
    for (const [path, content] of files) await Deno.writeFile(`${root}/${path}`, content);
    await Deno.symlink(`${root}/a.txt`, `${root}/link.txt`);
    const { bytes, torrent } = await createTorrent(root, { pieceLength: 16384, format: "v1" });
    assert.equal(torrent.name, "Album ü");
    assert.equal(torrent.multiFile, true);
    assert.deepEqual(
      torrent.files.map((f) => f.path.join("/")),
      files.map(([path]) => `Album ü/${path}`),
    );
    const all = new Uint8Array(torrent.length);
    let offset = 0;
    for (const [, content] of files) {
      all.set(content, offset);
      offset += content.length;
    }
    for (let i = 0; i < torrent.pieceCount; i++) {
      assert.deepEqual(pieceHashAt(torrent, i), sha1(all.subarray(i * 16384, (i + 1) * 16384)));
    }
    // Deterministic: the same tree gives the same bytes.
    assert.deepEqual(
      (await createTorrent(root, { pieceLength: 16384, format: "v1" })).bytes,
      bytes,
    );
    // The same files in memory give the same torrent.
    const inMemory = await createTorrent({
      name: "Album ü",
      files: files.map(([path, content]) => ({ path: path.split("/"), data: content })),
    }, { pieceLength: 16384, format: "v1" });
    assert.deepEqual(inMemory.bytes, bytes);
  });
});

Deno.test("createTorrent writes trackers, flags and text fields", async () => {
  const { bytes, torrent } = await createTorrent({ name: "x", data: data(1000, 6) }, {
    announce: [["http://a/1", "http://a/2"], "http://b/"],
    private: true,
    comment: "a comment",
    createdBy: "Bittern test",
    creationDate: new Date(1_700_000_000_000),
  });
  assert.deepEqual(torrent.announce, [["http://a/1", "http://a/2"], ["http://b/"]]);
  assert.equal(torrent.private, true);
  assert.equal(torrent.comment, "a comment");
  assert.equal(torrent.createdBy, "Bittern test");
  assert.equal(torrent.creationDate?.getTime(), 1_700_000_000_000);
  assert.equal(torrent.pieceLength, 16384);
  const again = parseTorrent(bytes);
  assert.equal(again.infoHashHex, torrent.infoHashHex);
  // One tracker: `announce` only, no announce-list.
  const single = await createTorrent({ name: "x", data: data(10, 6) }, { announce: ["http://t/"] });
  const root = decode(single.bytes) as { has(key: string): boolean };
  assert.equal(root.has("announce"), true);
  assert.equal(root.has("announce-list"), false);
  assert.equal(root.has("creation date"), false);
});

Deno.test("choosePieceLength aims at about 1750 pieces within 16 KiB..16 MiB", () => {
  assert.equal(choosePieceLength(1), 16 * 1024);
  assert.equal(choosePieceLength(10 * 1024 * 1024), 16 * 1024);
  assert.equal(choosePieceLength(1024 ** 3), 512 * 1024);
  assert.equal(choosePieceLength(4 * 1024 ** 3), 2 * 1024 * 1024);
  assert.equal(choosePieceLength(1024 ** 4), 16 * 1024 * 1024);
  for (let size = 64 * 1024 * 1024; size <= 16 * 1024 ** 3; size *= 3) {
    const count = Math.ceil(size / choosePieceLength(size));
    assert.ok(count >= 1200 && count <= 2500, `${size}: ${count} pieces`);
  }
});

Deno.test("createTorrent rejects bad options and empty sources with the field named", async () => {
  await withTempDir(async (dir) => {
    await assertRejectsWithPath(createTorrent(dir), "source");
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    await assertRejectsWithPath(createTorrent(`${dir}/empty`), "source");
  });
  const memory = { name: "x", data: new Uint8Array(10) };
  for (const pieceLength of [0, 1000, 8192, 3 * 16384, 2 ** 31]) {
    await assertRejectsWithPath(createTorrent(memory, { pieceLength }), "pieceLength");
  }
  await assertRejectsWithPath(createTorrent({ name: "..", data: new Uint8Array(1) }), "name");
  await assertRejectsWithPath(
    createTorrent({ name: "d", files: [{ path: ["a", "../b"], data: new Uint8Array(1) }] }),
    "files[0].path[1]",
  );
  await assertRejectsWithPath(createTorrent({ name: "d", files: [] }), "files");
  await assert.rejects(createTorrent("/nonexistent/bittern/path"), Deno.errors.NotFound);
});

Deno.test("createTorrent stops when its signal aborts", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/f`, data(200_000, 7));
    const controller = new AbortController();
    const reason = new Error("stop");
    const promise = createTorrent(`${dir}/f`, {
      readChunkBytes: 16384,
      signal: controller.signal,
      onProgress: (hashed) => {
        if (hashed >= 50_000) controller.abort(reason);
      },
    });
    await assert.rejects(promise, (error) => error === reason);
  });
});

Deno.test("PieceHasher gives the same hashes whatever the chunking", () => {
  const content = data(50_000, 8);
  const whole = new PieceHasher(16384);
  whole.update(content);
  const bytewise = new PieceHasher(16384);
  for (let i = 0; i < content.length; i += 777) bytewise.update(content.subarray(i, i + 777));
  assert.deepEqual(bytewise.digest(), whole.digest());
  assert.equal(new PieceHasher(16384).digest().length, 0);
});

Deno.test("createTorrent takes a name override, checked like any name", async () => {
  const memory = { name: "x", data: new Uint8Array(10) };
  assert.equal((await createTorrent(memory, { name: "renamed" })).torrent.name, "renamed");
  await assertRejectsWithPath(createTorrent(memory, { name: "a/b" }), "name");
});

Deno.test("createTorrent writes web seeds as url-list, outside info: the info hash is unchanged", async () => {
  const source = { name: "w.bin", data: data(40_000, 9) };
  const plain = await createTorrent(source, { pieceLength: 16384 });
  const one = await createTorrent(source, {
    pieceLength: 16384,
    webSeeds: ["https://mirror.example/w.bin"],
  });
  const two = await createTorrent(source, {
    pieceLength: 16384,
    webSeeds: ["https://a.example/w.bin", "http://b.example/w.bin", "https://a.example/w.bin"],
  });
  // One URL is a string, more a list (duplicates dropped), as libtorrent writes them.
  const root = (bytes: Uint8Array) => decode(bytes) as { get(key: string): unknown };
  assert.ok(root(one.bytes).get("url-list") instanceof Uint8Array);
  assert.equal((root(two.bytes).get("url-list") as unknown[]).length, 2);
  for (const created of [one, two]) {
    assert.deepEqual(created.infoHashes, plain.infoHashes);
    assert.equal(parseTorrent(created.bytes).infoHashHex, plain.torrent.infoHashHex);
  }
  assert.deepEqual(parseTorrent(two.bytes).webSeeds, [
    { url: "https://a.example/w.bin", kind: "getright" },
    { url: "http://b.example/w.bin", kind: "getright" },
  ]);
  assert.deepEqual(plain.torrent.webSeeds, []);
  for (const bad of ["ftp://x.example/w.bin", "not a url", " https://x.example/"]) {
    await assertRejectsWithPath(createTorrent(source, { webSeeds: [bad] }), "webSeeds");
  }
  const many = Array.from({ length: 65 }, (_, i) => `https://m${i}.example/`);
  await assertRejectsWithPath(createTorrent(source, { webSeeds: many }), "webSeeds");
});

Deno.test("metainfoFromInfo writes a magnet's ws as url-list; the info bytes and hash stay", async () => {
  const { torrent } = await createTorrent({ name: "m.bin", data: data(20_000, 10) });
  for (
    const webSeeds of [
      [],
      ["https://w.example/m.bin"],
      ["https://w.example/m.bin", "http://v.example/m.bin", "ftp://skipped.example/m.bin"],
    ]
  ) {
    const bytes = metainfoFromInfo(torrent.infoBytes, {
      trackers: ["udp://t.example:1337"],
      webSeeds,
    });
    const saved = parseTorrent(bytes);
    assert.equal(saved.infoHashHex, torrent.infoHashHex);
    assert.deepEqual(saved.infoBytes, torrent.infoBytes);
    assert.deepEqual(saved.announce, [["udp://t.example:1337"]]);
    assert.deepEqual(
      saved.webSeeds?.map((seed) => seed.url),
      webSeeds.filter((url) => url.startsWith("http")),
    );
    // Canonical bencode: encoding the decoded root gives the same bytes.
    assert.deepEqual(encode(decode(bytes)), bytes);
  }
});
