import assert from "node:assert/strict";
import { announce, TrackerError, TrackerServer, TrackerTiers } from "../../src/tracker/mod.ts";
import type { Shuffle } from "../../src/tracker/mod.ts";
import {
  bencodeResponse,
  closedPort,
  type LocalServer,
  plainParams,
  serveLocal,
} from "./helpers.ts";

const keepOrder: Shuffle = (items) => [...items];
const params = plainParams;

/** Servers that log each contact, by name, in one shared list. */
async function loggingServers(
  contacts: string[],
  specs: Record<string, () => Response>,
): Promise<Record<string, LocalServer>> {
  const servers: Record<string, LocalServer> = {};
  for (const [name, respond] of Object.entries(specs)) {
    servers[name] = await serveLocal(() => {
      contacts.push(name);
      return respond();
    });
  }
  return servers;
}

const ok = () => bencodeResponse({ interval: 60, peers: new Uint8Array() });
const refuses = () => bencodeResponse({ "failure reason": "not registered" });
const broken = () => new Response("oops", { status: 500 });

Deno.test("tiers try trackers in order, promote the one that answers, and fall through tiers", async () => {
  const contacts: string[] = [];
  const servers = await loggingServers(contacts, {
    refusing: refuses,
    broken,
    good: ok,
    backup: ok,
  });
  const down = `http://127.0.0.1:${closedPort()}/announce`;
  try {
    const tiers = new TrackerTiers(
      [[down, servers.refusing.url, servers.good.url], [servers.backup.url]],
      keepOrder,
    );
    const failures: string[] = [];
    const first = await tiers.first((url) => announce(url, params), (url, error) => {
      assert.ok(error instanceof TrackerError);
      failures.push(`${url === down ? "down" : "refusing"}:${error.kind}`);
    });
    assert.equal(first.url, servers.good.url);
    assert.deepEqual(failures, ["down:unreachable", "refusing:failure"]);
    assert.deepEqual(contacts, ["refusing", "good"]);
    assert.deepEqual(tiers.tiers, [[servers.good.url, down, servers.refusing.url], [
      servers.backup.url,
    ]]);

    // The promoted tracker is asked first next time.
    contacts.length = 0;
    await tiers.first((url) => announce(url, params));
    assert.deepEqual(contacts, ["good"]);

    // A whole failing tier falls through to the next one, whose answering tracker moves up.
    await servers.good.close();
    contacts.length = 0;
    const second = await tiers.first((url) => announce(url, params));
    assert.equal(second.url, servers.backup.url);
    assert.deepEqual(contacts, ["refusing", "backup"]);
  } finally {
    for (const [name, server] of Object.entries(servers)) if (name !== "good") await server.close();
  }
});

Deno.test("tiers report no-tracker-answered with every failure when all trackers fail", async () => {
  const contacts: string[] = [];
  const servers = await loggingServers(contacts, { broken, refusing: refuses });
  try {
    const tiers = new TrackerTiers([[servers.broken.url], [servers.refusing.url]], keepOrder);
    await assert.rejects(tiers.first((url) => announce(url, params)), (error) => {
      assert.ok(error instanceof TrackerError);
      assert.equal(error.kind, "no-tracker-answered");
      assert.ok(error.cause instanceof AggregateError);
      assert.deepEqual(error.cause.errors.map((e: TrackerError) => e.kind), [
        "http-status",
        "failure",
      ]);
      return true;
    });
    assert.deepEqual(contacts, ["broken", "refusing"]);
  } finally {
    for (const server of Object.values(servers)) await server.close();
  }
});

Deno.test("tiers shuffle each tier once, drop repeats and empty tiers", async () => {
  const reverse: Shuffle = (items) => [...items].reverse();
  const tiers = new TrackerTiers([["a", "b", "c"], [], ["b", "d"]], reverse);
  assert.deepEqual(tiers.tiers, [["c", "b", "a"], ["d"]]);
  assert.equal(tiers.size, 4);
  // The default shuffle keeps every URL.
  const random = new TrackerTiers([["a", "b", "c", "d"]]);
  assert.deepEqual(random.tiers[0].toSorted(), ["a", "b", "c", "d"]);
  // Order is stable across calls: shuffled once, not per announce.
  const tracker = new TrackerServer();
  await tracker.start();
  try {
    const mixed = new TrackerTiers([[tracker.url, "http://127.0.0.1:1/announce"]]);
    const before = mixed.tiers;
    await mixed.first((url) => announce(url, params));
    assert.equal(mixed.tiers[0][0], tracker.url);
    assert.deepEqual(mixed.tiers[0].toSorted(), before[0].toSorted());
  } finally {
    await tracker.close();
  }
});

Deno.test("tiers stop walking when the signal aborts", async () => {
  const controller = new AbortController();
  const tiers = new TrackerTiers([["a", "b"]], keepOrder);
  const tried: string[] = [];
  await assert.rejects(
    tiers.first(
      (url) => {
        tried.push(url);
        controller.abort(new Error("stop now"));
        return Promise.reject(new Error("failed"));
      },
      undefined,
      controller.signal,
    ),
    /stop now/,
  );
  assert.deepEqual(tried, ["a"]);
});
