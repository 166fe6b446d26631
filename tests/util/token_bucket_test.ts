/** Unit tests of TokenBucket: refill, capacity, debt and rate changes, with explicit times. */
import assert from "node:assert/strict";
import { burstFor, MIN_BURST_BYTES, TokenBucket } from "../../src/util/token_bucket.ts";

Deno.test("TokenBucket: starts full, refills at its rate, never beyond its capacity", () => {
  const bucket = new TokenBucket(1000, 0, 500);
  assert.equal(bucket.available(0), 500);
  assert.ok(bucket.tryTake(500, 0));
  assert.equal(bucket.tryTake(1, 0), false);
  assert.equal(bucket.available(100), 100); // 100 ms at 1000 B/s
  assert.equal(bucket.available(10_000), 500); // capped: a long idle is no long burst
});

Deno.test("TokenBucket: delayFor says when a take will succeed", () => {
  const bucket = new TokenBucket(2000, 0, 1000);
  assert.ok(bucket.tryTake(1000, 0));
  assert.equal(bucket.delayFor(500, 0), 250);
  assert.equal(bucket.tryTake(500, 249), false);
  assert.ok(bucket.tryTake(500, 250));
  assert.equal(bucket.delayFor(0, 250), 0);
});

Deno.test("TokenBucket: a take larger than the capacity waits for a full bucket, then leaves debt", () => {
  const bucket = new TokenBucket(1000, 0, 100);
  assert.ok(bucket.tryTake(50, 0));
  assert.equal(bucket.tryTake(300, 0), false);
  assert.equal(bucket.delayFor(300, 0), 50); // until full
  assert.ok(bucket.tryTake(300, 50));
  assert.equal(bucket.available(50), -200);
  assert.equal(bucket.delayFor(10, 50), 210); // the debt is paid off first
});

Deno.test("TokenBucket: over any window, takes total at most rate * time + capacity", () => {
  const rate = 10_000;
  const bucket = new TokenBucket(rate, 0, 2000);
  let taken = 0;
  for (let now = 0; now <= 5000; now += 7) {
    while (bucket.tryTake(1500, now)) taken += 1500;
    assert.ok(taken <= (rate * now) / 1000 + 2000, `at ${now} ms: ${taken}`);
  }
  // And the rate is reached: within one take of rate * time.
  assert.ok(taken >= (rate * 5000) / 1000 + 2000 - 1500 - 1);
});

Deno.test("TokenBucket: rate 0 is unlimited; changing the rate keeps earned tokens, capped", () => {
  const bucket = new TokenBucket(0, 0);
  assert.ok(bucket.tryTake(1e12, 0));
  assert.equal(bucket.delayFor(1e9, 0), 0);
  bucket.setRate(1000, 0, 400); // from unlimited: starts full
  assert.equal(bucket.available(0), 400);
  assert.ok(bucket.tryTake(400, 0));
  bucket.setRate(4000, 100, 400); // 100 tokens earned at the old rate
  assert.equal(bucket.available(100), 100);
  assert.equal(bucket.available(150), 300); // then 4000 B/s
  bucket.setRate(1000, 150, 200);
  assert.equal(bucket.available(150), 200); // capped at the new capacity
  assert.throws(() => bucket.setRate(-1, 150), RangeError);
  assert.throws(() => new TokenBucket(NaN, 0), RangeError);
});

Deno.test("burstFor: a tenth of a second of the rate, at least MIN_BURST_BYTES", () => {
  assert.equal(burstFor(8 * 1024 * 1024), 0.1 * 8 * 1024 * 1024);
  assert.equal(burstFor(1000), MIN_BURST_BYTES);
});
