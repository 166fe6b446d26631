import assert from "node:assert/strict";
import { announce, buildAnnounceUrl, TrackerError } from "../../src/tracker/mod.ts";
import type { AnnounceParams } from "../../src/tracker/mod.ts";
import { bencodeResponse, closedPort, filled, serveLocal } from "./helpers.ts";

const params: AnnounceParams = {
  infoHash: new Uint8Array([0x00, 0x41, 0x7e, 0x20, 0xff, ...new Array(15).fill(0x2f)]),
  peerId: new TextEncoder().encode("-BI0100-abcdefghijkl"),
  port: 6881,
  uploaded: 10,
  downloaded: 20,
  left: 30,
  event: "started",
  numwant: 25,
  key: "k3y",
  trackerId: new TextEncoder().encode("t id"),
};

async function rejectsWith(promise: Promise<unknown>, kind: string): Promise<TrackerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TrackerError, `expected TrackerError, got ${error}`);
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  assert.fail(`expected a ${kind} TrackerError`);
}

Deno.test("announce sends BEP 3 parameters with raw bytes percent-encoded", async () => {
  const server = await serveLocal(() => bencodeResponse({ interval: 60, peers: new Uint8Array() }));
  try {
    await announce(server.url + "?passkey=abc", params);
    const search = server.requests[0].search;
    assert.match(search, /^\?passkey=abc&/);
    assert.match(search, /info_hash=%00A~%20%FF%2F%2F/);
    assert.match(search, /peer_id=-BI0100-abcdefghijkl/);
    for (
      const part of [
        "port=6881",
        "uploaded=10",
        "downloaded=20",
        "left=30",
        "compact=1",
        "event=started",
        "numwant=25",
        "key=k3y",
        "trackerid=t%20id",
      ]
    ) assert.ok(search.includes(part), `${part} missing from ${search}`);
  } finally {
    await server.close();
  }
});

Deno.test("buildAnnounceUrl omits event for regular announces and drops the fragment", () => {
  const url = buildAnnounceUrl("http://t.example/announce#frag", { ...params, event: undefined });
  assert.ok(!url.search.includes("event="));
  assert.equal(url.hash, "");
});

Deno.test("announce parses compact IPv4 peers and the optional fields", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      interval: 1800,
      "min interval": 60,
      "tracker id": "abc",
      complete: 3,
      incomplete: 4,
      peers: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80, 1, 2, 3, 4, 0, 0]),
    })
  );
  try {
    const response = await announce(server.url, params);
    assert.equal(response.interval, 1800);
    assert.equal(response.minInterval, 60);
    assert.deepEqual(response.trackerId, new TextEncoder().encode("abc"));
    assert.equal(response.complete, 3);
    assert.equal(response.incomplete, 4);
    // The port-0 entry is dropped: nobody can connect to it.
    assert.deepEqual(response.peers, [
      { host: "127.0.0.1", port: 6881 },
      { host: "10.0.0.2", port: 80 },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("announce parses compact IPv6 peers6 without brackets", async () => {
  const v6 = new Uint8Array(36);
  v6[15] = 1; // ::1
  v6.set([0x1a, 0xe1], 16);
  v6.set([0x20, 0x01, 0x0d, 0xb8], 18); // 2001:db8::5
  v6[33] = 5;
  v6.set([0, 99], 34);
  const server = await serveLocal(() =>
    bencodeResponse({ interval: 60, peers: new Uint8Array(), peers6: v6 })
  );
  try {
    const response = await announce(server.url, params);
    assert.deepEqual(response.peers, [
      { host: "::1", port: 6881 },
      { host: "2001:db8::5", port: 99 },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("announce parses dictionary peers with and without peer ids", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      interval: 60,
      peers: [
        { ip: "127.0.0.1", port: 7000, "peer id": filled(7) },
        { ip: "[::1]", port: 7001 },
        { ip: "peer.example", port: 7002 },
      ],
    })
  );
  try {
    const response = await announce(server.url, { ...params, compact: false });
    assert.ok(server.requests[0].search.includes("compact=0"));
    assert.deepEqual(response.peers, [
      { host: "127.0.0.1", port: 7000, peerId: filled(7) },
      { host: "::1", port: 7001 },
      { host: "peer.example", port: 7002 },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("announce reports failure reason as kind failure with the tracker's text", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({ "failure reason": "torrent not registered" })
  );
  try {
    const error = await rejectsWith(announce(server.url, params), "failure");
    assert.equal(error.reason, "torrent not registered");
    assert.equal(error.url, server.url);
    assert.match(error.message, /torrent not registered/);
  } finally {
    await server.close();
  }
});

Deno.test("announce returns the warning message and external ip", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      interval: 60,
      peers: new Uint8Array(),
      "warning message": "be nice",
      "external ip": new Uint8Array([192, 0, 2, 7]),
    })
  );
  try {
    const response = await announce(server.url, params);
    assert.equal(response.warning, "be nice");
    assert.equal(response.externalIp, "192.0.2.7");
  } finally {
    await server.close();
  }
});

Deno.test("announce drops malformed informational fields and skips malformed dictionary peers", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      interval: 60,
      "min interval": "soon",
      complete: -1,
      "warning message": 3,
      peers: [
        { ip: "127.0.0.1", port: 70000 },
        { ip: "a b", port: 1 },
        { port: 2 },
        "junk",
        { ip: "127.0.0.1", port: 7000, "peer id": "short" },
      ],
    })
  );
  try {
    const response = await announce(server.url, params);
    assert.deepEqual(response, { interval: 60, peers: [{ host: "127.0.0.1", port: 7000 }] });
  } finally {
    await server.close();
  }
});

Deno.test("announce reads BEP 31 retry in from a refusal", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({ "failure reason": "overloaded", "retry in": 5 })
  );
  try {
    const error = await rejectsWith(announce(server.url, params), "failure");
    assert.equal(error.retryInSeconds, 300);
  } finally {
    await server.close();
  }
});

Deno.test("announce rejects garbage and malformed responses as bad-response naming the problem", async () => {
  const bodies: [string, RegExp][] = [
    ["<html>oops</html>", /not bencode/],
    ["i42e", /not a bencode dictionary/],
    ["d5:peers0:e", /interval is missing/],
    ["d8:intervali60ee", /peers is missing/],
    ["d8:intervali60e5:peers5:abcdee", /peers: expected .*multiple of 6/],
    ["d8:intervali60e5:peersi3ee", /peers: expected one of/],
    ["d8:intervali60e5:peers0:6:peers67:1234567e", /peers6: .*multiple of 18/],
    ["d8:intervali-5e5:peers0:e", /interval: expected .*>= 0/],
    ["l".repeat(100) + "e".repeat(100), /not bencode/],
  ];
  let index = 0;
  const server = await serveLocal(() => {
    return new Response(bodies[index++][0]);
  });
  try {
    for (const [, pattern] of bodies) {
      const error = await rejectsWith(announce(server.url, params), "bad-response");
      assert.match(error.message, pattern);
    }
  } finally {
    await server.close();
  }
});

Deno.test("announce refuses an oversized response", async () => {
  const server = await serveLocal(() => new Response(new Uint8Array(100_000)));
  try {
    const error = await rejectsWith(
      announce(server.url, params, { maxResponseBytes: 1000 }),
      "bad-response",
    );
    assert.match(error.message, /larger than 1000 bytes/);
  } finally {
    await server.close();
  }
});

Deno.test("announce times out on a tracker that never answers", async () => {
  const release = Promise.withResolvers<void>();
  const server = await serveLocal(async () => {
    await release.promise;
    return new Response("late");
  });
  try {
    await rejectsWith(announce(server.url, params, { timeout: 200 }), "timeout");
  } finally {
    release.resolve();
    await server.close();
  }
});

Deno.test("announce times out on a body that trickles forever", async () => {
  const release = Promise.withResolvers<void>();
  const server = await serveLocal(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("d8:interval"));
          await release.promise;
          controller.close();
        },
      }),
    )
  );
  try {
    await rejectsWith(announce(server.url, params, { timeout: 200 }), "timeout");
  } finally {
    release.resolve();
    await server.close();
  }
});

Deno.test("announce follows redirects up to the limit", async () => {
  const server = await serveLocal((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/announce") {
      return new Response(null, {
        status: 302,
        headers: { location: "/real/announce" + url.search },
      });
    }
    if (url.pathname === "/loop") {
      return new Response(null, { status: 301, headers: { location: "/loop" } });
    }
    return bencodeResponse({ interval: 60, peers: new Uint8Array([127, 0, 0, 1, 0, 1]) });
  });
  try {
    const response = await announce(server.url, params);
    assert.equal(response.peers.length, 1);
    assert.equal(server.requests[1].pathname, "/real/announce");
    assert.ok(server.requests[1].search.includes("info_hash="));
    const loop = `http://127.0.0.1:${server.port}/loop`;
    const error = await rejectsWith(announce(loop, params, { maxRedirects: 3 }), "redirect");
    assert.match(error.message, /more than 3 redirects/);
  } finally {
    await server.close();
  }
});

Deno.test("announce reports HTTP 500 as http-status", async () => {
  const server = await serveLocal(() => new Response("internal error", { status: 500 }));
  try {
    const error = await rejectsWith(announce(server.url, params), "http-status");
    assert.equal(error.status, 500);
  } finally {
    await server.close();
  }
});

Deno.test("announce reports a refused connection as unreachable", async () => {
  await rejectsWith(announce(`http://127.0.0.1:${closedPort()}/announce`, params), "unreachable");
});

Deno.test("announce refuses non-HTTP URLs and bad parameters as unsupported", async () => {
  await rejectsWith(announce("udp://127.0.0.1:1/announce", params), "unsupported");
  await rejectsWith(announce("not a url", params), "unsupported");
  await rejectsWith(
    announce("http://127.0.0.1:1/announce", { ...params, infoHash: new Uint8Array(3) }),
    "unsupported",
  );
});

Deno.test("announce rejects with the signal's reason when aborted", async () => {
  const release = Promise.withResolvers<void>();
  const server = await serveLocal(async () => {
    await release.promise;
    return new Response("late");
  });
  const controller = new AbortController();
  try {
    const pending = announce(server.url, params, { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await assert.rejects(pending, /user gave up/);
  } finally {
    release.resolve();
    await server.close();
  }
});
