/** Unit tests of BandwidthLimiter: FIFO fairness, hierarchy, limit changes, on a manual clock. */
import assert from "node:assert/strict";
import { BandwidthLimiter } from "../../src/util/bandwidth.ts";
import { ManualClock } from "./manual_clock.ts";

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Takes `bytes` and records `label` once granted. */
function take(limiter: BandwidthLimiter, bytes: number, label: string, granted: string[]): void {
  const wait = limiter.take(bytes);
  if (!wait) granted.push(label);
  else void wait.then(() => granted.push(label));
}

Deno.test("BandwidthLimiter: unlimited takes need no promise", () => {
  const limiter = new BandwidthLimiter();
  assert.equal(limiter.take(1 << 30), undefined);
  assert.equal(limiter.limit, 0);
  assert.equal(limiter.taken, 1 << 30);
});

Deno.test("BandwidthLimiter: waiters are served in arrival order, each at the rate", async () => {
  const clock = new ManualClock();
  // 100 KiB/s holds 32 KiB (the minimum burst): two 16 KiB blocks at once.
  const limiter = new BandwidthLimiter({ limit: 100 * 1024, clock });
  const granted: string[] = [];
  for (const label of ["a1", "b1", "c1", "a2", "b2", "c2"]) take(limiter, 16384, label, granted);
  await settle();
  assert.deepEqual(granted, ["a1", "b1"]);
  assert.equal(limiter.waiting, 4);
  assert.equal(clock.pending, 1);
  clock.advance(150); // 15 360 bytes: not quite a block
  await settle();
  assert.deepEqual(granted, ["a1", "b1"]);
  clock.advance(20);
  await settle();
  assert.deepEqual(granted, ["a1", "b1", "c1"]);
  clock.advance(1000);
  await settle();
  assert.deepEqual(granted, ["a1", "b1", "c1", "a2", "b2", "c2"]);
  assert.equal(clock.pending, 0);
});

Deno.test("BandwidthLimiter: a newcomer queues behind waiters even when tokens are back", async () => {
  const clock = new ManualClock();
  const limiter = new BandwidthLimiter({ limit: 32 * 1024, clock });
  const granted: string[] = [];
  take(limiter, 32 * 1024, "first", granted);
  take(limiter, 16 * 1024, "waiting", granted);
  take(limiter, 1, "newcomer", granted);
  await settle();
  assert.deepEqual(granted, ["first"]);
  clock.advance(500);
  await settle();
  assert.deepEqual(granted, ["first", "waiting"]);
  clock.advance(10);
  await settle();
  assert.deepEqual(granted, ["first", "waiting", "newcomer"]);
});

Deno.test("BandwidthLimiter: granted bytes over time stay within rate * time + burst", async () => {
  const clock = new ManualClock();
  const rate = 1024 * 1024;
  const limiter = new BandwidthLimiter({ limit: rate, clock });
  let granted = 0;
  // Four takers, each asking again as soon as it is served: a busy swarm.
  const counts = [0, 0, 0, 0];
  const taker = async (index: number) => {
    for (;;) {
      await limiter.take(16384);
      granted += 16384;
      counts[index]++;
      if (granted >= 4 * rate) return;
    }
  };
  const running = [0, 1, 2, 3].map(taker);
  for (let step = 0; step < 400; step++) {
    await settle();
    const bound = (rate * clock.now()) / 1000 + 0.1 * rate + 4 * 16384;
    assert.ok(granted <= bound, `at ${clock.now()} ms: ${granted} > ${bound}`);
    clock.advance(13);
  }
  limiter.close();
  await Promise.all(running);
  // Fair: every taker got about a quarter.
  const total = counts.reduce((a, b) => a + b);
  for (const count of counts) assert.ok(Math.abs(count - total / 4) <= 2, `${counts}`);
  // And the rate was used: 400 steps of 13 ms is 5.2 s.
  assert.ok(granted >= 4 * rate, `granted ${granted}`);
});

Deno.test("BandwidthLimiter: a child's takes wait for its own tokens and its parent's", async () => {
  const clock = new ManualClock();
  const global = new BandwidthLimiter({ limit: 64 * 1024, clock }); // holds 32 KiB
  const a = new BandwidthLimiter({ limit: 1024 * 1024, parent: global });
  const b = new BandwidthLimiter({ parent: global }); // unlimited itself
  assert.equal(a.clock, clock);
  const granted: string[] = [];
  take(a, 16384, "a1", granted);
  take(b, 16384, "b1", granted);
  take(a, 16384, "a2", granted); // a has tokens; the runtime does not
  take(b, 16384, "b2", granted);
  await settle();
  assert.deepEqual(granted, ["a1", "b1"]);
  assert.equal(global.waiting, 2);
  clock.advance(250); // 16 KiB at 64 KiB/s
  await settle();
  assert.deepEqual(granted, ["a1", "b1", "a2"]);
  clock.advance(250);
  await settle();
  assert.deepEqual(granted, ["a1", "b1", "a2", "b2"]);
  // The child's own limit applies too.
  a.setLimit(32 * 1024);
  global.setLimit(0);
  take(a, 32768, "a3", granted); // bucket full at the new rate: goes
  take(a, 16384, "a4", granted);
  await settle();
  assert.deepEqual(granted.slice(4), ["a3"]);
  clock.advance(500);
  await settle();
  assert.deepEqual(granted.slice(4), ["a3", "a4"]);
});

Deno.test("BandwidthLimiter: a new limit takes effect at once; unlimited releases every waiter", async () => {
  const clock = new ManualClock();
  const limiter = new BandwidthLimiter({ limit: 32 * 1024, clock });
  const granted: string[] = [];
  for (const label of ["a", "b", "c", "d"]) take(limiter, 32 * 1024, label, granted);
  await settle();
  assert.deepEqual(granted, ["a"]);
  limiter.setLimit(10 * 32 * 1024); // 320 KiB/s: a block every 100 ms
  clock.advance(100);
  await settle();
  assert.deepEqual(granted, ["a", "b"]);
  limiter.setLimit(0);
  await settle();
  assert.deepEqual(granted, ["a", "b", "c", "d"]);
  assert.equal(clock.pending, 0);
});

Deno.test("BandwidthLimiter: close lets waiters go and cancels its timer", async () => {
  const clock = new ManualClock();
  const limiter = new BandwidthLimiter({ limit: 32 * 1024, clock });
  const granted: string[] = [];
  for (const label of ["a", "b", "c"]) take(limiter, 32 * 1024, label, granted);
  limiter.close();
  await settle();
  assert.deepEqual(granted, ["a", "b", "c"]);
  assert.equal(clock.pending, 0);
  assert.equal(limiter.take(1 << 20), undefined);
});

Deno.test("BandwidthLimiter: a bad limit is a RangeError naming it", () => {
  for (const bad of [-1, NaN, Infinity]) {
    assert.throws(
      () => new BandwidthLimiter({ limit: bad, name: "downloadLimit" }),
      (error: Error) => error instanceof RangeError && error.message.startsWith("downloadLimit "),
    );
  }
  const limiter = new BandwidthLimiter({ name: "uploadLimit" });
  assert.throws(() => limiter.setLimit(-5), /^RangeError: uploadLimit must be .* not -5$/);
  limiter.setLimit(undefined);
  assert.equal(limiter.limit, 0);
});
