/** `--download-limit` / `--upload-limit`: parsing, bad values, and a limited CLI download. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseRate, parseRateLimits } from "../../cli/args.ts";
import { runCli, sameBytes, STACK_LINE, startLocalSwarm } from "./helpers.ts";

Deno.test("parseRate: plain bytes and binary K/M/G suffixes; anything else is refused", () => {
  const good: [string, number][] = [
    ["0", 0],
    ["65536", 65536],
    ["512K", 512 * 1024],
    ["512k", 512 * 1024],
    ["8M", 8 * 1024 * 1024],
    ["1.5M", 1.5 * 1024 * 1024],
    ["1G", 1024 ** 3],
  ];
  for (const [text, bytes] of good) assert.equal(parseRate(text), bytes, text);
  for (const bad of ["", "-1", "8X", "M", "8 M B", "1e6", "0x10", "8MB", "Infinity", "1..2"]) {
    assert.equal(parseRate(bad), undefined, bad);
  }
  assert.deepEqual(parseRateLimits({}), {});
  assert.deepEqual(parseRateLimits({ "download-limit": "8M", "upload-limit": "0" }), {
    downloadLimit: 8 * 1024 * 1024,
    uploadLimit: 0,
  });
  assert.match(
    String(parseRateLimits({ "upload-limit": "fast" })),
    /^--upload-limit expects bytes per second like 8M, 512K or 65536, not 'fast'$/,
  );
});

Deno.test("a bad --download-limit or --upload-limit exits 2 naming the flag and the value", async () => {
  const cases: [string[], RegExp][] = [
    [["download", "x.torrent", "--download-limit", "8X"], /--download-limit expects .* not '8X'/],
    [["download", "x.torrent", "--upload-limit", "lots"], /--upload-limit expects .* not 'lots'/],
    [["seed", "x.torrent", "--data", "d", "--upload-limit", "1T"], /not '1T'/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli([], args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr.split("\n")[0], expected);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});

Deno.test("download --download-limit 64K is held to it (a lower bound: load only adds time)", async () => {
  await using swarm = await startLocalSwarm(); // 256 KiB
  const out = join(swarm.dir, "dl");
  const started = performance.now();
  const result = await runCli(["--allow-net=127.0.0.1", `--allow-write=${out}`], [
    "download",
    swarm.torrentUrl,
    "--out",
    out,
    "--bind",
    "127.0.0.1",
    "--port",
    "0",
    "--download-limit",
    "64K",
  ]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
  // 256 KiB at 64 KiB/s, less the first burst (32 KiB) and one block read before it waits.
  const least = (256 - 32 - 16) / 64;
  assert.ok(seconds >= least, `done in ${seconds.toFixed(2)} s, the limit allows ${least} s`);
});
