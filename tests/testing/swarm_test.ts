import assert from "node:assert/strict";
import type { HandshakeHandler, MessagingAgent } from "../../mod.ts";
import {
  createPayload,
  createSwarm,
  seededBytes,
  SwarmError,
  SwarmTimeoutError,
} from "../../src/testing/mod.ts";

const payload = { size: 2 << 20, files: 3, pieceLength: 32768, seed: 42 };

Deno.test("swarm: 1 seeder + 8 leechers complete, memory storage, peers told directly", async () => {
  await using swarm = await createSwarm({ seeders: 1, leechers: 8, payload });
  await swarm.start();
  await swarm.allComplete({ timeoutMs: 60_000 });
  await swarm.verifyPayload();
  assert.equal(swarm.tracker, undefined);
  for (const leecher of swarm.leechers) {
    assert.equal(leecher.progress(), 1);
    assert.ok(leecher.received("piece") > 0 || leecher.received("bitfield") > 0);
  }
});

Deno.test("swarm: 1 seeder + 8 leechers complete, filesystem storage, with the tracker", async () => {
  let dir: string | undefined;
  {
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: 8,
      payload,
      tracker: true,
      storage: "filesystem",
    });
    dir = swarm.dir;
    assert.ok(dir);
    assert.deepEqual(swarm.torrent.announce, [[swarm.tracker!.url]]);
    await swarm.start();
    await swarm.allComplete({ timeoutMs: 60_000 });
    await swarm.verifyPayload();
    const files = swarm.torrent.files.map((file) => file.path.join("/"));
    assert.deepEqual(files, ["payload/file-0.bin", "payload/file-1.bin", "payload/file-2.bin"]);
  }
  await assert.rejects(Deno.stat(dir!), Deno.errors.NotFound, "close() removed the temp dir");
});

Deno.test("swarm: a private torrent completes, with and without a tracker", async () => {
  for (const tracker of [false, true]) {
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: 2,
      payload: { size: 300_000, seed: 3 },
      private: true,
      tracker,
    });
    assert.equal(swarm.torrent.private, true);
    await swarm.start();
    await swarm.allComplete({ timeoutMs: 30_000 });
    await swarm.verifyPayload();
    for (const peer of swarm.peers) {
      assert.ok(!peer.session.extensionNames.includes("ut_pex"), `${peer.name} speaks ut_pex`);
    }
  }
});

/**
 * Says `greeting` once to every peer that speaks x_hello. It answers the peer's extended
 * handshake: `connected` comes before it (see extension_bug_test.ts), when `supports` is
 * still false.
 */
function helloAgent(greeting: string, heard: string[]): MessagingAgent {
  return {
    name: "hello",
    extensions: ["x_hello"],
    extendedHandshakeReceived(peer) {
      if (peer.supports("x_hello")) {
        peer.sendExtended("x_hello", new TextEncoder().encode(greeting));
      }
    },
    consumesExtended: { x_hello: (_, payload) => heard.push(new TextDecoder().decode(payload)) },
  };
}

Deno.test("swarm: a custom extension is exchanged in a 2-peer swarm", async () => {
  const heard: string[] = [];
  await using swarm = await createSwarm({
    seeders: 1,
    leechers: 1,
    payload: { size: 100_000 },
    peer: (role, index) => ({ agents: [helloAgent(`hello from ${role}-${index}`, heard)] }),
  });
  await swarm.start();
  const atSeeder = await swarm.messageReceived("seeder-0", { type: "extended", name: "x_hello" }, {
    timeoutMs: 10_000,
  });
  const atLeecher = await swarm.peer("leecher-0").messageReceived({
    type: "extended",
    name: "x_hello",
    from: "seeder-0",
    test: (bytes) => new TextDecoder().decode(bytes) === "hello from seeder-0",
  }, { timeoutMs: 10_000 });
  assert.equal(atSeeder.kind, "extended");
  assert.equal(atSeeder.from, "leecher-0");
  assert.equal(
    atSeeder.kind === "extended" && new TextDecoder().decode(atSeeder.payload),
    "hello from leecher-0",
  );
  assert.equal(atLeecher.from, "seeder-0");
  assert.equal(swarm.peer("seeder-0").received({ type: "extended", name: "x_hello" }), 1);
  assert.deepEqual(heard.sort(), ["hello from leecher-0", "hello from seeder-0"]);
  await swarm.allComplete({ timeoutMs: 10_000 });
});

Deno.test("swarm: standard messages are recorded by type and sender", async () => {
  await using swarm = await createSwarm({ seeders: 1, leechers: 1, payload: { size: 200_000 } });
  await swarm.start();
  // Both sides speak the fast extension (BEP 6): a seed announces itself with have_all.
  const haveAll = await swarm.messageReceived("leecher-0", { type: "have-all", from: "seeder-0" });
  assert.equal(haveAll.kind === "standard" && haveAll.message.type, "have-all");
  const request = await swarm.messageReceived("seeder-0", {
    type: "request",
    test: (message) => message.begin === 0,
  });
  assert.equal(request.from, "leecher-0");
  await swarm.allComplete();
  assert.ok(swarm.peer("leecher-0").received("piece") >= swarm.torrent.pieceCount);
  assert.ok(swarm.peer("leecher-0").messages().length > 0);
});

Deno.test("swarm: seesPeers waits for connections", async () => {
  await using swarm = await createSwarm({ seeders: 1, leechers: 3, payload: { size: 500_000 } });
  await swarm.start();
  await swarm.peer("leecher-2").seesPeers(3, { timeoutMs: 10_000 });
  assert.ok(swarm.peer("leecher-2").peerCount() >= 3);
});

Deno.test("swarm: a timeout names the stuck leecher and its progress", async () => {
  await using swarm = await createSwarm({ seeders: 0, leechers: 2, payload: { size: 100_000 } });
  await swarm.start();
  const error = await swarm.allComplete({ timeoutMs: 300 }).then(
    () => assert.fail("completed without a seeder"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof SwarmTimeoutError);
  assert.deepEqual(error.stuck, ["leecher-0", "leecher-1"]);
  assert.match(error.message, /^swarm: leecher-0 stuck at 0% \(\d peers?\), leecher-1 stuck at 0%/);
  assert.match(error.message, /after 300 ms; others: none$/);

  const seen = await swarm.peer("leecher-0").seesPeers(5, { timeoutMs: 200 }).catch((e) => e);
  assert.ok(seen instanceof SwarmTimeoutError);
  assert.match(
    seen.message,
    /^swarm: leecher-0 sees \d of 5 peers \(0%\) after 200 ms; others: leecher-1 0%/,
  );

  const message = await swarm.messageReceived(
    "leecher-1",
    { type: "extended", name: "x_nothing" },
    {
      timeoutMs: 200,
    },
  ).catch((e) => e);
  assert.ok(message instanceof SwarmTimeoutError);
  assert.match(message.message, /^swarm: leecher-1 received no x_nothing message \(received: /);

  const single = await swarm.peer("leecher-1").complete({ timeoutMs: 200 }).catch((e) => e);
  assert.match(single.message, /^swarm: leecher-1 stuck at 0% \(\d peers?\) after 200 ms/);
});

Deno.test("swarm: close() is idempotent, cleans up an unstarted swarm and a failed start", async () => {
  const swarm = await createSwarm({ leechers: 1, storage: "filesystem", tracker: true });
  const dir = swarm.dir!;
  assert.ok((await Deno.stat(dir)).isDirectory);
  await Promise.all([swarm.close(), swarm.close()]);
  await swarm.close();
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  await assert.rejects(swarm.start(), SwarmError);
});

Deno.test("swarm: a start that fails half-way still closes what it opened", async () => {
  const broken = { open: () => Promise.reject(new Error("disk on fire")) };
  const swarm = await createSwarm({
    seeders: 1,
    leechers: 2,
    tracker: true,
    peer: (role, index) => role === "leecher" && index === 1 ? { storage: broken } : {},
  });
  try {
    await assert.rejects(swarm.start(), /disk on fire/);
    assert.ok(swarm.peer("leecher-0").started);
    assert.equal(swarm.peer("leecher-1").started, false);
  } finally {
    // The sanitizers check that the seeder's and leecher-0's sockets and the tracker closed.
    await swarm.close();
  }
});

Deno.test("swarm: bad options are typed errors naming the option", async () => {
  await assert.rejects(createSwarm({ leechers: -1 }), /leechers must be an integer/);
  await assert.rejects(createSwarm({ payload: { size: 0 } }), /payload.size/);
  await assert.rejects(createSwarm({ payload: { pieceLength: 20000 } }), /power of two/);
  await using swarm = await createSwarm({});
  assert.throws(
    () => swarm.peer("leecher-9"),
    /no peer named leecher-9 \(peers: seeder-0, leecher-0\)/,
  );
  assert.throws(() => swarm.peer("leecher-0").session, /leecher-0 has not started/);
});

Deno.test("swarm: verifyPayload names the leecher and piece that differ", async () => {
  await using swarm = await createSwarm({ seeders: 1, leechers: 1, payload: { size: 100_000 } });
  await swarm.start();
  await swarm.allComplete();
  const storage = await swarm.peer("leecher-0").storage.open(swarm.torrent);
  await storage.write(2, 10, new Uint8Array([swarm.payload.data[2 * 16384 + 10] ^ 0xff]));
  await storage.close();
  await assert.rejects(swarm.verifyPayload(), /leecher-0 has wrong bytes in piece 2 at offset 10/);
});

Deno.test("payload: deterministic, split into files, a given payload is used as is", async () => {
  assert.deepEqual(seededBytes(1000, 7), seededBytes(1000, 7));
  assert.notDeepEqual(seededBytes(64, 0), seededBytes(64, 1));
  assert.ok(seededBytes(64, 0).some((byte) => byte !== 0));
  const payload = createPayload({ size: 100_001, files: 3, seed: 5 });
  assert.deepEqual(payload.files.map((file) => file.data.length), [33_333, 33_334, 33_334]);
  assert.deepEqual(payload.data, seededBytes(100_001, 5));
  await using swarm = await createSwarm({ payload, leechers: 0 });
  assert.equal(swarm.payload, payload);
  assert.equal(swarm.torrent.length, 100_001);
});

Deno.test("swarm: per-peer selector, handshake handlers and session options apply", async () => {
  const handshakes: string[] = [];
  const spy = (name: string): HandshakeHandler => ({
    name: "spy",
    onRemoteHandshake: () => void handshakes.push(name),
  });
  await using swarm = await createSwarm({
    seeders: 1,
    leechers: 2,
    payload: { size: 400_000, seed: 9 },
    peer: (role, index) => ({
      selector: role === "leecher" && index === 0 ? "sequential" : "rarest",
      handshakeHandlers: [spy(`${role}-${index}`)],
      session: { pex: false },
    }),
  });
  await swarm.start();
  await swarm.allComplete({ timeoutMs: 30_000 });
  await swarm.verifyPayload();
  for (const peer of swarm.peers) {
    assert.ok(handshakes.includes(peer.name), `${peer.name}'s handler saw a handshake`);
    assert.ok(!peer.session.extensionNames.includes("ut_pex"), `${peer.name} has pex off`);
  }
});

Deno.test("swarm: leechers started from magnet links fetch the metadata from the swarm, then the data", async () => {
  for (const tracker of [false, true]) {
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: 3,
      tracker,
      payload: { size: 1 << 20, files: 4, pieceLength: 32768, seed: 3 },
      peer: (role, index) => ({ magnet: role === "leecher" && index !== 1 }),
    });
    await swarm.start();
    await swarm.allComplete({ timeoutMs: 60_000 });
    await swarm.verifyPayload();
  }
});
