import assert from "node:assert/strict";
import { type BencodeDict, decode } from "../../src/bencode/mod.ts";
import { announce, scrape, TrackerError, TrackerServer } from "../../src/tracker/mod.ts";
import type { AnnounceParams } from "../../src/tracker/mod.ts";
import { filled } from "./helpers.ts";

const hash = filled(0xab);

function peer(port: number, left = 100): AnnounceParams {
  return {
    infoHash: hash,
    peerId: filled(port & 0xff),
    port,
    uploaded: 0,
    downloaded: 0,
    left,
    event: "started",
  };
}

async function withServer(
  options: ConstructorParameters<typeof TrackerServer>[0],
  body: (server: TrackerServer) => Promise<void>,
): Promise<void> {
  const server = new TrackerServer(options);
  await server.start();
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

Deno.test("tracker server introduces several clients to each other, never to themselves", async () => {
  await withServer({ interval: 120 }, async (server) => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/announce$/);
    const first = await announce(server.url, peer(7001));
    assert.equal(first.interval, 120);
    assert.deepEqual(first.peers, []);
    await announce(server.url, peer(7002));
    const third = await announce(server.url, peer(7003, 0));
    assert.deepEqual(third.peers.map((p) => p.port).sort(), [7001, 7002]);
    assert.equal(third.complete, 1);
    assert.equal(third.incomplete, 2);
    const again = await announce(server.url, { ...peer(7001), event: undefined });
    assert.deepEqual(again.peers.map((p) => p.port).sort(), [7002, 7003]);
    assert.ok(again.peers.every((p) => p.host === "127.0.0.1"));
    assert.equal(server.peersOf(hash).length, 3);
  });
});

Deno.test("tracker server respects numwant and drops peers on stopped", async () => {
  await withServer({ maxNumwant: 3 }, async (server) => {
    for (let port = 8000; port < 8006; port++) await announce(server.url, peer(port));
    const few = await announce(server.url, { ...peer(9000), numwant: 2 });
    assert.equal(few.peers.length, 2);
    const capped = await announce(server.url, { ...peer(9000), numwant: 100 });
    assert.equal(capped.peers.length, 3);
    await announce(server.url, { ...peer(8000), event: "stopped" });
    await announce(server.url, { ...peer(8001), event: "stopped" });
    assert.deepEqual(server.peersOf(hash).map((p) => p.port).sort(), [
      8002,
      8003,
      8004,
      8005,
      9000,
    ]);
  });
});

Deno.test("tracker server answers in dictionary form when compact=0", async () => {
  await withServer({}, async (server) => {
    await announce(server.url, peer(7001));
    const response = await announce(server.url, { ...peer(7002), compact: false });
    assert.deepEqual(response.peers, [{
      host: "127.0.0.1",
      port: 7001,
      peerId: filled(7001 & 0xff),
    }]);
  });
});

Deno.test("tracker server sends min interval when configured", async () => {
  await withServer({ interval: 300, minInterval: 30 }, async (server) => {
    const response = await announce(server.url, peer(7001));
    assert.equal(response.minInterval, 30);
  });
});

Deno.test("tracker server scrape counts seeders, leechers and completions", async () => {
  await withServer({}, async (server) => {
    await announce(server.url, peer(7001));
    await announce(server.url, peer(7002));
    await announce(server.url, { ...peer(7002), left: 0, event: "completed" });
    const counts = await scrape(server.url, [hash, filled(1)]);
    assert.deepEqual([...counts.keys()], ["ab".repeat(20)]);
    assert.deepEqual(counts.get("ab".repeat(20)), { complete: 1, incomplete: 1, downloaded: 1 });
    const all = await scrape(server.url, []);
    assert.equal(all.size, 1);
  });
});

Deno.test("tracker server answers garbage queries with 400 and a bencoded failure reason", async () => {
  await withServer({}, async (server) => {
    const base = `http://127.0.0.1:${server.port}`;
    const cases: [string, number, RegExp][] = [
      ["/announce", 400, /missing info_hash/],
      ["/announce?info_hash=%ZZ", 400, /malformed query/],
      ["/announce?info_hash=abc&peer_id=x", 400, /info_hash is 3 bytes/],
      [`/announce?info_hash=${"%AB".repeat(20)}&peer_id=${"a".repeat(20)}&port=0`, 400, /port 0/],
      [
        `/announce?info_hash=${"%AB".repeat(20)}&peer_id=${"a".repeat(20)}&port=x`,
        400,
        /port is not/,
      ],
      [
        `/announce?info_hash=${"%AB".repeat(20)}&peer_id=${"a".repeat(20)}&port=1&event=boom`,
        400,
        /unknown event/,
      ],
      ["/scrape?info_hash=short", 400, /info_hash is 5 bytes/],
      ["/elsewhere", 404, /no such endpoint/],
      ["/announce?" + "a=1&".repeat(300), 400, /more than/],
      ["/announce?q=%C3%A9%FF", 400, /missing info_hash/],
      ["/announce?" + "x".repeat(9000), 414, /too long/],
    ];
    for (const [path, status, pattern] of cases) {
      const response = await fetch(base + path);
      const body = new Uint8Array(await response.arrayBuffer());
      assert.equal(response.status, status, path);
      const reason = (decode(body) as BencodeDict).get("failure reason") as Uint8Array;
      assert.match(new TextDecoder().decode(reason), pattern, path);
    }
  });
});

Deno.test("tracker server refuses new torrents beyond its limit with a failure reason", async () => {
  await withServer({ maxTorrents: 1 }, async (server) => {
    await announce(server.url, peer(7001));
    await assert.rejects(
      announce(server.url, { ...peer(7001), infoHash: filled(1) }),
      (error) =>
        error instanceof TrackerError && error.kind === "failure" && /full/.test(error.message),
    );
  });
});

Deno.test("tracker server start rejects when the port is taken", async () => {
  await withServer({}, async (server) => {
    const second = new TrackerServer({ port: server.port });
    await assert.rejects(second.start(), Deno.errors.AddrInUse);
    await second.close();
  });
});
