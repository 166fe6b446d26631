import assert from "node:assert/strict";
import { BlockPool } from "../../src/util/block_pool.ts";
import { RecentPeak } from "../../src/util/recent_peak.ts";

const BLOCK = 16384;

Deno.test("RecentPeak: the peak covers the current period and the one before; a quiet gap keeps the last level", () => {
  let now = 0;
  const peak = new RecentPeak(1000, () => now);
  assert.equal(peak.note(5), 5);
  assert.equal(peak.note(2), 5);
  now = 1500; // next period: the previous one's peak still counts
  assert.equal(peak.note(1), 5);
  now = 2600; // and the next: only what was noted since 1500 (2 held until then, then 1)
  assert.equal(peak.note(0), 2);
  now = 6000; // a long quiet gap: the level noted last (0) held throughout
  assert.equal(peak.note(3), 3);
});

Deno.test("BlockPool: with peakPeriodMs, keeps idle only what was in use at once lately", () => {
  let now = 0;
  const pool = new BlockPool(BLOCK, 100, { peakPeriodMs: 1000, now: () => now });
  const burst = Array.from({ length: 10 }, () => pool.take(BLOCK));
  for (const buffer of burst) pool.release(buffer);
  assert.equal(pool.inUse, 0);
  assert.equal(pool.free, 10, "a burst just now: all kept for the next");
  // Two periods of two blocks at a time: the burst's extra buffers go.
  now += 1000;
  const pair = [pool.take(BLOCK), pool.take(BLOCK)];
  assert.ok(burst.includes(pair[0]) && burst.includes(pair[1]), "idle buffers are reused");
  for (const buffer of pair) pool.release(buffer);
  assert.equal(pool.free, 10, "the burst was within the last 1-2 periods");
  now += 1000;
  const again = [pool.take(BLOCK), pool.take(BLOCK)];
  for (const buffer of again) pool.release(buffer);
  assert.equal(pool.free, 2);
  // Other sizes are never pooled or counted.
  pool.release(pool.take(100));
  assert.equal(pool.free, 2);
  assert.equal(pool.inUse, 0);
});

Deno.test("BlockPool: maxFree bounds idle buffers, with or without a peak period", () => {
  for (const options of [{}, { peakPeriodMs: 1000, now: () => 0 }]) {
    const pool = new BlockPool(BLOCK, 3, options);
    const taken = Array.from({ length: 5 }, () => pool.take(BLOCK));
    for (const buffer of taken) pool.release(buffer);
    assert.equal(pool.free, 3);
    pool.maxFree = 1;
    assert.equal(pool.free, 1);
    pool.dropIdle();
    assert.equal(pool.free, 0);
    pool.release(pool.take(BLOCK));
    assert.equal(pool.free, 1, "still pooling after dropIdle");
  }
});
