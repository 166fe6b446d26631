import assert from "node:assert/strict";
import { join } from "node:path";
import { CliProcess, hasScript, startLocalSwarm } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];
const ignore = !hasScript;
if (ignore) {
  // deno-lint-ignore no-console -- says why the tests below are skipped
  console.warn("skipping terminal tests: /usr/bin/script (util-linux) is not installed");
}

/** Carriage return and erase line: the status line redraws in place. */
const REDRAW = "\r\x1b[2K";

Deno.test({
  name: "on a terminal: a status line redrawn in place, and Ctrl-C stops with exit 130",
  ignore,
  async fn() {
    // No seeder: the download stays at 0% until the real Ctrl-C typed on its terminal.
    await using swarm = await startLocalSwarm({ seeder: false });
    const out = join(swarm.dir, "dl");
    await using child = new CliProcess(
      ["--allow-net=127.0.0.1", `--allow-write=${out}`],
      ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK],
      { terminal: true },
    );
    await child.waitForText(/ETA/);
    assert.ok(child.text.startsWith(REDRAW), JSON.stringify(child.text));
    assert.match(
      child.text,
      /payload\.bin +0\.0% {2}0 B\/256\.0 KiB {2}down 0 B\/s {2}up 0 B\/s {2}peers 0 {2}ETA --/,
    );
    await child.typeCtrlC();
    const { code, stdout } = await child.exit();
    assert.equal(code, 130);
    // Terminal output mixes in stderr: the stop notice comes on a line of its own.
    assert.match(stdout, /\r\nstopping \(Ctrl-C again to quit at once\)\r\n/);
  },
});

Deno.test({
  name: "on a terminal: a completed download ends with its summary line",
  ignore,
  async fn() {
    await using swarm = await startLocalSwarm();
    const out = join(swarm.dir, "dl");
    await using child = new CliProcess(
      ["--allow-net=127.0.0.1", `--allow-write=${out}`],
      ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK],
      { terminal: true },
    );
    const { code, stdout } = await child.exit();
    assert.equal(code, 0, stdout);
    assert.match(stdout, /downloaded payload\.bin: 256\.0 KiB in \d+s \(.+\/s\)\r\n$/);
    // Tracker announces are not logged on a terminal (only their errors are).
    assert.doesNotMatch(stdout, /tracker http/);
  },
});
