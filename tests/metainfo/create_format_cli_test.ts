import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type BencodeDict, decode, locate } from "../../src/bencode/mod.ts";
import { runMetainfoCommand } from "./helpers.ts";

/** Runs `bittern create` in a child Deno, as a user would. */
const create = (args: string[]) => runMetainfoCommand("create", args);

function infoHash(bytes: Uint8Array, algorithm: "sha1" | "sha256"): string {
  const span = locate(bytes, ["info"]);
  assert.ok(span);
  return createHash(algorithm).update(bytes.subarray(span.start, span.end)).digest("hex");
}

Deno.test("bittern create makes hybrids by default and v1 or v2 with --format", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/album/disc 2`, { recursive: true });
    await Deno.writeFile(`${dir}/album/one.bin`, new Uint8Array(40_000).fill(1));
    await Deno.writeFile(`${dir}/album/disc 2/two.bin`, new Uint8Array(3000).fill(2));

    const hybrid = await create([
      `${dir}/album`,
      "-o",
      `${dir}/h.torrent`,
      "--piece-length",
      "16K",
    ]);
    assert.equal(hybrid.code, 0, hybrid.stderr);
    const bytes = await Deno.readFile(`${dir}/h.torrent`);
    assert.match(hybrid.stdout, /^format: {4}hybrid$/m);
    assert.match(hybrid.stdout, new RegExp(`^info hash: ${infoHash(bytes, "sha1")}$`, "m"));
    assert.match(hybrid.stdout, new RegExp(`^v2 hash: {3}${infoHash(bytes, "sha256")}$`, "m"));
    // "disc 2/two.bin" (1 piece + pad), then "one.bin" (3 pieces + pad).
    assert.match(hybrid.stdout, /^size: {6}42\.\d+ KiB in 2 file\(s\)$/m);
    assert.match(hybrid.stdout, /^pieces: {4}4 x 16\.0 KiB$/m);
    const info = (decode(bytes) as BencodeDict).get("info") as BencodeDict;
    assert.equal(info.get("meta version"), 2);
    assert.equal((info.get("files") as unknown[]).length, 4);

    const v2 = await create([`${dir}/album`, "-o", `${dir}/v2.torrent`, "--format", "v2"]);
    assert.equal(v2.code, 0, v2.stderr);
    assert.doesNotMatch(v2.stdout, /^info hash:/m);
    const v2Bytes = await Deno.readFile(`${dir}/v2.torrent`);
    assert.match(v2.stdout, new RegExp(`^v2 hash: {3}${infoHash(v2Bytes, "sha256")}$`, "m"));
    assert.equal(
      ((decode(v2Bytes) as BencodeDict).get("info") as BencodeDict).has("pieces"),
      false,
    );

    const v1 = await create([`${dir}/album`, "-o", `${dir}/v1.torrent`, "--format", "v1"]);
    assert.equal(v1.code, 0, v1.stderr);
    assert.doesNotMatch(v1.stdout, /^v2 hash:/m);
    const v1Info = (decode(await Deno.readFile(`${dir}/v1.torrent`)) as BencodeDict)
      .get("info") as BencodeDict;
    assert.equal(v1Info.has("meta version"), false);

    const bad = await create([`${dir}/album`, "-o", `${dir}/x.torrent`, "--format", "v3"]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr.split("\n")[0],
      "bittern create: --format expects v1, v2 or hybrid, not 'v3'",
    );
    await assert.rejects(Deno.stat(`${dir}/x.torrent`), Deno.errors.NotFound);

    const help = await create(["--help"]);
    assert.match(help.stdout, /--format FORMAT +v1, v2 \(BEP 52\) or hybrid/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
