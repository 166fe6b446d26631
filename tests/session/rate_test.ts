/** Unit tests of RateMeter, with explicit times (ms): no clock involved. */
import assert from "node:assert/strict";
import { RateMeter } from "../../src/session/rate.ts";

Deno.test("RateMeter: a new meter is at zero", () => {
  const meter = new RateMeter();
  assert.equal(meter.total, 0);
  assert.equal(meter.rate(50_000), 0);
});

Deno.test("RateMeter: bytes of the first second count over at least one second", () => {
  const meter = new RateMeter(5);
  meter.add(1000, 10_000);
  meter.add(1000, 10_400);
  assert.equal(meter.rate(10_000), 2000);
  assert.equal(meter.rate(10_500), 2000);
  assert.equal(meter.total, 2000);
});

Deno.test("RateMeter: the rate is over the seconds of the window elapsed so far", () => {
  const meter = new RateMeter(5);
  meter.add(2000, 10_000);
  meter.add(3000, 11_200);
  // 5,000 bytes over 1.5 s.
  assert.equal(meter.rate(11_500), 5000 / 1.5);
  // 5,000 bytes over 2 s.
  assert.equal(meter.rate(12_000), 2500);
  // Five buckets: 10..14 s, of which 4.999 s elapsed.
  assert.equal(meter.rate(14_999), 5000 / 4.999);
});

Deno.test("RateMeter: buckets older than the window roll out", () => {
  const meter = new RateMeter(5);
  meter.add(2000, 10_000);
  meter.add(3000, 11_000);
  // At 15 s the bucket of second 10 leaves the window: 3,000 bytes over 4 s.
  assert.equal(meter.rate(15_000), 750);
  // At 16 s the bucket of second 11 leaves too.
  assert.equal(meter.rate(16_000), 0);
  assert.equal(meter.total, 5000);
});

Deno.test("RateMeter: a long quiet spell empties the window; new bytes count from then", () => {
  const meter = new RateMeter(5);
  meter.add(9000, 10_000);
  meter.add(500, 100_000);
  // The window holds four idle seconds and the current one.
  assert.equal(meter.rate(100_000), 125);
  assert.equal(meter.rate(100_500), 500 / 4.5);
  assert.equal(meter.total, 9500);
});

Deno.test("RateMeter: the window length is configurable", () => {
  const meter = new RateMeter(2);
  meter.add(1000, 0);
  meter.add(1000, 1000);
  assert.equal(meter.rate(1500), 2000 / 1.5);
  // Second 0 is out of a two-second window at 2 s: 1,000 bytes over 1 s.
  assert.equal(meter.rate(2000), 1000);
  assert.equal(meter.rate(3000), 0);
});
