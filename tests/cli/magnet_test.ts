import assert from "node:assert/strict";
import { join } from "node:path";
import { formatMagnet, parseTorrent } from "../../mod.ts";
import { runCli, sameBytes, STACK_LINE, startLocalSwarm } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

Deno.test("download <magnet> --save-torrent: metadata from the seeder, the data, and the .torrent written", async () => {
  await using swarm = await startLocalSwarm();
  const out = join(swarm.dir, "dl");
  const saved = join(swarm.dir, "saved.torrent");
  const magnet = formatMagnet({
    infoHash: swarm.torrent.infoHash,
    name: "from magnet",
    trackers: [swarm.tracker.url],
    peers: [{ host: "127.0.0.1", port: swarm.seederPort }],
    // Nothing listens there: the download goes on from the seeder; the URL lands in url-list.
    webSeeds: ["http://127.0.0.1:9/payload.bin"],
  });
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out},${saved}`],
    ["download", magnet, "--out", out, ...LOOPBACK, "--save-torrent", saved, "--json"],
  );
  assert.equal(result.code, 0, result.stderr);
  const events = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const types = events.map((event) => event.event);
  assert.ok(types.indexOf("metadata") >= 0, types.join(" "));
  assert.ok(types.indexOf("metadata") < types.indexOf("started"), types.join(" "));
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
  const torrent = parseTorrent(await Deno.readFile(saved));
  assert.equal(torrent.infoHashHex, swarm.torrent.infoHashHex);
  assert.deepEqual(torrent.announce, [[swarm.tracker.url]]);
  assert.deepEqual(torrent.webSeeds, [{ url: "http://127.0.0.1:9/payload.bin", kind: "getright" }]);
});

Deno.test("download with a bad magnet link: exit 2, the message names the parameter", async () => {
  const cases = [
    { link: "magnet:?dn=nothing", parameter: "xt" },
    { link: "magnet:?xt=urn:btih:1234", parameter: "xt" },
    {
      link: `magnet:?xt=urn:btih:${"ab".repeat(20)}&x.pe=not-an-address`,
      parameter: "x.pe",
    },
  ];
  for (const { link, parameter } of cases) {
    const result = await runCli(["--allow-net=127.0.0.1"], ["download", link, ...LOOPBACK]);
    assert.equal(result.code, 2, `${link}: ${result.stderr}`);
    assert.match(result.stderr, /^bittern download: /);
    assert.ok(result.stderr.includes(parameter), `${parameter} in: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});
