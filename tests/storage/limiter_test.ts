import assert from "node:assert/strict";
import { Limiter } from "../../src/storage/limiter.ts";

Deno.test("Limiter runs at most `limit` tasks at once, all of them eventually", async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let peak = 0;
  const gates = Array.from({ length: 6 }, () => Promise.withResolvers<void>());
  const runs = gates.map((gate, index) =>
    limiter.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await gate.promise;
      running--;
      return index;
    })
  );
  // Release in reverse order; each release lets a queued task start.
  for (const gate of [...gates].reverse()) gate.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  await assert.rejects(limiter.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run(() => Promise.resolve("free again")), "free again");
});
