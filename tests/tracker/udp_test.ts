/** UDP trackers (BEP 15): client against TrackerServer, hostile raw servers, mixed tiers. */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  type AnnounceParams,
  defaultTrackerTransports,
  TrackerClient,
  type TrackerClientEventMap,
  TrackerError,
  TrackerServer,
  udpAnnounce,
  udpScrape,
  udpTrackerTransport,
} from "../../src/tracker/mod.ts";
import { toHex } from "../../src/util/bytes.ts";
import { closedPort, filled, nextEvent, plainParams } from "./helpers.ts";

/** Tiny retransmission settings so silence costs milliseconds; every call stays bounded. */
const quick = { timeout: 5_000, retryBaseMs: 20, maxAttempts: 3 } as const;

function params(overrides: Partial<AnnounceParams> = {}): AnnounceParams {
  return { ...plainParams, infoHash: crypto.getRandomValues(new Uint8Array(20)), ...overrides };
}

Deno.test("udp: two clients find each other through TrackerServer; scrape counts them", async () => {
  const server = new TrackerServer({ udpPort: 0, interval: 120 });
  await server.start();
  try {
    assert.match(server.udpUrl, /^udp:\/\/127\.0\.0\.1:\d+\/announce$/);
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    const first = await udpAnnounce(server.udpUrl, {
      ...plainParams,
      infoHash,
      peerId: filled(3),
      port: 7001,
      left: 10,
      event: "started",
    }, quick);
    assert.equal(first.interval, 120);
    assert.deepEqual(first.peers, []);
    const second = await udpAnnounce(server.udpUrl, {
      ...plainParams,
      infoHash,
      peerId: filled(4),
      port: 7002,
      left: 0,
      event: "started",
    }, quick);
    assert.deepEqual(second.peers, [{ host: "127.0.0.1", port: 7001 }]);
    assert.equal(second.complete, 1);
    assert.equal(second.incomplete, 1);
    // The same swarm over HTTP.
    assert.deepEqual(server.peersOf(infoHash).map((peer) => peer.port).sort(), [7001, 7002]);
    const unknown = filled(9);
    const counts = await udpScrape(server.udpUrl, [infoHash, unknown], quick);
    assert.deepEqual(counts.get(toHex(infoHash)), { complete: 1, incomplete: 1, downloaded: 0 });
    assert.deepEqual(counts.get(toHex(unknown)), { complete: 0, incomplete: 0, downloaded: 0 });
  } finally {
    await server.close();
  }
});

Deno.test("udp: the tracker's error action becomes a TrackerError with its message", async () => {
  const server = new TrackerServer({ udpPort: 0, maxTorrents: 1 });
  await server.start();
  try {
    await udpAnnounce(server.udpUrl, params({ event: "started" }), quick);
    const error = await udpAnnounce(server.udpUrl, params({ event: "started" }), quick)
      .catch((e) => e);
    assert.ok(error instanceof TrackerError);
    assert.equal(error.kind, "failure");
    assert.equal(error.reason, "tracker is full (torrents)");
  } finally {
    await server.close();
  }
});

/** A raw UDP server on 127.0.0.1:0 answering each datagram with what `reply` returns. */
async function rawServer(
  reply: (packet: Uint8Array, index: number) => Uint8Array | undefined,
): Promise<{ url: string; received: Uint8Array[]; close(): Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const received: Uint8Array[] = [];
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const packet = new Uint8Array(message);
    received.push(packet);
    const answer = reply(packet, received.length - 1);
    if (answer) socket.send(answer, remote.port, remote.address);
  });
  return {
    url: `udp://127.0.0.1:${socket.address().port}/announce?passkey=abc`,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** An answer with `action`, the packet's transaction id (or `transaction`), and `body`. */
function answer(
  packet: Uint8Array,
  action: number,
  body: Uint8Array,
  transaction?: number,
): Uint8Array {
  const reply = new Uint8Array(8 + body.length);
  const view = new DataView(reply.buffer);
  view.setUint32(0, action);
  view.setUint32(4, transaction ?? new DataView(packet.buffer).getUint32(12));
  reply.set(body, 8);
  return reply;
}

/** Answers connect properly (a fixed connection id); `onRequest` answers the rest. */
function connectThen(onRequest: (packet: Uint8Array) => Uint8Array | undefined) {
  return (packet: Uint8Array) => {
    const action = new DataView(packet.buffer).getUint32(8);
    if (action === 0) return answer(packet, 0, filled(7).subarray(0, 8));
    return onRequest(packet);
  };
}

function announceBody(peerBytes: Uint8Array): Uint8Array {
  const body = new Uint8Array(12 + peerBytes.length);
  const view = new DataView(body.buffer);
  view.setUint32(0, 1800);
  view.setUint32(4, 2);
  view.setUint32(8, 3);
  body.set(peerBytes, 12);
  return body;
}

async function rejectsWith(
  reply: (packet: Uint8Array, index: number) => Uint8Array | undefined,
  pattern: RegExp,
  kind = "bad-response",
  options: Parameters<typeof udpAnnounce>[2] = quick,
): Promise<Uint8Array[]> {
  const server = await rawServer(reply);
  try {
    const error = await udpAnnounce(server.url, params(), options).catch((e) => e);
    assert.ok(error instanceof TrackerError, String(error));
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, pattern);
    return server.received;
  } finally {
    await server.close();
  }
}

Deno.test("udp: the request carries magic, connection id, fields and BEP 41 URL data", async () => {
  const server = await rawServer(connectThen((packet) => {
    const peer = new Uint8Array([127, 0, 0, 1, 0x1b, 0x59]);
    return answer(packet, 1, announceBody(peer));
  }));
  try {
    const response = await udpAnnounce(server.url, params({ event: "started", numwant: 30 }), {
      ...quick,
    });
    assert.deepEqual(response, {
      interval: 1800,
      incomplete: 2,
      complete: 3,
      peers: [{ host: "127.0.0.1", port: 7001 }],
    });
    const [connect, request] = server.received;
    const connectView = new DataView(connect.buffer);
    assert.equal(connect.length, 16);
    assert.equal(connectView.getBigUint64(0), 0x41727101980n);
    const view = new DataView(request.buffer);
    assert.deepEqual(request.subarray(0, 8), filled(7).subarray(0, 8));
    assert.equal(view.getUint32(8), 1);
    assert.equal(view.getUint32(80), 2); // started
    assert.equal(view.getInt32(92), 30);
    assert.equal(view.getUint16(96), 6881);
    const path = "/announce?passkey=abc";
    assert.deepEqual([...request.subarray(98, 100)], [2, path.length]);
    assert.equal(new TextDecoder().decode(request.subarray(100)), path);
  } finally {
    await server.close();
  }
});

Deno.test("udp: a connection id is reused within a minute", async () => {
  const server = await rawServer(
    connectThen((packet) => answer(packet, 1, announceBody(new Uint8Array()))),
  );
  try {
    await udpAnnounce(server.url, params(), quick);
    await udpAnnounce(server.url, params(), quick);
    const actions = server.received.map((packet) => new DataView(packet.buffer).getUint32(8));
    assert.deepEqual(actions, [0, 1, 1]);
  } finally {
    await server.close();
  }
});

Deno.test("udp: a refused cached connection id is replaced by one fresh connect", async () => {
  let valid = -1; // the byte the currently valid connection id is filled with
  const server = await rawServer((packet) => {
    const action = new DataView(packet.buffer).getUint32(8);
    if (action === 0) return answer(packet, 0, filled(++valid).subarray(0, 8));
    if (packet[0] !== valid) return answer(packet, 3, new TextEncoder().encode("bad id"));
    valid += 100; // this tracker forgets an id after one use
    return answer(packet, 1, announceBody(new Uint8Array()));
  });
  try {
    await udpAnnounce(server.url, params(), quick);
    await udpAnnounce(server.url, params(), quick);
    const actions = server.received.map((packet) => new DataView(packet.buffer).getUint32(8));
    assert.deepEqual(actions, [0, 1, 1, 0, 1]);
  } finally {
    await server.close();
  }
});

Deno.test("udp: a duplicated answer to an earlier request of the call is dropped", async () => {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const reply = connectThen((packet) => answer(packet, 1, announceBody(new Uint8Array())));
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const packet = new Uint8Array(message);
    const out = reply(packet)!;
    const isConnect = new DataView(packet.buffer).getUint32(8) === 0;
    socket.send(out, remote.port, remote.address);
    // The network duplicates the connect answer; the copy arrives while announce waits.
    if (isConnect) socket.send(out, remote.port, remote.address);
  });
  try {
    const url = `udp://127.0.0.1:${socket.address().port}`;
    assert.equal((await udpAnnounce(url, params(), quick)).interval, 1800);
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
});

Deno.test("udp: a scrape answer too short for the hashes asked is rejected", async () => {
  const server = await rawServer(connectThen((packet) => answer(packet, 2, new Uint8Array(12))));
  try {
    const error = await udpScrape(server.url, [filled(1), filled(2)], quick).catch((e) => e);
    assert.ok(error instanceof TrackerError);
    assert.equal(error.kind, "bad-response");
    assert.match(error.message, /scrape response .*20-byte answer is shorter than 32 bytes/);
  } finally {
    await server.close();
  }
});

Deno.test("udp: a short datagram is rejected, naming it", async () => {
  await rejectsWith(() => new Uint8Array(3), /connect response .*3-byte datagram/);
  await rejectsWith(
    connectThen((packet) => answer(packet, 1, new Uint8Array(4))),
    /announce response .*12-byte answer is shorter than 20/,
  );
});

Deno.test("udp: a wrong transaction id is rejected", async () => {
  await rejectsWith(
    (packet) => answer(packet, 0, new Uint8Array(8), 0xdeadbeef),
    /connect response .*transaction id deadbeef at byte 4/,
  );
});

Deno.test("udp: a wrong action is rejected", async () => {
  await rejectsWith(
    connectThen((packet) => answer(packet, 2, announceBody(new Uint8Array()))),
    /announce response .*action 2 \(scrape\) at byte 0 where 1 was expected/,
  );
});

Deno.test("udp: oversized and truncated peer lists are rejected", async () => {
  const many = new Uint8Array(6 * 50).fill(1);
  await rejectsWith(
    connectThen((packet) => answer(packet, 1, announceBody(many))),
    /50 peers at byte 20, more than the 10 accepted/,
    "bad-response",
    { ...quick, maxPeers: 10 },
  );
  await rejectsWith(
    connectThen((packet) => answer(packet, 1, announceBody(new Uint8Array(8)))),
    /peer list of 8 bytes at byte 20 ends in a truncated 6-byte entry/,
  );
});

Deno.test("udp: an error action carries the tracker's message", async () => {
  await rejectsWith(
    connectThen((packet) => answer(packet, 3, new TextEncoder().encode("go away"))),
    /go away/,
    "failure",
  );
});

Deno.test("udp: silence means bounded retransmissions, then a timeout error", async () => {
  const received = await rejectsWith(
    () => undefined,
    /no connect response .* after 3 tries/,
    "timeout",
  );
  assert.equal(received.length, 3);
  // A port nobody listens on: nothing comes back, and the deadline still holds.
  const error = await udpAnnounce(`udp://127.0.0.1:${closedPort()}`, params(), {
    timeout: 100,
    retryBaseMs: 20,
    maxAttempts: 100,
  }).catch((e) => e);
  assert.ok(error instanceof TrackerError);
  assert.equal(error.kind, "timeout");
});

Deno.test("udp: stray datagrams from another address are ignored", async () => {
  const stranger = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => stranger.bind(0, "127.0.0.1", () => resolve()));
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const reply = connectThen((packet) => answer(packet, 1, announceBody(new Uint8Array())));
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const packet = new Uint8Array(message);
    // Garbage from a stranger first, then the tracker's real answer.
    stranger.send(new Uint8Array([1, 2, 3]), remote.port, remote.address, () => {
      socket.send(reply(packet)!, remote.port, remote.address);
    });
  });
  try {
    const url = `udp://127.0.0.1:${socket.address().port}`;
    const response = await udpAnnounce(url, params(), quick);
    assert.equal(response.interval, 1800);
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    await new Promise<void>((resolve) => stranger.close(() => resolve()));
  }
});

Deno.test("udp: aborting the signal rejects with its reason and leaks nothing", async () => {
  const server = await rawServer(() => undefined);
  try {
    const controller = new AbortController();
    const pending = udpAnnounce(server.url, params(), {
      signal: controller.signal,
      timeout: 10_000,
      retryBaseMs: 5_000,
    });
    controller.abort(new Error("stop now"));
    await assert.rejects(pending, /stop now/);
  } finally {
    await server.close();
  }
});

Deno.test("udp: BEP 12 tiers mix http and udp trackers in TrackerClient", async () => {
  const http = new TrackerServer();
  const udp = new TrackerServer({ udpPort: 0 });
  await http.start();
  await udp.start();
  const silent = await rawServer(() => undefined);
  const infoHash = crypto.getRandomValues(new Uint8Array(20));
  try {
    // Someone already in the UDP tracker's swarm.
    await udpAnnounce(udp.udpUrl, { ...plainParams, infoHash, port: 7009 }, quick);
    const client = new TrackerClient({
      // Tier 1: a silent UDP tracker; tier 2: the UDP tracker and an HTTP one.
      announce: [[silent.url], [udp.udpUrl, http.url]],
      shuffle: (urls) => [...urls],
      transports: {
        ...defaultTrackerTransports,
        "udp:": udpTrackerTransport({ retryBaseMs: 20, maxAttempts: 2 }),
      },
      infoHash,
      peerId: filled(5),
      port: 7010,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      stopTimeout: 2_000,
    });
    const errors: string[] = [];
    client.addEventListener("error", (event) => errors.push(event.detail.url));
    const peers = nextEvent<TrackerClientEventMap["peers"]>(client, "peers");
    await client.start();
    const event = await peers;
    assert.equal(event.detail.url, udp.udpUrl);
    assert.deepEqual(event.detail.peers, [{ host: "127.0.0.1", port: 7009 }]);
    assert.deepEqual(errors, [silent.url]);
    assert.equal(client.lastTracker, udp.udpUrl);
    await client.stop();
    // `stopped` went over UDP: only the first peer is left.
    assert.deepEqual(udp.peersOf(infoHash).map((peer) => peer.port), [7009]);
    assert.equal(http.announceCount, 0);
  } finally {
    await silent.close();
    await udp.close();
    await http.close();
  }
});

Deno.test("udp: an HTTP tracker answers where the UDP one of its tier fails", async () => {
  const http = new TrackerServer();
  await http.start();
  const silent = await rawServer(() => undefined);
  try {
    const client = new TrackerClient({
      announce: [[silent.url, http.url]],
      shuffle: (urls) => [...urls],
      transports: {
        ...defaultTrackerTransports,
        "udp:": udpTrackerTransport({ retryBaseMs: 20, maxAttempts: 2 }),
      },
      infoHash: crypto.getRandomValues(new Uint8Array(20)),
      peerId: filled(5),
      port: 7011,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      stopTimeout: 2_000,
    });
    const announced = nextEvent<TrackerClientEventMap["announce"]>(client, "announce");
    await client.start();
    assert.equal((await announced).detail.url, http.url);
    assert.deepEqual(client.tiers, [[http.url, silent.url]]);
    await client.stop();
  } finally {
    await silent.close();
    await http.close();
  }
});
