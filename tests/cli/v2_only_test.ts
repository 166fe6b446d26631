import assert from "node:assert/strict";
import { parseTorrent } from "../../mod.ts";
import { buildV2Torrent } from "../metainfo/libtorrent_cases.ts";
import { runCli, STACK_LINE } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

Deno.test("download of a btmh-only magnet: exit 1, one line saying why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = buildV2Torrent([{ path: ["a"], length: 1000 }]);
    await Deno.writeFile(`${dir}/v2.torrent`, bytes);
    const magnet = `magnet:?xt=urn:btmh:1220${parseTorrent(bytes).infoHashV2Hex}`;
    for (const source of [magnet]) {
      const result = await runCli(
        ["--allow-net=127.0.0.1", "--allow-read", "--allow-write"],
        ["download", source, "--out", dir, ...LOOPBACK],
      );
      assert.equal(result.code, 1, `${source}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^bittern download: downloading v2-only torrents is not supported yet \(.*\)\n$/,
      );
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["v2.torrent"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
