import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../mod.ts";
import { CliProcess, runCli, sameBytes, STACK_LINE } from "../cli/helpers.ts";
import { payload } from "../session/helpers.ts";
import { serveFiles } from "./server.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

async function fixture() {
  const dir = await Deno.makeTempDir();
  const data = payload(600_000, 5);
  const { torrent, bytes } = await createTorrent({ name: "w.bin", data }, { pieceLength: 32768 });
  const torrentPath = join(dir, "w.torrent");
  await Deno.writeFile(torrentPath, bytes);
  const out = join(dir, "dl");
  return { dir, data, torrent, torrentPath, out, files: new Map([["w.bin", data]]) };
}

Deno.test("cli: download --web-seed URL fetches from the web server alone", async () => {
  const { dir, data, torrentPath, out, files } = await fixture();
  const server = serveFiles(files);
  try {
    const result = await runCli(
      ["--allow-net=127.0.0.1", `--allow-read=${torrentPath}`, `--allow-write=${out}`],
      ["download", torrentPath, "--out", out, ...LOOPBACK, "--no-dht", "--web-seed", server.url],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /downloaded w\.bin/);
    assert.ok(sameBytes(await Deno.readFile(join(out, "w.bin")), data));
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a failing web seed is reported as it backs off; a bad or unreachable URL is a plain error", async () => {
  const { dir, torrentPath, out, files } = await fixture();
  const server = serveFiles(files, "416");
  const permissions = [
    "--allow-net=127.0.0.1",
    `--allow-read=${torrentPath}`,
    `--allow-write=${out}`,
  ];
  try {
    {
      await using cli = new CliProcess(permissions, [
        "download",
        torrentPath,
        "--out",
        out,
        ...LOOPBACK,
        "--no-dht",
        "--json",
        "--web-seed",
        server.url,
      ]);
      const line = await cli.waitForLine((text) => text.includes('"web-seed-failed"'));
      const event = JSON.parse(line);
      assert.equal(event.url, server.url);
      assert.match(event.message, /HTTP 416/);
      assert.equal(event.retryInMs, 30_000);
    }
    const denied = await runCli(permissions, [
      "download",
      torrentPath,
      "--out",
      out,
      ...LOOPBACK,
      "--web-seed",
      "http://192.0.2.7:8080/w.bin",
    ]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /--allow-net=192\.0\.2\.7:8080/);
    assert.doesNotMatch(denied.stderr, STACK_LINE);
    const usage = await runCli(permissions, ["download", torrentPath, "--web-seed", "ftp://x/y"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--web-seed expects an http/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
