/**
 * Unit tests for `Bans`: strikes and bans by identity, what a ban does to the pool and to the
 * connections of that identity, and the hand-over from a magnet link's metadata phase.
 */
import assert from "node:assert/strict";
import type { AgentPeer } from "../../src/agents/agent.ts";
import { Bans } from "../../src/session/bans.ts";
import { PeerPool } from "../../src/session/pool.ts";
import { FakePeer } from "./fakes.ts";

/** The runtime's identity where peers share an address: IP and listen port. */
const byListenPort = (peer: AgentPeer) => `${peer.host}:${peer.listenPort ?? peer.port}`;

Deno.test("Bans: strikes count per identity, across connections of one peer", () => {
  const bans = new Bans(byListenPort);
  const first = new FakePeer("10.0.0.1", 6881);
  const again = new FakePeer("10.0.0.1", 6881); // the same peer, reconnected
  const other = new FakePeer("10.0.0.1", 6882);
  assert.equal(bans.strike(first), 1);
  assert.equal(bans.strike(again), 2);
  assert.equal(bans.strike(other), 1);
  assert.equal(bans.size, 0, "strikes alone ban nobody");
});

Deno.test("Bans: a ban closes every connection of that identity, keeps the pool from it, announces once", () => {
  const bans = new Bans(byListenPort);
  const pool = new PeerPool();
  const liar = new FakePeer("10.0.0.1", 6881);
  const liarAgain = new FakePeer("10.0.0.1", 6881);
  const honest = new FakePeer("10.0.0.1", 6882);
  const connected = [liar, liarAgain, honest];
  let announced = 0;
  bans.ban(liar, "bad data", pool, connected, () => announced++);
  assert.equal(announced, 1);
  assert.ok(liar.closed && liarAgain.closed, "both connections of the banned identity close");
  assert.equal(liar.closeReason, "banned: bad data");
  assert.ok(!honest.closed, "another peer on the same IP stays");
  assert.ok(pool.isExcluded("10.0.0.1:6881"));
  assert.ok(!pool.isExcluded("10.0.0.1:6882"));
  assert.ok(bans.has(liarAgain) && !bans.has(honest));
  assert.ok(bans.refuses("10.0.0.1", "10.0.0.1:6881"));
  assert.ok(!bans.refuses("10.0.0.1", "10.0.0.1:6882"));

  bans.ban(liarAgain, "bad data", pool, connected, () => announced++);
  assert.equal(announced, 1, "banning a banned identity again announces nothing");
  assert.equal(bans.size, 1);
});

Deno.test("Bans: an identity that is the IP address refuses every port of it", () => {
  const bans = new Bans((peer) => peer.host);
  const pool = new PeerPool();
  const peer = new FakePeer("10.0.0.7", 51413);
  bans.ban(peer, "flood", pool, [peer], () => {});
  assert.ok(bans.refuses("10.0.0.7", "10.0.0.7:6881"));
  assert.ok(!bans.refuses("10.0.0.8", "10.0.0.8:51413"));
});

Deno.test("Bans: an incoming peer that never said its listen port is excluded only by its key", () => {
  const bans = new Bans((peer) => peer.key);
  const pool = new PeerPool();
  const peer = new FakePeer("10.0.0.3", 40000);
  peer.incoming = true;
  peer.listenPort = undefined;
  bans.ban(peer, "test", pool, [], () => {});
  assert.ok(peer.closed, "the peer itself closes even when not among the connected");
  assert.ok(pool.isExcluded("10.0.0.3:40000"));
});

Deno.test("Bans: the download carries over the metadata phase's bans, not its strikes", () => {
  const metadataPhase = new Bans(byListenPort);
  const pool = new PeerPool();
  const banned = new FakePeer("10.0.0.1", 6881);
  const struck = new FakePeer("10.0.0.2", 6881);
  metadataPhase.ban(banned, "bad metadata", pool, [banned], () => {});
  metadataPhase.strike(struck);
  const download = new Bans(byListenPort);
  download.carryOver(metadataPhase);
  assert.ok(download.has(banned));
  assert.equal(download.size, 1);
  assert.equal(download.strike(struck), 1, "strikes start again");
});
