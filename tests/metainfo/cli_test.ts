import assert from "node:assert/strict";

import { buildV2Torrent } from "./libtorrent_cases.ts";

const CLI = new URL("../../cli/", import.meta.url).href;

/** Runs one of the metainfo commands in a child Deno, as a user would. */
async function run(
  command: "create" | "info",
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const code = `
    import { main } from "${CLI}${command}.ts";
    Deno.exit(await main(JSON.parse(Deno.args[0])));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", "--allow-read", "--allow-write", code, JSON.stringify(args)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

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
