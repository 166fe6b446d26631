/**
 * File indices are the files people see: on a torrent with BEP 47 padding files (as
 * hybrid torrents have), `info` numbers only the real files and `download --files`
 * takes those numbers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileSystemStorage, parseTorrent, Runtime } from "../../mod.ts";
import { paddedTorrent } from "../metainfo/helpers.ts";
import { patternBytes } from "../storage/fixture.ts";
import { runCli, sameBytes } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

Deno.test("info numbers the visible files and download --files 2 fetches the third listed, on a padded torrent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bittern-cli-padding-" });
  const padded = paddedTorrent([
    { name: "a.bin", data: patternBytes(20_000, 1) },
    { name: "b.bin", data: patternBytes(5_000, 2) },
    { name: "c.bin", data: patternBytes(30_000, 3) },
  ]);
  const torrentPath = join(dir, "padded.torrent");
  await Deno.writeFile(torrentPath, padded.bytes);
  const seedDir = join(dir, "seed");
  await Deno.mkdir(join(seedDir, padded.name), { recursive: true });
  for (const file of padded.files) {
    await Deno.writeFile(join(seedDir, padded.name, file.name), file.data);
  }
  const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  try {
    const torrent = parseTorrent(padded.bytes);
    const seeding = await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
    assert.equal(seeding.stats().verifiedPieces, torrent.pieceCount);

    const info = await runCli([`--allow-read=${torrentPath}`], ["info", torrentPath]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^files: +3 /m);
    assert.match(info.stdout, /^ +\[0\] a\.bin /m);
    assert.match(info.stdout, /^ +\[1\] b\.bin /m);
    assert.match(info.stdout, /^ +\[2\] c\.bin /m);
    assert.doesNotMatch(info.stdout, /\.pad/);

    const out = join(dir, "dl");
    const permissions = [
      "--allow-net=127.0.0.1",
      `--allow-read=${torrentPath}`,
      `--allow-write=${out}`,
    ];
    const peer = ["--peer", `127.0.0.1:${seeder.port}`];
    const outOfRange = await runCli(permissions, [
      "download",
      torrentPath,
      "--out",
      out,
      ...LOOPBACK,
      ...peer,
      "--files",
      "3",
    ]);
    assert.equal(outOfRange.code, 2, outOfRange.stderr);
    assert.match(outOfRange.stderr, /--files: the torrent has 3 files \(0\.\.2;/);

    const third = await runCli(permissions, [
      "download",
      torrentPath,
      "--out",
      out,
      ...LOOPBACK,
      ...peer,
      "--files",
      "2",
    ]);
    assert.equal(third.code, 0, third.stderr);
    assert.ok(
      sameBytes(await Deno.readFile(join(out, padded.name, "c.bin")), padded.files[2].data),
    );
    // c.bin shares no piece with the others: nothing else was written.
    await assert.rejects(Deno.stat(join(out, padded.name, "a.bin")), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(join(out, padded.name, "b.bin")), Deno.errors.NotFound);
  } finally {
    await seeder.close();
    await Deno.remove(dir, { recursive: true });
  }
});
