/**
 * The DHT state file is written periodically (a fake clock fires the period), atomically,
 * bounded, and at close; and `DhtPeerSource` wires it to a real node.
 */
import assert from "node:assert/strict";
import { type BandwidthClock, DhtNode, DhtPeerSource, loadDhtState } from "../../mod.ts";
import { DHT_STATE_SAVE_INTERVAL_MS, DhtStateSaver } from "../../src/dht/state_saver.ts";
import type { DhtState } from "../../src/dht/state.ts";

/** A clock whose timers fire only when the test says so. */
class FakeClock implements BandwidthClock {
  readonly timers = new Map<number, { callback: () => void; ms: number }>();
  #next = 0;

  now(): number {
    return 0;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const id = this.#next++;
    this.timers.set(id, { callback, ms });
    return () => this.timers.delete(id);
  }

  /** Fires every pending timer once (those they set wait for the next call). */
  fire(): void {
    const due = [...this.timers];
    for (const [id, timer] of due) {
      this.timers.delete(id);
      timer.callback();
    }
  }
}

function state(nodes: number, first = 1): DhtState {
  return {
    id: new Uint8Array(20).fill(7),
    nodes: Array.from({ length: nodes }, (_, i) => ({
      host: `10.0.${(first + i) >> 8}.${(first + i) & 255}`,
      port: 6881,
    })),
  };
}

Deno.test("dht state saver: writes every period and at close, atomically, bounded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/dht.json`;
    const clock = new FakeClock();
    let current: DhtState | undefined;
    const saver = new DhtStateSaver(path, () => current, { intervalMs: 60_000, clock });
    saver.start();
    assert.deepEqual([...clock.timers.values()].map((timer) => timer.ms), [60_000]);
    // An empty table writes nothing.
    clock.fire();
    await saver.save();
    assert.equal(await loadDhtState(path), undefined);
    // A crash after this period keeps the table of this period.
    current = state(3);
    clock.fire();
    await saver.save(); // waits for the periodic save in progress
    assert.equal((await loadDhtState(path))?.nodes.length, 3);
    assert.equal(clock.timers.size, 1, "the next period is scheduled");
    // Bounded: at most 500 nodes, whatever the table holds.
    current = state(800);
    clock.fire();
    await saver.save();
    assert.equal((await loadDhtState(path))?.nodes.length, 500);
    // Only the file: every temporary file was renamed over it.
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["dht.json"]);
    // Close writes the last state and stops the timer.
    current = state(2, 900);
    await saver.close();
    assert.deepEqual((await loadDhtState(path))?.nodes.map((node) => node.host), [
      "10.0.3.132",
      "10.0.3.133",
    ]);
    assert.equal(clock.timers.size, 0);
    assert.equal(saver.lastError, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dht state saver: a failed periodic save is kept, not thrown; the next one retries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/missing/dht.json`;
    const clock = new FakeClock();
    const saver = new DhtStateSaver(path, () => state(1), { intervalMs: 1000, clock });
    saver.start();
    clock.fire();
    await assert.rejects(saver.save()); // the directory does not exist
    assert.ok(saver.lastError, "the periodic failure is remembered");
    await Deno.mkdir(`${dir}/missing`);
    clock.fire();
    await saver.save();
    assert.equal(saver.lastError, undefined);
    assert.equal((await loadDhtState(path))?.nodes.length, 1);
    await saver.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dht state saver: the default period is 20 minutes; a bad one is a RangeError", () => {
  assert.equal(DHT_STATE_SAVE_INTERVAL_MS, 20 * 60_000);
  const clock = new FakeClock();
  new DhtStateSaver("x", () => undefined, { clock }).start();
  assert.deepEqual([...clock.timers.values()].map((timer) => timer.ms), [20 * 60_000]);
  assert.throws(
    () => new DhtStateSaver("x", () => undefined, { intervalMs: 0 }),
    (error: unknown) => error instanceof RangeError && /stateSaveIntervalMs/.test(error.message),
  );
});

Deno.test("dht peer source: saveState writes the running node's table before any close", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new DhtNode({ host: "127.0.0.1", bootstrap: [], rateLimit: { key: "ip-port" } });
  await hub.listen();
  const path = `${dir}/dht.json`;
  const source = new DhtPeerSource(
    { statePath: path, bootstrap: [hub.address!], rateLimit: { key: "ip-port" } },
    () => ({ host: "127.0.0.1", port: 0 }),
  );
  try {
    const node = await source.node();
    await node.bootstrap();
    assert.ok(node.table.size >= 1);
    await source.saveState();
    const saved = await loadDhtState(path);
    assert.deepEqual(saved?.id, node.id);
    assert.deepEqual(saved?.nodes, [hub.address]);
  } finally {
    await source.close();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
