/**
 * What a user sees when a peer cannot be reached: a `peer` event with action `failed` and the
 * reason in `--json`, a line on the terminal, and a `stalled` event once nothing is left to try.
 */
import assert from "node:assert/strict";
import { CliProcess, startLocalSwarm } from "./helpers.ts";

const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

/** A port nothing listens on: bound, then released. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("download --json: a --peer at a closed port is a failed peer event, then stalled", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = await Deno.makeTempDir({ dir: swarm.dir });
  const port = closedPort();
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.torrentPath}`, `--allow-write=${out}`],
    [
      "download",
      swarm.torrentPath,
      "--out",
      out,
      ...LOOPBACK,
      "--peer",
      `127.0.0.1:${port}`,
      "--json",
    ],
  );
  const isEvent = (name: string, action?: string) => (line: string) => {
    if (!line.startsWith("{")) return false;
    const event = JSON.parse(line);
    return event.event === name && (action === undefined || event.action === action);
  };
  const failed = JSON.parse(await child.waitForLine(isEvent("peer", "failed")));
  assert.equal(failed.address, `127.0.0.1:${port}`);
  assert.equal(failed.reason, "connection refused");
  const stalled = JSON.parse(await child.waitForLine(isEvent("stalled")));
  assert.match(stalled.reason, /failed or were banned/);
  child.kill("SIGINT");
  await child.exit();
});

Deno.test("download: a --peer at a closed port is a line saying why", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = await Deno.makeTempDir({ dir: swarm.dir });
  const port = closedPort();
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.torrentPath}`, `--allow-write=${out}`],
    ["download", swarm.torrentPath, "--out", out, ...LOOPBACK, "--peer", `127.0.0.1:${port}`],
  );
  const line = await child.waitForLine((text) => text.includes("could not connect"));
  assert.equal(line.trim(), `could not connect to 127.0.0.1:${port}: connection refused`);
  child.kill("SIGINT");
  await child.exit();
});

Deno.test("download --json: a connection failing its handshake is an incoming-failed peer event", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = await Deno.makeTempDir({ dir: swarm.dir });
  const port = closedPort(); // free a moment ago: the download listens there
  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${swarm.torrentPath}`, `--allow-write=${out}`],
    [
      "download",
      swarm.torrentPath,
      "--out",
      out,
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--json",
    ],
  );
  const isEvent = (name: string, action?: string) => (line: string) => {
    if (!line.startsWith("{")) return false;
    const event = JSON.parse(line);
    return event.event === name && (action === undefined || event.action === action);
  };
  await child.waitForLine(isEvent("started"));
  // A hostile peer: a plain handshake naming a torrent nobody has here.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const handshake = new Uint8Array(68);
  handshake.set(new TextEncoder().encode("\x13BitTorrent protocol"));
  handshake.fill(7, 28, 48);
  await conn.write(handshake);
  const failed = JSON.parse(await child.waitForLine(isEvent("peer", "incoming-failed")));
  const local = (conn.localAddr as Deno.NetAddr).port;
  assert.equal(failed.address, `127.0.0.1:${local}`);
  assert.ok(failed.reason.length > 0);
  conn.close();
  child.kill("SIGINT");
  await child.exit();
});
