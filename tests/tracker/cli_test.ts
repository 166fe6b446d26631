import assert from "node:assert/strict";
import { announce, udpAnnounce } from "../../src/tracker/mod.ts";
import { plainParams } from "./helpers.ts";

const script = new URL("../../cli/tracker.ts", import.meta.url).pathname;

/**
 * Runs `bittern tracker` with `args`, hands `body` a reader of its stdout (`until(done)` reads,
 * bounded, until `done(output so far)` holds, and returns the output), then checks it exited 0
 * (the body sends SIGINT).
 */
async function withTracker(
  args: string[],
  body: (
    child: Deno.ChildProcess,
    until: (done: (output: string) => boolean) => Promise<string>,
  ) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const until = async (done: (output: string) => boolean) => {
    // Bounded: a dead child ends the stream.
    for (let reads = 0; reads < 100 && !done(output); reads++) {
      const { done: ended, value } = await lines.read();
      if (ended) break;
      output += value;
    }
    return output;
  };
  try {
    await body(child, until);
  } finally {
    lines.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
  }
}

Deno.test("bittern tracker serves announces until SIGINT", async () => {
  await withTracker(["--port", "0", "--interval", "77"], async (child, until) => {
    const url = /Tracker listening: (\S+)/.exec(await until((text) => text.includes("\n")))?.[1];
    assert.ok(url, "no URL on stdout");
    const response = await announce(url, plainParams);
    assert.equal(response.interval, 77);
    child.kill("SIGINT");
    assert.match(await until(() => false), /Tracker stopped after 1 announces/);
  });
});

Deno.test("bittern tracker rejects bad flags with exit code 2", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script, "--port", "99999"],
  }).output();
  assert.equal(output.code, 2);
  assert.match(
    new TextDecoder().decode(output.stderr),
    /--port must be an integer from 0 to 65535/,
  );
});

Deno.test("bittern tracker --udp-port serves UDP announces too", async () => {
  await withTracker(["--port", "0", "--udp-port", "0"], async (child, until) => {
    const output = await until((text) => text.includes("udp://"));
    const url = /Tracker listening: (udp:\/\/\S+)/.exec(output)?.[1];
    assert.ok(url, `no UDP URL in ${JSON.stringify(output)}`);
    const response = await udpAnnounce(url, plainParams, { timeout: 10_000 });
    assert.equal(response.interval, 1800);
    child.kill("SIGINT");
  });
});
