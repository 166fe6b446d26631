/**
 * Rate limits end to end over real sockets on 127.0.0.1: the limited side runs its limiters
 * on a manual clock, so what may have passed after `t` fake milliseconds is exact
 * (rate * t + burst) and nothing depends on how fast this machine is. Each step advances the
 * clock, then waits until the limited side is blocked on tokens again (a timer is armed).
 */
import assert from "node:assert/strict";
import { formatMagnet, MemoryStorage, Runtime, type TorrentSession } from "../../mod.ts";
import { burstFor } from "../../src/util/token_bucket.ts";
import { ManualClock } from "../util/manual_clock.ts";
import { seededMemory, singleFile, within } from "./helpers.ts";

const BLOCK = 16384;
const RATE = 512 * 1024;
const STEP_MS = 100;
const LENGTH = 1024 * 1024;

function runtime(clock?: ManualClock, limits: { downloadLimit?: number } = {}): Runtime {
  return new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
    dht: false,
    bandwidthClock: clock,
    ...limits,
  });
}

/**
 * Advances `clock` step by step while `session` transfers, checking after each step that
 * `transferred()` stays within the limit; stops after `maxSteps` or once `done` settles.
 * Returns the fake milliseconds elapsed.
 */
async function stepUnderLimit(
  clock: ManualClock,
  transferred: () => number,
  done: Promise<unknown>,
  maxSteps: number,
): Promise<number> {
  let finished = false;
  void done.then(() => finished = true, () => finished = true);
  await within(Promise.race([clock.timerSet(), done]), 20_000, "the limiter to run dry");
  for (let step = 0; step < maxSteps && !finished; step++) {
    // One block per peer is counted when read, before it waits for its tokens.
    const bound = (RATE * clock.now()) / 1000 + burstFor(RATE) + 2 * BLOCK;
    assert.ok(
      transferred() <= bound,
      `after ${clock.now()} ms: ${transferred()} bytes > ${bound} allowed`,
    );
    clock.advance(STEP_MS);
    await within(Promise.race([clock.timerSet(), done]), 20_000, `step ${step}`);
  }
  return clock.now();
}

async function seedRuntime(
  data: Uint8Array,
  torrent: Awaited<ReturnType<typeof singleFile>>["torrent"],
  clock?: ManualClock,
  uploadLimit?: number,
): Promise<{ runtime: Runtime; session: TorrentSession }> {
  const seeder = runtime(clock);
  const session = await seeder.add(torrent, {
    storage: await seededMemory(torrent, data),
    uploadLimit,
  });
  return { runtime: seeder, session };
}

Deno.test("rate limit: a torrent's download limit holds over time and is reached", async () => {
  const { torrent, data } = await singleFile("limited.bin", LENGTH, 32768);
  const seed = await seedRuntime(data, torrent);
  const clock = new ManualClock();
  const leecher = runtime(clock);
  try {
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seed.runtime.port! }],
      downloadLimit: RATE,
    });
    assert.deepEqual(session.limits(), { downloadLimit: RATE, uploadLimit: 0 });
    const elapsed = await stepUnderLimit(
      clock,
      () => session.stats().downloaded,
      session.completed,
      1000,
    );
    await within(session.completed, 20_000, "completion");
    // It took the time the limit says (less the first burst), and not much more.
    const least = ((LENGTH - burstFor(RATE) - 2 * BLOCK) / RATE) * 1000;
    assert.ok(elapsed >= least, `done after ${elapsed} fake ms, expected at least ${least}`);
    assert.ok(elapsed <= (LENGTH / RATE) * 1000 + 1000, `done only after ${elapsed} fake ms`);
  } finally {
    await leecher.close();
    await seed.runtime.close();
  }
});

Deno.test("rate limit: the runtime's download limit applies, and lifting it while running takes effect", async () => {
  const { torrent, data } = await singleFile("global.bin", LENGTH, 32768);
  const seed = await seedRuntime(data, torrent);
  const clock = new ManualClock();
  const leecher = runtime(clock, { downloadLimit: RATE });
  try {
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seed.runtime.port! }],
    });
    await stepUnderLimit(clock, () => session.stats().downloaded, session.completed, 4);
    assert.ok(session.stats().progress < 1);
    assert.deepEqual(leecher.limits(), { downloadLimit: RATE, uploadLimit: 0 });
    // Unlimited from now on: the rest comes without the clock moving again.
    leecher.setLimits({ downloadLimit: 0 });
    const stats = await within(session.completed, 30_000, "completion once unlimited");
    assert.equal(stats.progress, 1);
    assert.equal(leecher.limits().downloadLimit, 0);
  } finally {
    await leecher.close();
    await seed.runtime.close();
  }
});

Deno.test("rate limit: two torrents under one runtime limit share it: their sum stays within it", async () => {
  const one = await singleFile("one.bin", LENGTH / 2, 32768);
  const two = await singleFile("two.bin", LENGTH / 2 + 1, 32768);
  const seeder = runtime();
  await seeder.add(one.torrent, { storage: await seededMemory(one.torrent, one.data) });
  await seeder.add(two.torrent, { storage: await seededMemory(two.torrent, two.data) });
  const clock = new ManualClock();
  // Each torrent alone could take the whole rate; together they must share it.
  const leecher = runtime(clock, { downloadLimit: RATE });
  try {
    const peers = [{ host: "127.0.0.1", port: seeder.port! }];
    const a = await leecher.add(one.torrent, { storage: new MemoryStorage(), peers });
    const b = await leecher.add(two.torrent, {
      storage: new MemoryStorage(),
      peers,
      downloadLimit: RATE * 4,
    });
    const done = Promise.all([a.completed, b.completed]);
    const elapsed = await stepUnderLimit(
      clock,
      () => a.stats().downloaded + b.stats().downloaded,
      done,
      1000,
    );
    await within(done, 20_000, "both torrents");
    const least = ((LENGTH - burstFor(RATE) - 2 * BLOCK) / RATE) * 1000;
    assert.ok(elapsed >= least, `both done after ${elapsed} fake ms, expected ${least}`);
  } finally {
    await leecher.close();
    await seeder.close();
  }
});

Deno.test("rate limit: a seeder's upload limit holds; metadata still flows while pieces wait", async () => {
  const { torrent, data } = await singleFile("upload.bin", LENGTH, 32768);
  const clock = new ManualClock();
  const seed = await seedRuntime(data, torrent, clock, RATE);
  const leecher = runtime();
  try {
    const first = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seed.runtime.port! }],
    });
    await stepUnderLimit(clock, () => seed.session.stats().uploaded, first.completed, 5);
    assert.ok(first.stats().progress < 1);
    // The seeder's uploads wait for tokens; its extended messages do not: a magnet link's
    // metadata arrives with the clock stopped.
    const magnetLeecher = runtime();
    try {
      const second = await magnetLeecher.add(formatMagnet({ infoHash: torrent.infoHash }), {
        storage: new MemoryStorage(),
        peers: [{ host: "127.0.0.1", port: seed.runtime.port! }],
      });
      await within(second.metadata, 20_000, "metadata from an upload-limited seeder");
      assert.ok(seed.session.stats().uploaded <= RATE * clock.now() / 1000 + burstFor(RATE));
      seed.session.setLimits({ uploadLimit: 0 });
      assert.deepEqual(seed.session.limits(), { downloadLimit: 0, uploadLimit: 0 });
      await within(first.completed, 30_000, "the first leecher once unlimited");
      await within(second.completed, 30_000, "the magnet leecher once unlimited");
    } finally {
      await magnetLeecher.close();
    }
  } finally {
    await leecher.close();
    await seed.runtime.close();
  }
});

Deno.test("rate limit: a bad limit is a RangeError naming the option; nothing is opened", async () => {
  assert.throws(
    () => new Runtime({ listen: false, downloadLimit: -1 }),
    /^RangeError: RuntimeOptions\.downloadLimit must be .* not -1$/,
  );
  const { torrent } = await singleFile("bad.bin", 65536);
  await using limited = new Runtime({ listen: false, dht: false });
  await assert.rejects(
    limited.add(torrent, { storage: new MemoryStorage(), uploadLimit: NaN }),
    /^RangeError: uploadLimit must be .* not NaN$/,
  );
  assert.equal(limited.sessions().length, 0);
  assert.throws(() => limited.setLimits({ uploadLimit: Infinity }), RangeError);
});
