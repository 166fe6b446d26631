import assert from "node:assert/strict";
import {
  BencodeDict,
  type BencodeValue,
  createTorrent,
  parseTorrent,
  readWebSeeds,
  webSeedFileUrl,
  webSeedParts,
} from "../../mod.ts";

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("metainfo: url-list as a string or a list, httpseeds, non-http and junk skipped", async () => {
  const { bytes } = await createTorrent({ name: "x", data: new Uint8Array(100) });
  const parsed = parseTorrent(bytes);
  assert.deepEqual(parsed.webSeeds, []);
  assert.deepEqual(readWebSeeds(new BencodeDict()), []);

  const root = (urlList: BencodeValue, httpseeds?: BencodeValue) =>
    new BencodeDict([
      ["url-list", urlList],
      ...(httpseeds === undefined ? [] : [["httpseeds", httpseeds] as [string, BencodeValue]]),
    ]);
  assert.deepEqual(readWebSeeds(root(text("http://a.example/x"))), [
    { url: "http://a.example/x", kind: "getright" },
  ]);
  const junk = [
    text("https://b.example/"),
    text("ftp://c.example/"),
    7,
    text("not a url"),
    new Uint8Array([0xff, 0xfe]),
    text("https://b.example/"),
  ];
  assert.deepEqual(readWebSeeds(root(junk, [text("http://h.example/seed.php")])), [
    { url: "https://b.example/", kind: "getright" },
    { url: "http://h.example/seed.php", kind: "hoffman" },
  ]);

  // Through parseTorrent: the keys sit beside `info`, outside the info hash.
  const keys = text("8:url-listl19:http://m.example/d/e9:httpseedsl22:http://m.example/s.phpe");
  const spliced = new Uint8Array(bytes.length + keys.length);
  spliced.set(bytes.subarray(0, 1));
  spliced.set(keys, 1);
  spliced.set(bytes.subarray(1), 1 + keys.length);
  const withSeeds = parseTorrent(spliced);
  assert.deepEqual(withSeeds.webSeeds, [
    { url: "http://m.example/d/", kind: "getright" },
    { url: "http://m.example/s.php", kind: "hoffman" },
  ]);
  assert.equal(withSeeds.infoHashHex, parsed.infoHashHex);
});

Deno.test("layout: BEP 19 file URLs, percent-encoded, single and multi-file", async () => {
  const single = (await createTorrent({ name: "a b.iso", data: new Uint8Array(10) })).torrent;
  assert.equal(webSeedFileUrl("http://m/x.iso", single, 0), "http://m/x.iso");
  assert.equal(webSeedFileUrl("http://m/pub/", single, 0), "http://m/pub/a%20b.iso");
  const multi = (await createTorrent({
    name: "al bum",
    files: [{ path: ["d ir", "f#1.txt"], data: new Uint8Array(5) }],
  })).torrent;
  assert.equal(webSeedFileUrl("http://m/pub", multi, 0), "http://m/pub/al%20bum/d%20ir/f%231.txt");
  assert.equal(webSeedFileUrl("http://m/pub/", multi, 0), "http://m/pub/al%20bum/d%20ir/f%231.txt");
});

Deno.test("layout: a span across files becomes one range per file; empty files skipped", async () => {
  const { torrent } = await createTorrent({
    name: "t",
    files: [
      { path: ["a"], data: new Uint8Array(100) },
      { path: ["empty"], data: new Uint8Array(0) },
      { path: ["b"], data: new Uint8Array(50) },
      { path: ["c"], data: new Uint8Array(200) },
    ],
  }, { pieceLength: 16384 });
  const seed = { url: "http://m/", kind: "getright" } as const;
  assert.deepEqual(webSeedParts(seed, torrent, 90, 170), [
    { kind: "range", url: "http://m/t/a", first: 90, last: 99, fileLength: 100, length: 10 },
    { kind: "range", url: "http://m/t/b", first: 0, last: 49, fileLength: 50, length: 50 },
    { kind: "range", url: "http://m/t/c", first: 0, last: 19, fileLength: 200, length: 20 },
  ]);
  assert.deepEqual(webSeedParts(seed, torrent, 100, 110).map((part) => part.length), [10]);
});

Deno.test("layout: BEP 17 asks one piece per request, ranges inside the piece", async () => {
  const { torrent } = await createTorrent({ name: "h", data: new Uint8Array(100_000) }, {
    pieceLength: 32768,
  });
  const parts = webSeedParts({ url: "http://s/seed.php", kind: "hoffman" }, torrent, 30000, 70000);
  const hash = [...torrent.infoHash].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
  assert.deepEqual(parts, [
    {
      kind: "pieces",
      url: `http://s/seed.php?info_hash=${hash}&piece=0&ranges=30000-32767`,
      length: 2768,
    },
    {
      kind: "pieces",
      url: `http://s/seed.php?info_hash=${hash}&piece=1&ranges=0-32767`,
      length: 32768,
    },
    {
      kind: "pieces",
      url: `http://s/seed.php?info_hash=${hash}&piece=2&ranges=0-4463`,
      length: 4464,
    },
  ]);
});
