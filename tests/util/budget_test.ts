/** Unit tests of ByteBudget: FIFO waiting for bytes. */
import assert from "node:assert/strict";
import { ByteBudget } from "../../src/util/budget.ts";

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Acquires and records the label once granted. */
function acquire(budget: ByteBudget, bytes: number, label: string, granted: string[]): void {
  void budget.acquire(bytes).then(() => granted.push(label));
}

Deno.test("ByteBudget: acquisitions within the limit go through at once", async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  acquire(budget, 40, "a", granted);
  acquire(budget, 60, "b", granted);
  await settle();
  assert.deepEqual(granted, ["a", "b"]);
  assert.equal(budget.used, 100);
  assert.equal(budget.waiting, 0);
  assert.equal(budget.limit, 100);
});

Deno.test("ByteBudget: waiters are served first come, first served", async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  acquire(budget, 60, "a", granted);
  acquire(budget, 50, "b", granted); // does not fit
  acquire(budget, 10, "c", granted); // would fit, but b came first
  await settle();
  assert.deepEqual(granted, ["a"]);
  assert.equal(budget.waiting, 2);
  assert.equal(budget.used, 60);
  budget.release(60);
  await settle();
  assert.deepEqual(granted, ["a", "b", "c"]);
  assert.equal(budget.used, 60);
  assert.equal(budget.waiting, 0);
});

Deno.test("ByteBudget: release wakes the waiters that fit, in order, and stops at one that does not", async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  acquire(budget, 100, "full", granted);
  acquire(budget, 30, "a", granted);
  acquire(budget, 80, "b", granted);
  acquire(budget, 10, "c", granted);
  await settle();
  budget.release(50);
  await settle();
  // 50 + 30 = 80 in use; b (80) does not fit, and c waits behind it.
  assert.deepEqual(granted, ["full", "a"]);
  assert.equal(budget.used, 80);
  assert.equal(budget.waiting, 2);
  budget.release(80);
  await settle();
  assert.deepEqual(granted, ["full", "a", "b", "c"]);
  assert.equal(budget.used, 90);
});

Deno.test("ByteBudget: an oversized acquisition proceeds alone", async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  acquire(budget, 250, "big", granted);
  acquire(budget, 1, "small", granted);
  await settle();
  assert.deepEqual(granted, ["big"]);
  assert.equal(budget.used, 250);
  budget.release(250);
  await settle();
  assert.deepEqual(granted, ["big", "small"]);
  // Another oversized one waits until nothing is in use.
  acquire(budget, 300, "bigger", granted);
  await settle();
  assert.deepEqual(granted, ["big", "small"]);
  budget.release(1);
  await settle();
  assert.deepEqual(granted, ["big", "small", "bigger"]);
  assert.equal(budget.used, 300);
});

Deno.test("ByteBudget: releasing more than is in use leaves zero", () => {
  const budget = new ByteBudget(100);
  void budget.acquire(10);
  budget.release(50);
  assert.equal(budget.used, 0);
});

Deno.test("ByteBudget: tryAcquire takes only what fits now, and never jumps the queue", async () => {
  const budget = new ByteBudget(100);
  assert.equal(budget.tryAcquire(60), true);
  assert.equal(budget.tryAcquire(60), false); // does not fit
  const waiting = budget.acquire(60);
  budget.release(0);
  assert.equal(budget.waiting, 1);
  assert.equal(budget.tryAcquire(10), false); // someone waits: no overtaking
  budget.release(60);
  await waiting;
  assert.equal(budget.used, 60);
});

Deno.test("ByteBudget: a raised limit lets waiters in; a lowered one holds later acquisitions", async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  acquire(budget, 80, "a", granted);
  acquire(budget, 50, "b", granted);
  await settle();
  assert.deepEqual(granted, ["a"]);
  budget.limit = 200;
  await settle();
  assert.deepEqual(granted, ["a", "b"]);
  budget.limit = 100; // nothing taken is revoked
  assert.equal(budget.used, 130);
  acquire(budget, 10, "c", granted);
  await settle();
  assert.deepEqual(granted, ["a", "b"]);
  budget.release(80);
  await settle();
  assert.deepEqual(granted, ["a", "b", "c"]);
});
