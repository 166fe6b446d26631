import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, formatMagnet, MemoryStorage, parseTorrent, Runtime } from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { runCli, sameBytes } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

Deno.test("download <btmh magnet> --save-torrent: the data, and a .torrent with piece layers", async () => {
  const dir = await Deno.makeTempDir();
  const data = payload(200_000, 9);
  const { torrent } = await createTorrent({ name: "v2.bin", data }, {
    pieceLength: 16384,
    format: "v2",
  });
  const storage = new MemoryStorage();
  const opened = await storage.open(torrent);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    await opened.write(piece, 0, data.subarray(piece * 16384, (piece + 1) * 16384));
  }
  await opened.close();
  const seed = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  try {
    await seed.add(torrent, { storage });
    const out = join(dir, "dl");
    const saved = join(dir, "saved.torrent");
    const magnet = formatMagnet({
      infoHashV2: torrent.infoHashV2!,
      peers: [{ host: "127.0.0.1", port: seed.port! }],
    });
    const result = await runCli(
      ["--allow-net=127.0.0.1", `--allow-write=${out},${saved}`],
      ["download", magnet, "--out", out, ...LOOPBACK, "--save-torrent", saved],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.ok(sameBytes(await Deno.readFile(join(out, "v2.bin")), data));
    const written = parseTorrent(await Deno.readFile(saved));
    assert.equal(written.version, 2);
    assert.equal(written.infoHashV2Hex, torrent.infoHashV2Hex);
    assert.deepEqual(written.files[0].pieceLayer, torrent.files[0].pieceLayer);
  } finally {
    await seed.close();
    await Deno.remove(dir, { recursive: true });
  }
});
