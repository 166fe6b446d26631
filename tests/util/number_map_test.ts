import assert from "node:assert/strict";
import { NumberMap } from "../../src/util/number_map.ts";
import { seededRandom } from "../session/helpers.ts";

const key = (index: number, begin: number) => index * 0x1_0000_0000 + begin;

Deno.test("NumberMap agrees with a Map under random churn, in insertion order", () => {
  const random = seededRandom(11);
  const ours = new NumberMap(4);
  const theirs = new Map<number, number>();
  for (let step = 0; step < 50_000; step++) {
    const k = key(Math.floor(random() * 300), Math.floor(random() * 16) * 16384);
    const roll = random();
    if (roll < 0.5) {
      const value = Math.floor(random() * 1e6);
      ours.set(k, value);
      theirs.set(k, value);
    } else if (roll < 0.95) {
      assert.equal(ours.delete(k), theirs.delete(k));
    } else if (roll < 0.951) {
      ours.clear();
      theirs.clear();
    }
    assert.equal(ours.size, theirs.size);
    assert.equal(ours.get(k), theirs.get(k));
    assert.equal(ours.has(k), theirs.has(k));
    if (step % 997 === 0) assert.deepEqual(ours.keys(), [...theirs.keys()]);
  }
  assert.deepEqual(ours.keys(), [...theirs.keys()]);
});

Deno.test("NumberMap: a long FIFO of 500 outstanding requests keeps order and values", () => {
  const map = new NumberMap(512);
  for (let block = 0; block < 100_000; block++) {
    map.set(key(block >> 4, (block & 15) * 16384), 16384);
    if (block >= 500) map.delete(key((block - 500) >> 4, ((block - 500) & 15) * 16384));
  }
  assert.equal(map.size, 500);
  const keys = map.keys();
  assert.equal(keys[0], key(99_500 >> 4, (99_500 & 15) * 16384));
  assert.equal(map.get(keys[499]), 16384);
  assert.equal(map.get(key(0, 0)), undefined);
});
