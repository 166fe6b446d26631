/** Unit tests of RequestQueue: a peer's queued requests in typed arrays. */
import assert from "node:assert/strict";
import { RequestQueue } from "../../src/session/request_queue.ts";

const BLOCK = 16384;

Deno.test("RequestQueue: serves requests oldest first and refuses duplicates and overflow", () => {
  const queue = new RequestQueue(3);
  assert.equal(queue.push(5, 0, BLOCK), true);
  assert.equal(queue.push(5, BLOCK, BLOCK), true);
  assert.equal(queue.push(5, 0, BLOCK), false); // already queued
  assert.equal(queue.push(7, 0, 100), true);
  assert.equal(queue.full, true);
  assert.equal(queue.push(8, 0, BLOCK), false); // full
  assert.equal(queue.size, 3);
  assert.deepEqual(queue.shift(), { index: 5, begin: 0, length: BLOCK });
  assert.deepEqual(queue.shift(), { index: 5, begin: BLOCK, length: BLOCK });
  assert.deepEqual(queue.shift(), { index: 7, begin: 0, length: 100 });
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.size, 0);
});

Deno.test("RequestQueue: a cancelled request is skipped, and its slot is reused once the ring is full", () => {
  const queue = new RequestQueue(3);
  queue.push(1, 0, BLOCK);
  queue.push(2, 0, BLOCK);
  queue.push(3, 0, BLOCK);
  assert.equal(queue.remove(2, 0), true);
  assert.equal(queue.remove(2, 0), false);
  assert.equal(queue.size, 2);
  // Every slot is used (one by the cancelled entry): the queue compacts to take one more.
  assert.equal(queue.push(4, 0, BLOCK), true);
  assert.equal(queue.full, true);
  assert.deepEqual([queue.shift(), queue.shift(), queue.shift(), queue.shift()], [
    { index: 1, begin: 0, length: BLOCK },
    { index: 3, begin: 0, length: BLOCK },
    { index: 4, begin: 0, length: BLOCK },
    undefined,
  ]);
});

Deno.test("RequestQueue: stays in order across wrap-arounds, cancels and compactions", () => {
  const capacity = 7;
  const queue = new RequestQueue(capacity);
  const model: number[] = []; // piece indices, oldest first
  let next = 0;
  // A fixed pseudo-random sequence of operations, checked against a plain array.
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let step = 0; step < 5000; step++) {
    const roll = random();
    if (roll < 0.5) {
      const index = next++;
      assert.equal(queue.push(index, 0, BLOCK), model.length < capacity);
      if (model.length < capacity) model.push(index);
    } else if (roll < 0.7 && model.length) {
      const victim = model[Math.floor(random() * model.length)];
      assert.equal(queue.remove(victim, 0), true);
      model.splice(model.indexOf(victim), 1);
    } else {
      const expected = model.shift();
      assert.equal(queue.shift()?.index, expected);
    }
    assert.equal(queue.size, model.length);
  }
});

Deno.test("RequestQueue: clear empties it", () => {
  const queue = new RequestQueue(2);
  queue.push(1, 0, BLOCK);
  queue.push(1, BLOCK, BLOCK);
  queue.clear();
  assert.equal(queue.size, 0);
  assert.equal(queue.shift(), undefined);
  assert.equal(queue.push(1, 0, BLOCK), true);
});
