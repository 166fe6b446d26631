/** Unit tests of PeerPool: de-duplication, quotas per source, back-off per failure reason. */
import assert from "node:assert/strict";
import { PeerPool, stallReason } from "../../src/session/pool.ts";
import type { PeerAddress } from "../../src/util/address.ts";

const none = () => false;

function hosts(prefix: string, count: number, port = 6881): PeerAddress[] {
  return Array.from({ length: count }, (_, i) => ({ host: `${prefix}.${i}`, port }));
}

function keys(addresses: readonly PeerAddress[]): string[] {
  return addresses.map((a) => `${a.host}:${a.port}`);
}

Deno.test("PeerPool: de-duplicates addresses and skips bad ports", () => {
  const pool = new PeerPool();
  const added = pool.add([
    { host: "10.0.0.1", port: 6881 },
    { host: "10.0.0.1", port: 6881 },
    { host: "10.0.0.1", port: 6882 },
    { host: "10.0.0.2", port: 0 },
    { host: "10.0.0.3", port: 65536 },
    { host: "10.0.0.4", port: 1.5 },
  ], "tracker");
  assert.equal(added, 2);
  assert.equal(pool.add([{ host: "10.0.0.1", port: 6881 }], "pex"), 0);
  assert.equal(pool.size, 2);
  assert.equal(pool.countFrom("tracker"), 2);
  assert.equal(pool.countFrom("pex"), 0);
});

Deno.test("PeerPool: IPv6 addresses are keyed in brackets", () => {
  const pool = new PeerPool();
  pool.add([{ host: "::1", port: 6881 }], "user");
  pool.exclude("[::1]:6881");
  assert.equal(pool.size, 0);
  assert.equal(pool.add([{ host: "::1", port: 6881 }], "user"), 0);
});

Deno.test("PeerPool: excluded addresses are dropped and never added again", () => {
  const pool = new PeerPool();
  pool.add(hosts("10.0.0", 3), "tracker");
  pool.exclude("10.0.0.1:6881");
  pool.exclude("10.9.9.9:1");
  assert.equal(pool.isExcluded("10.0.0.1:6881"), true);
  assert.equal(pool.isExcluded("10.0.0.2:6881"), false);
  assert.equal(pool.size, 2);
  assert.equal(pool.countFrom("tracker"), 2);
  assert.equal(pool.add(hosts("10.0.0", 3), "tracker"), 0);
  assert.deepEqual(keys(pool.take(10, none, 0)), ["10.0.0.0:6881", "10.0.0.2:6881"]);
  assert.deepEqual(pool.summary(0), { known: 2, backingOff: 0, excluded: 2 });
});

Deno.test("PeerPool: pex is capped at 500 by default; other sources are not", () => {
  const pool = new PeerPool();
  assert.equal(pool.add(hosts("10.1.0", 600), "pex"), 500);
  assert.equal(pool.countFrom("pex"), 500);
  assert.equal(pool.add(hosts("10.2.0", 600), "dht"), 500);
  assert.equal(pool.add(hosts("10.3.0", 700), "tracker"), 700);
  assert.equal(pool.size, 1700);
});

Deno.test("PeerPool: a full pool evicts an idle address of the biggest other source", () => {
  const pool = new PeerPool({ maxCandidates: 4, quotas: { pex: 3 } });
  assert.equal(pool.add(hosts("10.1.0", 5), "pex"), 3);
  assert.equal(pool.add(hosts("10.2.0", 1), "tracker"), 1);
  assert.equal(pool.size, 4);
  // Taken addresses are never evicted: only pex 10.1.0.2 is idle.
  assert.deepEqual(keys(pool.take(2, none, 0)), ["10.1.0.0:6881", "10.1.0.1:6881"]);
  assert.equal(pool.add([{ host: "10.3.0.1", port: 6881 }], "user"), 1);
  assert.equal(pool.size, 4);
  assert.equal(pool.countFrom("pex"), 2);
  assert.equal(pool.countFrom("user"), 1);
  const offered = keys(pool.take(10, none, 0));
  assert.deepEqual(offered, ["10.2.0.0:6881", "10.3.0.1:6881"]);
});

Deno.test("PeerPool: a full pool lets the biggest source replace only its own idle addresses", () => {
  const pool = new PeerPool({ maxCandidates: 3, quotas: {} });
  pool.add(hosts("10.1.0", 2), "tracker");
  pool.add(hosts("10.2.0", 1), "pex");
  // pex is smaller than tracker: it evicts tracker's oldest idle address.
  assert.equal(pool.add([{ host: "10.2.0.9", port: 6881 }], "pex"), 1);
  assert.equal(pool.countFrom("tracker"), 1);
  assert.equal(pool.countFrom("pex"), 2);
  // Now pex holds the most: it replaces its own oldest, tracker keeps its one.
  assert.equal(pool.add([{ host: "10.2.0.10", port: 6881 }], "pex"), 1);
  assert.equal(pool.countFrom("tracker"), 1);
  assert.equal(pool.countFrom("pex"), 2);
  assert.deepEqual(keys(pool.take(10, none, 0)), [
    "10.1.0.1:6881",
    "10.2.0.9:6881",
    "10.2.0.10:6881",
  ]);
  // Everything taken: nothing can be evicted, nothing is added.
  assert.equal(pool.add([{ host: "10.4.0.1", port: 6881 }], "user"), 0);
  assert.equal(pool.size, 3);
});

Deno.test("PeerPool: take offers each address once until released or failed", () => {
  const pool = new PeerPool({ retryBaseMs: 1000 });
  pool.add(hosts("10.0.0", 3), "tracker");
  assert.deepEqual(keys(pool.take(2, none, 0)), ["10.0.0.0:6881", "10.0.0.1:6881"]);
  assert.deepEqual(keys(pool.take(5, none, 0)), ["10.0.0.2:6881"]);
  assert.deepEqual(pool.take(5, none, 0), []);
  pool.released("10.0.0.1:6881", 100);
  assert.deepEqual(pool.take(5, none, 1099), []);
  assert.deepEqual(keys(pool.take(5, none, 1100)), ["10.0.0.1:6881"]);
});

Deno.test("PeerPool: skip rejects addresses without taking them", () => {
  const pool = new PeerPool();
  pool.add(hosts("10.0.0", 3), "tracker");
  const skipped: string[] = [];
  const ready = pool.take(5, (_address, key) => {
    if (key !== "10.0.0.1:6881") return false;
    skipped.push(key);
    return true;
  }, 0);
  assert.deepEqual(keys(ready), ["10.0.0.0:6881", "10.0.0.2:6881"]);
  assert.deepEqual(skipped, ["10.0.0.1:6881"]);
  assert.deepEqual(keys(pool.take(5, none, 0)), ["10.0.0.1:6881"]);
});

Deno.test("PeerPool: succeeded keeps an address taken (an incoming peer we also know)", () => {
  const pool = new PeerPool();
  pool.add(hosts("10.0.0", 1), "tracker");
  pool.succeeded("10.0.0.0:6881");
  pool.succeeded("10.9.9.9:6881"); // unknown: ignored
  assert.deepEqual(pool.take(5, none, 0), []);
  assert.equal(pool.size, 1);
});

Deno.test("PeerPool: back-off doubles per failure of a reason, capped at maxRetryMs", () => {
  const pool = new PeerPool({ retryBaseMs: 1000, maxRetryMs: 10_000 });
  const key = "10.0.0.0:6881";
  pool.add(hosts("10.0.0", 1), "tracker");
  const delays: number[] = [];
  let now = 0;
  for (let i = 0; i < 6; i++) {
    pool.take(1, none, now);
    pool.failed(key, "connect", now);
    const ready = pool.nextReadyAt()!;
    delays.push(ready - now);
    assert.deepEqual(pool.take(1, none, ready - 1), []);
    assert.deepEqual(keys(pool.take(1, none, ready)), [key]);
    now = ready;
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 10_000, 10_000]);
});

Deno.test("PeerPool: back-off is independent across reasons", () => {
  const pool = new PeerPool({ retryBaseMs: 1000, maxRetryMs: 300_000 });
  const key = "10.0.0.0:6881";
  pool.add(hosts("10.0.0", 1), "tracker");
  pool.failed(key, "bad-bitfield", 0);
  pool.failed(key, "bad-bitfield", 0);
  pool.failed(key, "bad-bitfield", 0);
  assert.equal(pool.nextReadyAt(), 4000);
  // A first failure of another reason waits the base delay only.
  pool.failed(key, "timeout", 10_000);
  assert.equal(pool.nextReadyAt(), 11_000);
  // And the first reason's count carries on.
  pool.failed(key, "bad-bitfield", 20_000);
  assert.equal(pool.nextReadyAt(), 28_000);
});

Deno.test("PeerPool: released after failures waits the base delay", () => {
  const pool = new PeerPool({ retryBaseMs: 1000 });
  const key = "10.0.0.0:6881";
  pool.add(hosts("10.0.0", 1), "tracker");
  for (let i = 0; i < 4; i++) pool.failed(key, "connect", 0);
  assert.equal(pool.nextReadyAt(), 8000);
  pool.released(key, 500);
  assert.equal(pool.nextReadyAt(), 1500);
});

Deno.test("PeerPool: failed/released of unknown addresses are ignored", () => {
  const pool = new PeerPool();
  pool.failed("10.0.0.0:1", "connect", 0);
  pool.released("10.0.0.0:1", 0);
  assert.equal(pool.size, 0);
  assert.equal(pool.nextReadyAt(), undefined);
});

Deno.test("PeerPool: summary counts known, backing off (not taken) and excluded", () => {
  const pool = new PeerPool({ retryBaseMs: 1000 });
  pool.add(hosts("10.0.0", 4), "tracker");
  pool.exclude("10.0.0.3:6881");
  pool.take(3, none, 0);
  pool.failed("10.0.0.0:6881", "connect", 0); // ready at 1000
  pool.failed("10.0.0.1:6881", "connect", 0);
  pool.failed("10.0.0.1:6881", "connect", 0); // ready at 2000
  // 10.0.0.2 stays taken.
  assert.deepEqual(pool.summary(0), { known: 3, backingOff: 2, excluded: 1 });
  assert.deepEqual(pool.summary(1000), { known: 3, backingOff: 1, excluded: 1 });
  assert.deepEqual(pool.summary(2000), { known: 3, backingOff: 0, excluded: 1 });
});

Deno.test("PeerPool: nextReadyAt is the earliest retry among addresses not taken", () => {
  const pool = new PeerPool({ retryBaseMs: 1000 });
  pool.add(hosts("10.0.0", 3), "tracker");
  pool.take(3, none, 0);
  assert.equal(pool.nextReadyAt(), undefined); // all taken
  pool.failed("10.0.0.0:6881", "connect", 5000);
  pool.failed("10.0.0.0:6881", "connect", 5000); // 7000
  pool.failed("10.0.0.1:6881", "connect", 6000); // 7000
  pool.failed("10.0.0.1:6881", "connect", 4500); // second failure: 6500
  assert.equal(pool.nextReadyAt(), 6500);
  pool.take(1, none, 6500); // takes 10.0.0.1
  assert.equal(pool.nextReadyAt(), 7000);
});

Deno.test("PeerPool: forgetSources drops every address of the other sources, connected ones too", () => {
  const pool = new PeerPool();
  pool.add([{ host: "10.0.0.1", port: 1 }], "tracker");
  pool.add([{ host: "10.0.0.2", port: 1 }, { host: "10.0.0.3", port: 1 }], "dht");
  pool.add([{ host: "10.0.0.4", port: 1 }], "user");
  const [first] = pool.take(1, (address) => address.host !== "10.0.0.2");
  assert.equal(first.host, "10.0.0.2");
  pool.succeeded("10.0.0.2:1");
  assert.equal(pool.forgetSources((source) => source !== "dht"), 2);
  assert.equal(pool.countFrom("dht"), 0);
  // The connection ends: nothing comes back.
  pool.failed("10.0.0.2:1", "closed", 0);
  const offered = pool.take(10, () => false, Date.now() + 60_000).map((address) => address.host);
  assert.deepEqual(offered.sort(), ["10.0.0.1", "10.0.0.4"]);
  // A kept source may offer one of them again.
  assert.equal(pool.add([{ host: "10.0.0.3", port: 1 }], "tracker"), 1);
});

Deno.test("stallReason: nothing while an address is ready; then why nothing is", () => {
  const pool = new PeerPool();
  assert.equal(
    stallReason(pool, 0, ["tracker", "dht"]),
    "no peers: none of the sources (tracker, dht) has offered one yet",
  );
  assert.match(stallReason(pool, 0, [])!, /\(none\)/);
  pool.add(hosts("10.0.1", 2), "tracker");
  assert.equal(stallReason(pool, 0, ["tracker"]), undefined, "two addresses ready to dial");
  for (const key of keys(pool.take(2, none))) pool.failed(key, "refused");
  assert.equal(
    stallReason(pool, 1, ["tracker"]),
    "no usable peers: all 3 known peers failed or were banned (1 banned); retrying with back-off",
  );
});
