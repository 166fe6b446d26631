/**
 * The CLI with BEP 52 torrents: `info` shows the version and both info hashes, and `download`
 * fetches a v2-only and a hybrid torrent from a seeder, byte-exact.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, FileSystemStorage, Runtime } from "../../mod.ts";
import { patternBytes } from "../storage/fixture.ts";
import { runCli, sameBytes } from "./helpers.ts";

const FILES = [
  { name: "a.bin", data: patternBytes(100_000, 7) },
  { name: "b.bin", data: patternBytes(33_333, 8) },
];

for (const format of ["v2", "hybrid"] as const) {
  Deno.test(`info and download of a ${format} torrent`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `bittern-cli-${format}-` });
    const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 }, dht: false });
    try {
      const seedDir = join(dir, "seed");
      await Deno.mkdir(join(seedDir, "pay"), { recursive: true });
      for (const file of FILES) await Deno.writeFile(join(seedDir, "pay", file.name), file.data);
      const { bytes, torrent } = await createTorrent(join(seedDir, "pay"), {
        format,
        pieceLength: 16384,
      });
      const torrentPath = join(dir, "pay.torrent");
      await Deno.writeFile(torrentPath, bytes);
      await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });

      const info = await runCli([`--allow-read=${torrentPath}`], ["info", torrentPath]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, format === "v2" ? /^version: +v2 only/m : /^version: +hybrid/m);
      assert.match(info.stdout, new RegExp(`^info hash: +${torrent.infoHashHex}`, "m"));
      assert.match(info.stdout, new RegExp(`^info hash v2: +${torrent.infoHashV2Hex}$`, "m"));

      const out = join(dir, "dl");
      const download = await runCli(
        ["--allow-net=127.0.0.1", `--allow-read=${torrentPath}`, `--allow-write=${out}`],
        [
          "download",
          torrentPath,
          "--out",
          out,
          "--bind",
          "127.0.0.1",
          "--port",
          "0",
          "--no-dht",
          "--peer",
          `127.0.0.1:${seeder.port}`,
        ],
      );
      assert.equal(download.code, 0, download.stderr);
      for (const file of FILES) {
        assert.ok(sameBytes(await Deno.readFile(join(out, "pay", file.name)), file.data));
      }
    } finally {
      await seeder.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
