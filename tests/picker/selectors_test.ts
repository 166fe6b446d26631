import assert from "node:assert/strict";
import { Availability, Bitfield, RarestFirstSelector, SequentialSelector } from "../../mod.ts";

function bits(size: number, indices: number[]): Bitfield {
  const bitfield = new Bitfield(size);
  for (const index of indices) bitfield.set(index);
  return bitfield;
}

const always = () => true;

Deno.test("sequential: lowest eligible piece the peer has, skipping done ones", () => {
  const selector = new SequentialSelector();
  selector.init(6);
  const peer = bits(6, [1, 2, 4, 5]);
  assert.equal(selector.select(peer, always), 1);
  selector.pieceDone(1);
  assert.equal(selector.select(peer, always), 2);
  assert.equal(selector.select(peer, (i) => i !== 2), 4);
  selector.pieceDone(0);
  selector.pieceDone(2);
  selector.pieceDone(4);
  selector.pieceDone(5);
  assert.equal(selector.select(peer, always), undefined);
});

Deno.test("availability: counts and rarest-first order stay consistent under random updates", () => {
  const size = 50;
  const availability = new Availability();
  availability.init(size);
  const expected = new Array(size).fill(0);
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let step = 0; step < 5000; step++) {
    const index = Math.floor(next() * size);
    if (next() < 0.6) {
      availability.increment(index);
      expected[index]++;
    } else if (expected[index] > 0) {
      availability.decrement(index);
      expected[index]--;
    }
  }
  const order = Array.from({ length: size }, (_, rank) => availability.at(rank));
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i));
  for (let rank = 1; rank < size; rank++) {
    assert.ok(expected[order[rank - 1]] <= expected[order[rank]], `rank ${rank} out of order`);
  }
  for (let i = 0; i < size; i++) assert.equal(availability.of(i), expected[i]);
});

Deno.test("rarest first: the piece fewest peers have; seeds count once", () => {
  const selector = new RarestFirstSelector();
  selector.init(4);
  const a = bits(4, [0, 1, 2]);
  const b = bits(4, [0, 1]);
  const seed = bits(4, [0, 1, 2, 3]);
  selector.peerAdded(a);
  selector.peerAdded(b);
  selector.peerAdded(seed);
  assert.equal(selector.availability(2), 2);
  assert.equal(selector.availability(3), 1);
  // The seed can give everything: piece 3 is the rarest.
  assert.equal(selector.select(seed, always), 3);
  // Peer a lacks 3: piece 2 (two peers) beats 0 and 1 (three peers).
  assert.equal(selector.select(a, always), 2);
  selector.peerHave(3);
  selector.peerRemoved(seed);
  assert.equal(selector.availability(0), 2);
  assert.equal(selector.availability(3), 1);
  selector.pieceDone(3);
  assert.equal(selector.select(seed, always), 2);
});

Deno.test("randomized rarest first: spreads picks over all equally rare pieces, only those", () => {
  const selector = new RarestFirstSelector({ randomize: true });
  selector.init(8);
  const common = bits(8, [0, 1, 2, 3, 4, 5, 6, 7]);
  selector.peerAdded(bits(8, [4, 5, 6, 7]));
  selector.peerAdded(common);
  const picks = new Set<number>();
  for (let i = 0; i < 200; i++) picks.add(selector.select(common, always)!);
  assert.deepEqual([...picks].sort(), [0, 1, 2, 3]);
});

Deno.test("availability: a retired (done) piece leaves the scan and is not counted again", () => {
  const availability = new Availability();
  availability.init(5);
  const peer = bits(5, [1, 2, 3]);
  availability.add(peer);
  availability.retire(0);
  availability.retire(2);
  assert.equal(availability.first, 2);
  const inPlay = Array.from(
    { length: availability.size - availability.first },
    (_, i) => availability.at(availability.first + i),
  );
  assert.deepEqual(inPlay.sort(), [1, 3, 4]);
  // Counting a peer that has retired pieces leaves the others' order intact.
  availability.add(bits(5, [0, 2, 4]));
  availability.remove(peer);
  assert.equal(availability.of(4), 1);
  assert.equal(availability.of(1), 0);
  assert.equal(availability.first, 2);
  const selector = new RarestFirstSelector();
  selector.init(3);
  selector.pieceDone(0);
  assert.equal(selector.select(bits(3, [0, 1, 2]), always), 1);
});
