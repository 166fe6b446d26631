import assert from "node:assert/strict";

import { runMetainfoCommand as run } from "./helpers.ts";
import { buildV2Torrent } from "./libtorrent_cases.ts";

Deno.test("bittern create then bittern info round-trips a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/Fotos ü/2024`, { recursive: true });
    await Deno.writeFile(`${dir}/Fotos ü/a.jpg`, new Uint8Array(70_000).fill(1));
    await Deno.writeFile(`${dir}/Fotos ü/2024/b.jpg`, new Uint8Array(3000).fill(2));
    const out = `${dir}/fotos.torrent`;
    const created = await run("create", [
      `${dir}/Fotos ü`,
      "-o",
      out,
      "-a",
      "http://127.0.0.1:1/a,http://127.0.0.1:2/a",
      "--announce",
      "http://127.0.0.1:3/a",
      "--private",
      "--piece-length",
      "32K",
      "--comment",
      "holiday",
      "--format",
      "v1",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /info hash: [0-9a-f]{40}/);

    const json = await run("info", [out, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout);
    assert.equal(info.name, "Fotos ü");
    assert.equal(info.length, 73_000);
    assert.equal(info.pieceLength, 32768);
    assert.equal(info.pieceCount, 3);
    assert.equal(info.private, true);
    assert.equal(info.comment, "holiday");
    assert.deepEqual(info.announce, [
      ["http://127.0.0.1:1/a", "http://127.0.0.1:2/a"],
      ["http://127.0.0.1:3/a"],
    ]);
    assert.deepEqual(info.files.map((f: { path: string[] }) => f.path.join("/")), [
      "Fotos ü/2024/b.jpg",
      "Fotos ü/a.jpg",
    ]);
    assert.ok(created.stdout.includes(info.infoHash));

    const text = await run("info", [out]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`info hash: +${info.infoHash}`));
    // Each file with the index `download --files` takes.
    assert.match(text.stdout, /2024\/\n +\[0\] b\.jpg +2\.93 KiB/);
    assert.match(text.stdout, /^ +\[1\] a\.jpg +68\.4 KiB$/m);
    assert.deepEqual(info.files.map((f: { index: number }) => f.index), [0, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bittern create and info report bad usage and bad input", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a torrent");
    const missingOutput = await run("create", [`${dir}/notes.txt`]);
    assert.equal(missingOutput.code, 2);
    assert.match(missingOutput.stderr, /missing -o/);
    // Flags createTorrent would refuse are bad usage (exit 2) naming the flag.
    for (const pieceLength of ["3M", "1000", "8K", "2G"]) {
      const badPiece = await run("create", [
        `${dir}/notes.txt`,
        "-o",
        `${dir}/x`,
        "--piece-length",
        pieceLength,
      ]);
      assert.equal(badPiece.code, 2, `${pieceLength}: ${badPiece.stderr}`);
      assert.match(badPiece.stderr, /^bittern create: --piece-length expects a power of two/);
    }
    for (const name of ["", ".", "..", "a/b"]) {
      const badName = await run("create", [`${dir}/notes.txt`, "-o", `${dir}/x`, "--name", name]);
      assert.equal(badName.code, 2, `'${name}': ${badName.stderr}`);
      assert.match(badName.stderr, /^bittern create: --name expects a plain file name/);
    }
    await assert.rejects(Deno.stat(`${dir}/x`), Deno.errors.NotFound);
    const unknownFlag = await run("info", ["--bogus"]);
    assert.equal(unknownFlag.code, 2);
    const notTorrent = await run("info", [`${dir}/notes.txt`]);
    assert.equal(notTorrent.code, 1);
    // One plain line: no nesting of error names and causes.
    assert.equal(
      notTorrent.stderr,
      `bittern info: ${dir}/notes.txt is not a torrent file: bencode error at byte 0 ` +
        `(expected 'i', 'l', 'd' or a digit)\n`,
    );
    const help = await run("info", ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: bittern info/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bittern info shows a v2 torrent's version, v2 info hash and BEP 47 attributes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = buildV2Torrent([
      { path: ["run.sh"], length: 100, attr: "x" },
      { path: ["link"], attr: "l", symlink: ["run.sh"] },
      { path: [".secret"], length: 5, attr: "h" },
    ], { name: "tools" });
    // A trailing newline, as some of libtorrent's test torrents have.
    await Deno.writeFile(`${dir}/v2.torrent`, new Uint8Array([...bytes, 0x0a]));
    const text = await run("info", [`${dir}/v2.torrent`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /version: +v2 only \(BEP 52\)\n/);
    assert.match(text.stdout, /info hash v2: +[0-9a-f]{64}/);
    // A file tree lists its files in key order.
    assert.match(text.stdout, /\[0\] \.secret {2}5 B {2}\(hidden\)/);
    assert.match(text.stdout, /\[1\] link {2}0 B {2}-> tools\/run\.sh/);
    assert.match(text.stdout, /\[2\] run\.sh {2}100 B {2}\(executable\)/);
    assert.match(text.stdout, /warning: +1 bytes after the root dictionary were ignored/);
    const json = JSON.parse((await run("info", [`${dir}/v2.torrent`, "--json"])).stdout);
    assert.equal(json.version, 2);
    assert.equal(json.infoHashV2.length, 64);
    assert.equal(json.infoHash, json.infoHashV2.slice(0, 40));
    assert.equal(json.files[2].executable, true);
    assert.equal(json.files[2].piecesRoot.length, 64);
    assert.deepEqual(json.files[1].symlinkTarget, ["tools", "run.sh"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bittern create --web-seed writes url-list (repeatable), info shows it, the info hash is the same", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/w.iso`, new Uint8Array(50_000).fill(3));
    const plain = await run("create", [`${dir}/w.iso`, "-o", `${dir}/plain.torrent`]);
    assert.equal(plain.code, 0, plain.stderr);
    const seeded = await run("create", [
      `${dir}/w.iso`,
      "-o",
      `${dir}/seeded.torrent`,
      "--web-seed",
      "https://mirror.example/w.iso",
      "--web-seed",
      "http://127.0.0.1:8080/w.iso",
    ]);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, /^web seed: +https:\/\/mirror\.example\/w\.iso$/m);
    const [before, after] = await Promise.all(
      ["plain", "seeded"].map(async (name) => {
        const info = await run("info", [`${dir}/${name}.torrent`, "--json"]);
        assert.equal(info.code, 0, info.stderr);
        return JSON.parse(info.stdout);
      }),
    );
    assert.equal(after.infoHash, before.infoHash);
    assert.equal(after.infoHashV2, before.infoHashV2);
    assert.deepEqual(before.webSeeds, []);
    assert.deepEqual(after.webSeeds, [
      { url: "https://mirror.example/w.iso", kind: "getright" },
      { url: "http://127.0.0.1:8080/w.iso", kind: "getright" },
    ]);
    const text = await run("info", [`${dir}/seeded.torrent`]);
    assert.match(text.stdout, /^web seed: +http:\/\/127\.0\.0\.1:8080\/w\.iso$/m);
    // Not an http(s) URL: bad usage, nothing written.
    const bad = await run("create", [
      `${dir}/w.iso`,
      "-o",
      `${dir}/bad.torrent`,
      "--web-seed",
      "ftp://mirror.example/w.iso",
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--web-seed expects an http:\/\/ or https:\/\/ URL, not 'ftp:/);
    await assert.rejects(Deno.stat(`${dir}/bad.torrent`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
