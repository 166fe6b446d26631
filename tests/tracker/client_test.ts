import assert from "node:assert/strict";
import { TrackerClient, type TrackerError } from "../../src/tracker/mod.ts";
import type { TrackerClientEventMap, TrackerClientOptions } from "../../src/tracker/mod.ts";
import { bencodeResponse, filled, nextEvent, serveLocal } from "./helpers.ts";

const ownId = filled(0x42);

function options(
  urls: string[][],
  extra: Partial<TrackerClientOptions> = {},
): TrackerClientOptions {
  return {
    announce: urls,
    infoHash: filled(1),
    peerId: ownId,
    port: 6881,
    stats: () => ({ uploaded: 1, downloaded: 2, left: 3 }),
    shuffle: (items) => [...items],
    minIntervalMs: 0,
    ...extra,
  };
}

const eventOf = (url: URL) => url.searchParams.get("event") ?? "";

type AnnounceEvent = TrackerClientEventMap["announce"];
type ErrorEvent = TrackerClientEventMap["error"];

Deno.test("client announces started, re-announces on interval, completed, then stopped", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      interval: 1,
      "tracker id": "tid-1",
      peers: [{ ip: "127.0.0.1", port: 7000, "peer id": filled(7) }, {
        ip: "127.0.0.1",
        port: 6881,
        "peer id": ownId,
      }],
    })
  );
  const client = new TrackerClient(options([[server.url]], { numwant: 12, key: "abc" }));
  const peers: TrackerClientEventMap["peers"][] = [];
  client.addEventListener("peers", (event) => peers.push(event));
  try {
    await client.start();
    assert.equal(client.lastTracker, server.url);
    assert.equal(eventOf(server.requests[0]), "started");
    const query = server.requests[0].searchParams;
    assert.equal(query.get("numwant"), "12");
    assert.equal(query.get("key"), "abc");
    assert.equal(query.get("left"), "3");
    assert.equal(query.get("trackerid"), null);
    // Our own entry is filtered out of the peers event.
    assert.deepEqual(peers[0].detail.peers, [{ host: "127.0.0.1", port: 7000, peerId: filled(7) }]);

    const regular = await nextEvent<AnnounceEvent>(client, "announce");
    assert.equal(regular.detail.event, undefined);
    assert.equal(eventOf(server.requests[1]), "");
    assert.equal(server.requests[1].searchParams.get("trackerid"), "tid-1");

    await client.completed();
    assert.equal(eventOf(server.requests.at(-1)!), "completed");
  } finally {
    await client.stop();
    await server.close();
  }
  const events = server.requests.map(eventOf);
  assert.equal(events.at(-1), "stopped");
  assert.equal(server.requests.at(-1)!.searchParams.get("numwant"), "0");
  assert.equal(events.filter((event) => event === "stopped").length, 1);
});

Deno.test("client backs off exponentially while every tracker fails, and keeps 'started' pending", async () => {
  let answer = false;
  const server = await serveLocal(() =>
    answer
      ? bencodeResponse({ interval: 3600, peers: new Uint8Array() })
      : new Response("down", { status: 503 })
  );
  const client = new TrackerClient(options([[server.url]], { retryBaseMs: 20, retryMaxMs: 40 }));
  const retries: number[] = [];
  const perTracker: string[] = [];
  client.addEventListener("error", (event) => {
    if (event.detail.retryInMs !== undefined) retries.push(event.detail.retryInMs);
    else perTracker.push((event.detail.error as TrackerError).kind);
  });
  try {
    await client.start();
    const third = nextEvent<ErrorEvent>(client, "error", () => retries.length >= 3);
    await third;
    assert.deepEqual(retries.slice(0, 3), [20, 40, 40]);
    assert.ok(perTracker.every((kind) => kind === "http-status"));
    answer = true;
    const success = await nextEvent<AnnounceEvent>(client, "announce");
    // The first successful announce still carries `started`.
    assert.equal(success.detail.event, "started");
    assert.ok(server.requests.every((url) => eventOf(url) === "started"));
  } finally {
    await client.stop();
    await server.close();
  }
});

Deno.test("client stop never hangs on a tracker that does not answer 'stopped'", async () => {
  const release = Promise.withResolvers<void>();
  const server = await serveLocal(async (request) => {
    if (new URL(request.url).searchParams.get("event") === "stopped") await release.promise;
    return bencodeResponse({ interval: 3600, peers: new Uint8Array() });
  });
  const client = new TrackerClient(options([[server.url]], { stopTimeout: 200 }));
  const errors: ErrorEvent[] = [];
  client.addEventListener("error", (event) => errors.push(event));
  try {
    await client.start();
    await client.stop();
    assert.equal(errors.length, 1);
    assert.equal((errors[0].detail.error as TrackerError).kind, "timeout");
  } finally {
    release.resolve();
    await server.close();
  }
});

Deno.test("client stops when its signal aborts, cancelling the request in flight", async () => {
  const release = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  const server = await serveLocal(async () => {
    arrived.resolve();
    await release.promise;
    return bencodeResponse({ interval: 3600, peers: new Uint8Array() });
  });
  const controller = new AbortController();
  const client = new TrackerClient(options([[server.url]], { signal: controller.signal }));
  try {
    const started = client.start();
    await arrived.promise;
    controller.abort();
    await started; // resolves: the round was cancelled, not failed
    assert.equal(client.lastTracker, undefined);
    await client.stop(); // idempotent; no `stopped` since no tracker ever answered
    assert.equal(server.requests.length, 1);
  } finally {
    release.resolve();
    await server.close();
  }
});

Deno.test("client reports tracker warnings and skips trackers of unknown schemes", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({ interval: 3600, peers: new Uint8Array(), "warning message": "slow down" })
  );
  const client = new TrackerClient(
    options([["wss://tracker.example:80/announce", server.url], ["ftp://x.example"]]),
  );
  const warnings: string[] = [];
  client.addEventListener(
    "warning",
    (event) => warnings.push(`${event.detail.url}: ${event.detail.message}`),
  );
  try {
    await client.start();
    assert.deepEqual(client.tiers, [[server.url]]);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0], /^wss:.*no transport for this tracker's scheme/);
    assert.equal(warnings[2], `${server.url}: slow down`);
  } finally {
    await client.stop();
    await server.close();
  }
});

Deno.test("client announceNow waits for the tracker's min interval", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({ interval: 3600, "min interval": 1, peers: new Uint8Array() })
  );
  const client = new TrackerClient(options([[server.url]]));
  try {
    await client.start();
    client.announceNow(); // too soon: scheduled for when min interval has passed
    assert.equal(server.requests.length, 1);
    await nextEvent<AnnounceEvent>(client, "announce");
    assert.equal(server.requests.length, 2);
    assert.equal(eventOf(server.requests[1]), "");
  } finally {
    await client.stop();
    await server.close();
  }
});

Deno.test("client waits at least the BEP 31 retry in when every tracker refused with one", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({ "failure reason": "busy", "retry in": 1 })
  );
  const client = new TrackerClient(
    options([[server.url]], { retryBaseMs: 10, retryMaxMs: 600_000 }),
  );
  try {
    const failed = nextEvent<ErrorEvent>(
      client,
      "error",
      (event) => event.detail.retryInMs !== undefined,
    );
    await client.start();
    assert.equal((await failed).detail.retryInMs, 60_000);
  } finally {
    await client.stop();
    await server.close();
  }
});
