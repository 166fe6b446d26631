import assert from "node:assert/strict";
import { join } from "node:path";
import { metainfoFromInfo } from "../../mod.ts";
import { slowSeeder } from "../stream/helpers.ts";
import { escapeHtml } from "../../cli/stream.ts";
import { runCli, streamCli } from "./helpers.ts";

const MiB = 1 << 20;

/** JSON lines of a given event. */
function isEvent(name: string): (line: string) => boolean {
  return (line) => line.startsWith("{") && JSON.parse(line).event === name;
}

Deno.test("stream: serves the listing and ranges over HTTP while downloading; Ctrl-C stops it", async () => {
  await using seeder = await slowSeeder([4 * MiB, 1000], 1.5 * MiB);
  const dir = await Deno.makeTempDir({ prefix: "bittern-cli-stream-" });
  try {
    const torrentPath = join(dir, "scene.torrent");
    await Deno.writeFile(torrentPath, metainfoFromInfo(seeder.torrent.infoBytes));
    const out = join(dir, "out");
    await using child = streamCli(dir, torrentPath, out, seeder.port);
    const { url } = JSON.parse(await child.waitForLine(isEvent("http")));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

    const listing = await fetch(url);
    assert.equal(listing.status, 200);
    assert.match(listing.headers.get("content-type")!, /^text\/html/);
    const html = await listing.text();
    assert.match(html, /<a href="\/0">scene\/f0\.bin<\/a>/);
    assert.match(html, /<a href="\/1">scene\/f1\.bin<\/a>/);

    const file = seeder.files[0];
    const start = Math.floor(file.length * 0.8);
    const range = await fetch(`${url}0`, {
      headers: { range: `bytes=${start}-${start + 99_999}` },
    });
    assert.equal(range.status, 206);
    assert.equal(
      range.headers.get("content-range"),
      `bytes ${start}-${start + 99_999}/${file.length}`,
    );
    assert.deepEqual(
      new Uint8Array(await range.arrayBuffer()),
      file.subarray(start, start + 100_000),
    );

    // Two readers at once, and HEAD.
    const [whole, small] = await Promise.all([fetch(`${url}0`), fetch(`${url}1`)]);
    assert.deepEqual(new Uint8Array(await small.arrayBuffer()), seeder.files[1]);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), file);
    const head = await fetch(`${url}1`, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "1000");
    assert.equal((await fetch(`${url}nope`)).status, 404);

    child.kill("SIGINT");
    const { code } = await child.exit();
    assert.equal(code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stream: without --allow-read for DIR it says which flag to add", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bittern-cli-stream-" });
  try {
    const magnet = `magnet:?xt=urn:btih:${"ab".repeat(20)}`;
    const result = await runCli(
      ["--allow-net=127.0.0.1", `--allow-write=${dir}`],
      ["stream", magnet, "--out", dir, "--port", "0", "--no-dht"],
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`--allow-read=${dir.replaceAll("/", "\\/")}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stream: bad --http-port is a usage error", async () => {
  const result = await runCli([], ["stream", "x.torrent", "--out", "dl", "--http-port", "70000"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--http-port expects 0\.\.65535, not '70000'/);
});

Deno.test("stream: file names in the listing are escaped", () => {
  assert.equal(
    escapeHtml(`<img src=x onerror="alert('&')">`),
    "&#60;img src=x onerror=&#34;alert(&#39;&#38;&#39;)&#34;&#62;",
  );
});
