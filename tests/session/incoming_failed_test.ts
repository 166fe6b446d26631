/**
 * A connection a peer made that fails its handshake is an `incoming-failed` event on the
 * runtime (address, one-line reason, the typed error), and the runtime keeps serving: an
 * honest peer's handshake right after is answered.
 */
import assert from "node:assert/strict";
import { encodeHandshake, ProtocolError, Runtime, type RuntimeEvents } from "../../mod.ts";
import { seededMemory, singleFile, within } from "./helpers.ts";

type Failure = RuntimeEvents["incoming-failed"];

/** Opens a raw socket to `port`, writes `bytes` (then closes when `hangUp`), returns its port. */
async function hostile(port: number, bytes: Uint8Array, hangUp: boolean): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
  if (hangUp) await conn.closeWrite();
  return conn;
}

/** Reads from `conn` until it ends (the runtime hung up) or 68 bytes came (a handshake). */
async function readReply(conn: Deno.TcpConn): Promise<Uint8Array> {
  const got: number[] = [];
  const buffer = new Uint8Array(1024);
  while (got.length < 68) {
    const count = await conn.read(buffer).catch(() => null);
    if (count === null) break;
    got.push(...buffer.subarray(0, count));
  }
  return new Uint8Array(got);
}

Deno.test("runtime: failed incoming handshakes are incoming-failed events; the runtime goes on", async () => {
  const { torrent, data } = await singleFile("incoming.bin", 64 * 1024);
  const runtime = new Runtime({
    listen: { hostname: "127.0.0.1", port: 0 },
    maxConnectionsPerIp: 8,
    dht: false,
  });
  const failures: Failure[] = [];
  let failed: () => void = () => {};
  runtime.events.on("incoming-failed", (event) => {
    failures.push(event);
    failed();
  });
  const nextFailure = () => new Promise<void>((resolve) => failed = resolve);
  try {
    await runtime.add(torrent, { storage: await seededMemory(torrent, data) });
    const port = runtime.port!;

    // 1. A plain handshake for a torrent this runtime does not have.
    const unknown = encodeHandshake({
      reserved: new Uint8Array(8),
      infoHash: new Uint8Array(20).fill(7),
      peerId: new Uint8Array(20).fill(1),
    });
    let waiting = nextFailure();
    const first = await hostile(port, unknown, false);
    await within(waiting, 10_000, "an event for an unknown info hash");
    assert.equal(await readReply(first).then((reply) => reply.length), 0, "no handshake back");
    first.close();

    // 2. Garbage: not a plain handshake, so MSE, which finds no sync marker before the end.
    waiting = nextFailure();
    const garbage = new Uint8Array(700).map((_, i) => (i * 131 + 17) & 0xff);
    const second = await hostile(port, garbage, true);
    await within(waiting, 10_000, "an event for garbage");
    second.close();

    // 3. A plain handshake cut short.
    waiting = nextFailure();
    const third = await hostile(port, unknown.subarray(0, 30), true);
    await within(waiting, 10_000, "an event for a truncated handshake");
    third.close();

    assert.equal(failures.length, 3);
    for (const failure of failures) {
      assert.match(failure.address, /^127\.0\.0\.1:\d+$/);
      assert.ok(failure.error instanceof ProtocolError, `${failure.error}`);
      assert.equal(failure.reason, failure.error.message);
      assert.ok(failure.reason.length > 0);
    }

    // An honest peer is still answered.
    const honest = await hostile(
      port,
      encodeHandshake({
        reserved: new Uint8Array(8),
        infoHash: torrent.infoHash,
        peerId: new Uint8Array(20).fill(2),
      }),
      false,
    );
    const reply = await within(readReply(honest), 10_000, "the honest handshake's answer");
    honest.close();
    assert.ok(reply.length >= 68, "a handshake back");
    assert.deepEqual(reply.subarray(28, 48), torrent.infoHash);
    assert.equal(failures.length, 3, "the honest peer is no failure");
  } finally {
    await runtime.close();
  }
});
