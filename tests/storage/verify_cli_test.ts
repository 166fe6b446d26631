import assert from "node:assert/strict";
import { encode } from "../../src/bencode/encode.ts";
import { makeTorrent, patternBytes, withTempDir } from "./fixture.ts";

const KiB = 1024;

/** Runs `bittern verify` in a subprocess that may only read. */
async function verify(dir: string, args: string[]) {
  const script = `${dir}/run_verify.ts`;
  await Deno.writeTextFile(
    script,
    `import { main } from ${JSON.stringify(new URL("../../cli/verify.ts", import.meta.url).href)};
Deno.exit(await main(Deno.args));`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
      "--allow-read",
      script,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("bittern verify reports complete, missing and corrupt pieces, needing only read access", async () => {
  const files = [
    { path: ["a.bin"], content: patternBytes(40 * KiB, 1) },
    { path: ["sub", "b.bin"], content: patternBytes(30 * KiB, 2) },
  ];
  const fixture = makeTorrent(files, 16 * KiB, { name: "set" });
  await withTempDir(async (dir) => {
    const torrentPath = `${dir}/set.torrent`;
    await Deno.writeFile(
      torrentPath,
      encode({
        announce: "http://127.0.0.1:1/announce",
        info: {
          name: "set",
          "piece length": 16 * KiB,
          pieces: fixture.torrent.pieceHashes,
          files: files.map((file) => ({ length: file.content.length, path: file.path })),
        },
      }),
    );
    await Deno.mkdir(`${dir}/data/set/sub`, { recursive: true });
    await Deno.writeFile(`${dir}/data/set/a.bin`, files[0].content);
    await Deno.writeFile(`${dir}/data/set/sub/b.bin`, files[1].content);

    const complete = await verify(dir, [torrentPath, "--data", `${dir}/data`, "--json"]);
    assert.equal(complete.code, 0, complete.stderr);
    const report = JSON.parse(complete.stdout);
    assert.equal(report.complete, true);
    assert.equal(report.pieces, "11111");

    // Corrupt piece 1 (inside a.bin) and remove b.bin (pieces 3..4 lose data; 2 spans both).
    const corrupt = files[0].content.slice();
    corrupt[20 * KiB] ^= 1;
    await Deno.writeFile(`${dir}/data/set/a.bin`, corrupt);
    await Deno.remove(`${dir}/data/set/sub/b.bin`);
    const partial = await verify(dir, [torrentPath, "--data", `${dir}/data`, "--json"]);
    assert.equal(partial.code, 3, partial.stderr);
    const broken = JSON.parse(partial.stdout);
    assert.equal(broken.pieces, "10000");
    assert.deepEqual(
      broken.files.map((f: { path: string; piecesComplete: number }) => [f.path, f.piecesComplete]),
      [["set/a.bin", 1], ["set/sub/b.bin", 0]],
    );
    const text = await verify(dir, [torrentPath, "--data", `${dir}/data`]);
    assert.match(text.stdout, /pieces: 1\/5 good/);

    const usage = await verify(dir, [torrentPath]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--data DIR is required/);
  });
});
