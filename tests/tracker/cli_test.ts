import assert from "node:assert/strict";
import { announce, udpAnnounce } from "../../src/tracker/mod.ts";
import { plainParams } from "./helpers.ts";

const script = new URL("../../cli/tracker.ts", import.meta.url).pathname;

Deno.test("bittern tracker serves announces until SIGINT", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script, "--port", "0", "--interval", "77"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let output = "";
    // Bounded: the first line names the URL; a dead child ends the stream.
    for (let reads = 0; reads < 100 && !output.includes("\n"); reads++) {
      const { done, value } = await lines.read();
      if (done) break;
      output += value;
    }
    const url = /Tracker listening: (\S+)/.exec(output)?.[1];
    assert.ok(url, `no URL in ${JSON.stringify(output)}`);
    const response = await announce(url, plainParams);
    assert.equal(response.interval, 77);
    child.kill("SIGINT");
    for (let reads = 0; reads < 100; reads++) {
      const { done, value } = await lines.read();
      if (done) break;
      output += value;
    }
    assert.match(output, /Tracker stopped after 1 announces/);
  } finally {
    lines.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
  }
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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script, "--port", "0", "--udp-port", "0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let output = "";
    // Bounded: the two first lines name the URLs; a dead child ends the stream.
    for (let reads = 0; reads < 100 && !output.includes("udp://"); reads++) {
      const { done, value } = await lines.read();
      if (done) break;
      output += value;
    }
    const url = /Tracker listening: (udp:\/\/\S+)/.exec(output)?.[1];
    assert.ok(url, `no UDP URL in ${JSON.stringify(output)}`);
    const response = await udpAnnounce(url, plainParams, { timeout: 10_000 });
    assert.equal(response.interval, 1800);
    child.kill("SIGINT");
  } finally {
    lines.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0);
  }
});
