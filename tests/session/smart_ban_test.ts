/** Unit tests of SmartBan: who is blamed when a piece fails, and who is proven a liar. */
import assert from "node:assert/strict";
import type { AgentPeer } from "../../src/agents/agent.ts";
import type { BlockOrigin } from "../../src/session/blocks.ts";
import { SmartBan } from "../../src/session/smart_ban.ts";
import { addressKey } from "../../src/util/address.ts";
import { FakePeer } from "./fakes.ts";

const identity = (peer: AgentPeer) => addressKey(peer.host, peer.listenPort ?? peer.port);

function origins(...blocks: [FakePeer, string | undefined][]): BlockOrigin[] {
  return blocks.map(([sender, hash]) => ({ sender, hash }));
}

Deno.test("SmartBan: a piece with a single sender strikes that sender", () => {
  const ban = new SmartBan(identity);
  const a = new FakePeer("10.0.0.1");
  const verdict = ban.failed(3, origins([a, undefined], [a, undefined], [a, "h"]));
  assert.deepEqual(verdict.strike, [a]);
  // Nothing is remembered for a single sender.
  assert.equal(ban.shouldHash(3, new FakePeer("10.0.0.9")), false);
  assert.equal(ban.isSuspect(a), false);
  assert.deepEqual(ban.verified(3, origins([a, "h"])), []);
});

Deno.test("SmartBan: several hashed senders: nobody struck, then verified names the liars exactly", () => {
  const ban = new SmartBan(identity);
  const [a, b, c] = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((host) => new FakePeer(host));
  const verdict = ban.failed(7, origins([a, "A0"], [b, "bad1"], [c, "C2"], [b, "B3"]));
  assert.deepEqual(verdict.strike, []);
  // Blocks of the failed piece are hashed from now on, whoever sends them.
  const d = new FakePeer("10.0.0.4");
  assert.equal(ban.shouldHash(7, d), true);
  assert.equal(ban.shouldHash(8, d), false);
  // The refetch: block 1 differs from what b sent; b's block 3 matched.
  const liars = ban.verified(7, origins([d, "A0"], [d, "good1"], [d, "C2"], [d, "B3"]));
  assert.deepEqual(liars, [b]);
  // The record is gone once verified.
  assert.equal(ban.shouldHash(7, d), false);
  assert.deepEqual(ban.verified(7, origins([d, "A0"], [d, "x"], [d, "C2"], [d, "B3"])), []);
});

Deno.test("SmartBan: several liars are all proven, each once", () => {
  const ban = new SmartBan(identity);
  const [a, b, c] = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((host) => new FakePeer(host));
  ban.failed(0, origins([a, "bad"], [b, "bad"], [a, "bad"], [c, "G3"]));
  const liars = ban.verified(0, origins([c, "G0"], [c, "G1"], [c, "G2"], [c, "G3"]));
  assert.deepEqual(new Set(liars), new Set([a, b]));
  assert.equal(liars.length, 2);
});

Deno.test("SmartBan: a block whose good hash is unknown proves nothing", () => {
  const ban = new SmartBan(identity);
  const [a, b] = ["10.0.0.1", "10.0.0.2"].map((host) => new FakePeer(host));
  ban.failed(1, origins([a, "X"], [b, "Y"]));
  const liars = ban.verified(1, [undefined, { sender: a, hash: "Y" }]);
  assert.deepEqual(liars, []);
});

Deno.test("SmartBan: two failures of a piece: hashes of both are compared at verification", () => {
  const ban = new SmartBan(identity);
  const [a, b, c] = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((host) => new FakePeer(host));
  assert.deepEqual(ban.failed(4, origins([a, "bad0"], [b, "G1"])).strike, []);
  assert.deepEqual(ban.failed(4, origins([b, "G0"], [c, "bad1"])).strike, []);
  const liars = ban.verified(4, origins([a, "G0"], [a, "G1"]));
  assert.deepEqual(new Set(liars), new Set([a, c]));
});

Deno.test("SmartBan: unhashed senders of a failed piece become suspects", () => {
  const ban = new SmartBan(identity);
  const [a, b] = ["10.0.0.1", "10.0.0.2"].map((host) => new FakePeer(host));
  const other = new FakePeer("10.0.0.3");
  assert.equal(ban.shouldHash(9, a), false);
  assert.deepEqual(ban.failed(2, origins([a, undefined], [b, undefined])).strike, []);
  assert.equal(ban.isSuspect(a), true);
  assert.equal(ban.isSuspect(b), true);
  assert.equal(ban.isSuspect(other), false);
  // Any piece a suspect sends is hashed; not so for others.
  assert.equal(ban.shouldHash(9, a), true);
  assert.equal(ban.shouldHash(9, other), false);
  // The same identity reconnecting (another AgentPeer object) is still a suspect.
  const again = new FakePeer("10.0.0.1");
  assert.notEqual(again, a);
  assert.equal(ban.isSuspect(again), true);
  assert.equal(ban.shouldHash(9, again), true);
  // Another port is another identity.
  assert.equal(ban.isSuspect(new FakePeer("10.0.0.1", 7000)), false);
});

Deno.test("SmartBan: an incoming peer's identity follows its listen port", () => {
  const ban = new SmartBan(identity);
  const a = new FakePeer("10.0.0.1", 50000);
  a.incoming = true;
  a.listenPort = 6881;
  const b = new FakePeer("10.0.0.2");
  ban.failed(0, origins([a, undefined], [b, undefined]));
  assert.equal(ban.isSuspect(new FakePeer("10.0.0.1", 6881)), true);
  assert.equal(ban.isSuspect(new FakePeer("10.0.0.1", 50000)), false);
});

Deno.test("SmartBan: records are bounded: the oldest failed piece is forgotten first", () => {
  const ban = new SmartBan(identity);
  const [a, b] = ["10.0.0.1", "10.0.0.2"].map((host) => new FakePeer(host));
  const probe = new FakePeer("10.0.0.3");
  // 256 records fit; the 257th evicts piece 0.
  for (let piece = 0; piece <= 256; piece++) ban.failed(piece, origins([a, "bad"], [b, "ok"]));
  assert.equal(ban.shouldHash(0, probe), false);
  assert.equal(ban.shouldHash(1, probe), true);
  assert.equal(ban.shouldHash(256, probe), true);
  assert.deepEqual(ban.verified(0, origins([probe, "good"], [probe, "ok"])), []);
  assert.deepEqual(ban.verified(256, origins([probe, "good"], [probe, "ok"])), [a]);
});
