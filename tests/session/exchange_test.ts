/** Unit tests of the piece exchange agent (our bitfield and haves) over the agent seam. */
import assert from "node:assert/strict";
import { pieceExchangeAgent } from "../../src/session/agents/exchange.ts";
import { FakePeer, FakeSession } from "./fakes.ts";
import { singleFile } from "./helpers.ts";

const { torrent } = await singleFile("exchange.bin", 16384 * 8, 16384);

Deno.test("piece exchange: a verified piece is announced to peers without it, not to those with it", () => {
  const session = new FakeSession(torrent);
  const seeder = new FakePeer("10.0.0.1").seed();
  const leecher = new FakePeer("10.0.0.2");
  const partial = new FakePeer("10.0.0.3");
  partial.pieces.set(3);
  session.peerList.push(seeder, leecher, partial);
  const agent = pieceExchangeAgent();
  agent.attach?.(session);
  session.verified.set(3);
  agent.pieceVerified?.(3);
  session.verified.set(5);
  agent.pieceVerified?.(5);
  assert.deepEqual(seeder.sent, []);
  assert.deepEqual(leecher.sent, [{ type: "have", index: 3 }, { type: "have", index: 5 }]);
  assert.deepEqual(partial.sent, [{ type: "have", index: 5 }]);
});

Deno.test("piece exchange: the bitfield goes out on open (have-all / have-none with BEP 6)", () => {
  const session = new FakeSession(torrent);
  const agent = pieceExchangeAgent();
  agent.attach?.(session);
  const plain = new FakePeer("10.0.0.1");
  agent.opened?.(plain);
  assert.equal(plain.sent.length, 0, "nothing verified, no fast extension: no bitfield");
  const fast = new FakePeer("10.0.0.2");
  fast.fast = true;
  agent.opened?.(fast);
  assert.deepEqual(fast.sent, [{ type: "have-none" }]);
  session.verified.set(1);
  agent.opened?.(plain);
  assert.equal(plain.sent[0]?.type, "bitfield");
});
