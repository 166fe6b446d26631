import assert from "node:assert/strict";
import {
  BUCKET_SIZE,
  commonPrefixLength,
  compareDistance,
  PeerStore,
  QueryRateLimiter,
  randomIdWithPrefix,
  randomNodeId,
  RoutingTable,
  TokenManager,
} from "../../mod.ts";

let port = 1000;
const contact = (id: Uint8Array) => ({ id, host: "10.0.0.1", port: port++ });

Deno.test("routing table: only the bucket holding our id splits", () => {
  const own = new Uint8Array(20);
  const table = new RoutingTable(own);
  // Far half (first bit differs): 8 fit, the 9th waits as a replacement.
  for (let i = 0; i < BUCKET_SIZE + 4; i++) {
    table.add(contact(randomIdWithPrefix(own, 0)), { responded: true });
  }
  const far = table.nodes().filter((node) => commonPrefixLength(own, node.id) === 0);
  assert.equal(far.length, BUCKET_SIZE);
  // Close nodes keep splitting the bucket with our id, each depth holding up to 8.
  for (let depth = 1; depth < 20; depth++) {
    for (let i = 0; i < 3; i++) {
      table.add(contact(randomIdWithPrefix(own, depth)), { responded: true });
    }
  }
  assert.equal(table.size, BUCKET_SIZE + 19 * 3);
  assert.ok(table.bucketCount >= 19);
  const pending = table.add(contact(randomIdWithPrefix(own, 0)), { responded: true });
  assert.equal(pending.outcome, "pending");
  assert.equal(pending.ping.length, 0, "good nodes are not pinged");
});

Deno.test("routing table: good, questionable after 15 minutes, bad after failures, replaced", () => {
  let now = 1_000_000;
  const own = new Uint8Array(20);
  const table = new RoutingTable(own, () => now);
  const nodes = Array.from({ length: BUCKET_SIZE }, () => contact(randomIdWithPrefix(own, 0)));
  for (const node of nodes) table.add(node, { responded: true });
  assert.equal(table.status(table.get(nodes[0].id)!), "good");
  now += 15 * 60_000;
  assert.equal(table.status(table.get(nodes[0].id)!), "questionable");
  assert.ok(table.staleBuckets().length > 0);
  const newcomer = contact(randomIdWithPrefix(own, 0));
  const result = table.add(newcomer, { responded: false });
  assert.equal(result.outcome, "pending");
  assert.equal(result.ping.length, BUCKET_SIZE, "questionable nodes are to be pinged");
  table.failed(nodes[0]);
  assert.equal(table.get(nodes[0].id)?.failures, 1);
  table.failed(nodes[0]);
  assert.equal(table.get(nodes[0].id), undefined, "bad node replaced");
  assert.ok(table.get(newcomer.id), "the replacement took its place");
});

Deno.test("routing table: rejects our id, and spoofed ids or addresses", () => {
  const own = randomNodeId();
  const table = new RoutingTable(own);
  assert.equal(table.add(contact(own), { responded: true }).outcome, "rejected");
  const node = contact(randomNodeId());
  assert.equal(table.add(node, { responded: true }).outcome, "added");
  assert.equal(table.add({ ...node, port: 1 }, { responded: true }).outcome, "rejected");
  assert.equal(table.add({ ...node, id: randomNodeId() }, { responded: true }).outcome, "rejected");
  assert.equal(table.add(node, { responded: true }).outcome, "updated");
});

Deno.test("routing table: closest sorts by XOR distance", () => {
  const table = new RoutingTable(randomNodeId());
  for (let i = 0; i < 200; i++) table.add(contact(randomNodeId()), { responded: true });
  const target = randomNodeId();
  const closest = table.closest(target, 8);
  assert.equal(closest.length, 8);
  for (let i = 1; i < closest.length; i++) {
    assert.ok(compareDistance(target, closest[i - 1].id, closest[i].id) < 0);
  }
  const everyone = table.nodes().sort((a, b) => compareDistance(target, a.id, b.id));
  assert.deepEqual(closest[0].id, everyone[0].id);
});

Deno.test("tokens: bound to the IP, accepted for 5-10 minutes", () => {
  let now = 0;
  const tokens = new TokenManager(() => now);
  const token = tokens.issue("10.0.0.1");
  assert.ok(tokens.verify(token, "10.0.0.1"));
  assert.ok(!tokens.verify(token, "10.0.0.2"));
  assert.ok(!tokens.verify(new Uint8Array(8), "10.0.0.1"));
  now += 5 * 60_000;
  assert.ok(tokens.verify(token, "10.0.0.1"), "previous secret still accepted");
  now += 5 * 60_000;
  assert.ok(!tokens.verify(token, "10.0.0.1"), "expired after two rotations");
  const later = tokens.issue("10.0.0.1");
  now += 20 * 60_000;
  assert.ok(!tokens.verify(later, "10.0.0.1"), "a long idle period drops both secrets");
});

Deno.test("peer store: bounded per info hash, in info hashes, and by age", () => {
  let now = 0;
  const store = new PeerStore(
    { maxInfoHashes: 3, maxPeersPerInfoHash: 5, maxAgeMs: 1000 },
    () => now,
  );
  for (let i = 0; i < 50; i++) store.add("a", { host: "10.0.0.1", port: 1000 + i });
  assert.equal(store.get("a", 100).length, 5);
  assert.ok(store.get("a", 100).every((peer) => peer.port >= 1045), "newest kept");
  for (const hash of ["b", "c", "d", "e"]) store.add(hash, { host: "10.0.0.2", port: 1 });
  assert.equal(store.infoHashes, 3);
  assert.deepEqual(store.get("a", 10), [], "oldest info hash evicted");
  assert.equal(store.get("e", 10).length, 1);
  now += 2000;
  assert.deepEqual(store.get("e", 10), []);
  store.expire();
  assert.equal(store.infoHashes, 0);
});

Deno.test("rate limiter: per key, refills, bounded keys", () => {
  let now = 0;
  const limiter = new QueryRateLimiter({ perSecond: 10, burst: 3, maxKeys: 2 }, () => now);
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.allow("a")), [true, true, true, false]);
  assert.ok(limiter.allow("b"));
  now += 100;
  assert.ok(limiter.allow("a"), "refilled one token in 100 ms");
  assert.ok(!limiter.allow("a"));
  limiter.allow("c"); // evicts "a", the oldest key
  assert.ok(limiter.allow("a"), "a forgotten key starts with a full burst");
});
