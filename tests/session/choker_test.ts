/** Unit tests of the choker agent over fake peers with set rates; randomness is injected. */
import assert from "node:assert/strict";
import type { MessagingAgent } from "../../src/agents/agent.ts";
import { chokerAgent, type ChokerOptions, IDLE_AFTER_MS } from "../../src/session/agents/choker.ts";
import { FakePeer, FakeSession } from "./fakes.ts";
import { singleFile } from "./helpers.ts";

const { torrent } = await singleFile("choker.bin", 16384 * 8);

/** A choking round on every tick; the optimistic unchoke kept until it must change. */
const EVERY_TICK: ChokerOptions = {
  uploadSlots: 2,
  chokeIntervalMs: 0,
  optimisticIntervalMs: Number.MAX_SAFE_INTEGER,
};

interface Swarm {
  readonly agent: MessagingAgent;
  readonly session: FakeSession;
  readonly peers: FakePeer[];
}

/** Interested peers with these download/upload rates, one per entry. */
function swarm(
  options: Partial<ChokerOptions>,
  rates: readonly { down: number; up: number; interested?: boolean }[],
): Swarm {
  const session = new FakeSession(torrent);
  const peers = rates.map((rate, i) => {
    const peer = new FakePeer(`10.0.0.${i}`);
    peer.downloadRate = rate.down;
    peer.uploadRate = rate.up;
    peer.peerInterested = rate.interested ?? true;
    return peer;
  });
  session.peerList.push(...peers);
  const agent = chokerAgent({ ...EVERY_TICK, ...options });
  agent.attach!(session);
  return { agent, session, peers };
}

/** Indices of the peers we do not choke. */
function unchoked(peers: readonly FakePeer[]): number[] {
  return peers.flatMap((peer, i) => peer.amChoking ? [] : [i]);
}

/** Random numbers handed out in order. */
function sequence(...values: number[]): () => number {
  return () => {
    const value = values.shift();
    if (value === undefined) throw new Error("random called more often than expected");
    return value;
  };
}

const interestedMessage = { type: "interested" } as const;
const notInterestedMessage = { type: "not-interested" } as const;

Deno.test("choker: leeching, the top uploadSlots by download rate plus one optimistic are unchoked", () => {
  const { agent, session, peers } = swarm({ random: sequence(0) }, [
    { down: 10, up: 900 },
    { down: 50, up: 0 },
    { down: 30, up: 0 },
    { down: 40, up: 0 },
    { down: 20, up: 0 },
    { down: 1000, up: 1000, interested: false },
  ]);
  agent.tick!(session);
  // Top two: 1 (50) and 3 (40); optimistic: random 0 picks the first of the rest, 2 (30).
  assert.deepEqual(unchoked(peers), [1, 2, 3]);
  // Everyone else is choked, the uninterested fast peer too.
  for (const i of [0, 4, 5]) assert.deepEqual(peers[i].calls, ["choke"]);
});

Deno.test("choker: the injected random picks the optimistic unchoke among the rest", () => {
  const { agent, session, peers } = swarm({ random: sequence(0.99) }, [
    { down: 10, up: 0 },
    { down: 50, up: 0 },
    { down: 30, up: 0 },
    { down: 40, up: 0 },
    { down: 20, up: 0 },
  ]);
  agent.tick!(session);
  // The rest in rate order: 2, 4, 0; 0.99 picks the last.
  assert.deepEqual(unchoked(peers), [0, 1, 3]);
});

Deno.test("choker: seeding, the top seedSlots by upload rate are unchoked", () => {
  const { agent, session, peers } = swarm({ random: sequence(0), seedSlots: 2 }, [
    { down: 500, up: 1 },
    { down: 400, up: 70 },
    { down: 300, up: 90 },
    { down: 200, up: 5 },
    { down: 100, up: 80 },
  ]);
  session.complete = true;
  agent.tick!(session);
  // Top two by upload: 2 (90), 4 (80); optimistic: 1 (70), first of the rest.
  assert.deepEqual(unchoked(peers), [1, 2, 4]);
});

Deno.test("choker: seeding serves more peers than leeching (seedSlots, default 4 x uploadSlots)", () => {
  const rates = Array.from({ length: 10 }, (_, i) => ({ down: 0, up: 10 * i }));
  const leeching = swarm({ random: sequence(0) }, rates);
  leeching.agent.tick!(leeching.session);
  assert.equal(unchoked(leeching.peers).length, 3); // 2 slots + optimistic
  const seeding = swarm({ random: sequence(0) }, rates);
  seeding.session.complete = true;
  seeding.agent.tick!(seeding.session);
  // 8 by upload rate (peers 9 down to 2) and the optimistic one (peer 1); peer 0 waits.
  assert.deepEqual(unchoked(seeding.peers), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("choker: a later round follows the rates, choking those that fell behind", () => {
  const { agent, session, peers } = swarm({ random: sequence(0, 0) }, [
    { down: 100, up: 0 },
    { down: 90, up: 0 },
    { down: 80, up: 0 },
    { down: 10, up: 0 },
    { down: 5, up: 0 },
  ]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1, 2]);
  peers[3].downloadRate = 200;
  peers[4].downloadRate = 150;
  agent.tick!(session);
  // The optimistic (2) stays until it must change; 3 and 4 are the new top two.
  assert.deepEqual(unchoked(peers), [2, 3, 4]);
  assert.deepEqual(peers[0].calls, ["unchoke", "choke"]);
});

Deno.test("choker: a round waits for chokeIntervalMs", () => {
  const { agent, session, peers } = swarm({ chokeIntervalMs: 3_600_000, random: sequence(0) }, [
    { down: 100, up: 0 },
    { down: 90, up: 0 },
    { down: 80, up: 0 },
    { down: 10, up: 0 },
  ]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1, 2]);
  peers[3].downloadRate = 1000;
  agent.tick!(session); // within the hour: no round
  assert.deepEqual(unchoked(peers), [0, 1, 2]);
  assert.deepEqual(peers[3].calls, ["choke"]);
});

Deno.test("choker: the optimistic unchoke is kept until it loses interest, then re-picked", () => {
  const { agent, session, peers } = swarm({ uploadSlots: 1, random: sequence(0.5, 0) }, [
    { down: 100, up: 0 },
    { down: 3, up: 0 },
    { down: 2, up: 0 },
    { down: 1, up: 0 },
  ]);
  agent.tick!(session);
  // Rest: 1, 2, 3; 0.5 picks 2.
  assert.deepEqual(unchoked(peers), [0, 2]);
  agent.tick!(session); // random is not asked again
  assert.deepEqual(unchoked(peers), [0, 2]);
  peers[2].peerInterested = false;
  agent.tick!(session);
  // Rest: 1, 3; 0 picks 1; 2 is choked.
  assert.deepEqual(unchoked(peers), [0, 1]);
});

Deno.test("choker: a closed optimistic unchoke is replaced", () => {
  const { agent, session, peers } = swarm({ uploadSlots: 1, random: sequence(0, 0) }, [
    { down: 100, up: 0 },
    { down: 3, up: 0 },
    { down: 2, up: 0 },
  ]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]);
  peers[1].close("gone");
  session.peerList.splice(1, 1);
  agent.tick!(session);
  assert.equal(peers[2].amChoking, false);
});

Deno.test("choker: the optimistic unchoke rotates every optimisticIntervalMs", () => {
  const { agent, session, peers } = swarm(
    { uploadSlots: 1, optimisticIntervalMs: 0, random: sequence(0, 0.99, 0) },
    [{ down: 100, up: 0 }, { down: 3, up: 0 }, { down: 2, up: 0 }],
  );
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 2]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]);
});

Deno.test({
  name: "choker: an optimistic unchoke that earns a regular slot frees the optimistic slot",
  fn() {
    const { agent, session, peers } = swarm({ uploadSlots: 1, random: sequence(0, 0) }, [
      { down: 100, up: 0 },
      { down: 3, up: 0 },
      { down: 2, up: 0 },
    ]);
    agent.tick!(session);
    assert.deepEqual(unchoked(peers), [0, 1]);
    peers[1].downloadRate = 500; // the optimistic peer is now the best
    agent.tick!(session);
    // 1 by rate, and a new optimistic among the rest (0, 2): random 0 picks 0.
    // Today only 1 stays unchoked and 0 is choked.
    assert.deepEqual(unchoked(peers), [0, 1]);
  },
});

Deno.test("choker: nothing is unchoked when the session cannot serve", () => {
  const { agent, session, peers } = swarm({ random: () => 0 }, [
    { down: 100, up: 0 },
    { down: 90, up: 0 },
    { down: 80, up: 0 },
  ]);
  session.canServe = false;
  peers[0].amChoking = false; // e.g. unchoked before
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), []);
  for (const peer of peers) assert.deepEqual(peer.calls, ["choke"]);
  agent.consumes!.interested!(peers[1], interestedMessage);
  assert.deepEqual(unchoked(peers), []);
});

Deno.test("choker: a newly interested peer is unchoked at once while a slot is free", () => {
  const { agent, peers } = swarm({ uploadSlots: 1 }, [
    { down: 0, up: 0, interested: false },
    { down: 0, up: 0, interested: false },
    { down: 0, up: 0, interested: false },
  ]);
  // uploadSlots + 1 (the optimistic) may be unchoked.
  for (const peer of peers) {
    peer.peerInterested = true;
    agent.consumes!.interested!(peer, interestedMessage);
  }
  assert.deepEqual(unchoked(peers), [0, 1]);
  assert.deepEqual(peers[2].calls, []);
  // Already unchoked: nothing more is sent.
  agent.consumes!.interested!(peers[0], interestedMessage);
  assert.deepEqual(peers[0].calls, ["unchoke"]);
});

Deno.test("choker: a peer that is no longer interested is choked", () => {
  const { agent, peers } = swarm({}, [{ down: 0, up: 0 }]);
  agent.consumes!.interested!(peers[0], interestedMessage);
  assert.equal(peers[0].amChoking, false);
  peers[0].peerInterested = false;
  agent.consumes!["not-interested"]!(peers[0], notInterestedMessage);
  assert.equal(peers[0].amChoking, true);
  assert.deepEqual(peers[0].calls, ["unchoke", "choke"]);
});

Deno.test("choker: with no interested peers a round chokes everyone and picks no optimistic", () => {
  const { agent, session, peers } = swarm({ random: sequence() }, [
    { down: 5, up: 0, interested: false },
    { down: 9, up: 0, interested: false },
  ]);
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), []);
});

Deno.test("choker: a peer that stopped reading holds no slot; a newcomer takes its slot at once", () => {
  const { agent, session, peers } = swarm({ uploadSlots: 1, random: sequence(0) }, [
    { down: 0, up: 0 },
    { down: 0, up: 0 },
    { down: 0, up: 0, interested: false },
  ]);
  // Peer 0 has our bytes queued and took nothing in the rate window: stalled.
  peers[0].queuedBytes = 512 * 1024;
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [1]);
  // Both slots (1 + optimistic) filled, one of them by a peer that then stalls.
  peers[0].queuedBytes = 0;
  peers[0].downloadRate = 10;
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]);
  peers[0].queuedBytes = 512 * 1024;
  peers[2].peerInterested = true;
  agent.consumes!.interested!(peers[2], interestedMessage);
  assert.deepEqual(unchoked(peers), [1, 2]);
});

Deno.test("choker: a slot whose peer took nothing for IDLE_AFTER_MS goes to a newly interested peer", () => {
  let now = 1_000_000;
  const { agent, session, peers } = swarm(
    { uploadSlots: 1, random: sequence(0), clock: () => now },
    [{ down: 0, up: 0 }, { down: 0, up: 0 }, { down: 0, up: 0, interested: false }],
  );
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]); // one by rate, one optimistic: all slots taken
  peers[2].peerInterested = true;
  now += IDLE_AFTER_MS - 1;
  agent.consumes!.interested!(peers[2], interestedMessage);
  assert.deepEqual(unchoked(peers), [0, 1]); // the holders may still start taking data
  now += 1;
  agent.consumes!.interested!(peers[2], interestedMessage);
  assert.deepEqual(unchoked(peers), [1, 2]); // peer 0 took nothing since its unchoke
});

Deno.test("choker: among equal rates, the peer unchoked longest ago goes first", () => {
  let now = 1_000_000;
  const { agent, session, peers } = swarm(
    { uploadSlots: 1, random: sequence(0, 0), clock: () => now },
    [{ down: 0, up: 0 }, { down: 0, up: 0 }, { down: 0, up: 0 }],
  );
  agent.tick!(session);
  assert.deepEqual(unchoked(peers), [0, 1]);
  now += 1000;
  agent.tick!(session);
  // Peer 2 was never unchoked: it takes the regular slot; the optimistic one stays.
  assert.deepEqual(unchoked(peers), [1, 2]);
});
