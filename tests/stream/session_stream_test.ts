import assert from "node:assert/strict";
import { Runtime, StreamError } from "../../mod.ts";
import { readStream, slowSeeder, streamScene } from "./helpers.ts";

const MiB = 1 << 20;

Deno.test("createReadStream: a range at 80% of a file, then one at its start, arrive before the download completes", async () => {
  await using scene = await streamScene([8 * MiB], 1.5 * MiB);
  const file = scene.files[0];
  const start = Math.floor(file.length * 0.8) + 1234;
  const middle = await readStream(
    scene.leecher.createReadStream(0, { start, end: start + 300_000 - 1 }),
  );
  assert.deepEqual(middle, file.subarray(start, start + 300_000));
  assert.ok(scene.leecher.stats().progress < 1, "the range came before the whole file");
  const head = await readStream(scene.leecher.createReadStream(0, { end: 199_999 }));
  assert.deepEqual(head, file.subarray(0, 200_000));
  assert.ok(scene.leecher.stats().progress < 1, "the start came before the whole file");
});

Deno.test("createReadStream: several streams at once each get their bytes", async () => {
  await using scene = await streamScene([3 * MiB, 2 * MiB], 2 * MiB);
  const [a, b] = scene.files;
  const [one, two, three] = await Promise.all([
    readStream(scene.leecher.createReadStream(0, { start: 2_000_000 })),
    readStream(scene.leecher.createReadStream(1, { start: 100, end: 500_099 })),
    readStream(scene.leecher.createReadStream(1)),
  ]);
  assert.deepEqual(one, a.subarray(2_000_000));
  assert.deepEqual(two, b.subarray(100, 500_100));
  assert.deepEqual(three, b);
});

Deno.test("createReadStream: a stream over a skipped file fetches what it reads", async () => {
  await using scene = await streamScene([MiB, 2 * MiB], 4 * MiB, { wantedFiles: [0] });
  await scene.leecher.completed;
  const skipped = scene.files[1];
  const bytes = await readStream(
    scene.leecher.createReadStream(1, { start: 500_000, end: 899_999 }),
  );
  assert.deepEqual(bytes, skipped.subarray(500_000, 900_000));
  assert.deepEqual([...scene.leecher.wantedFiles], [0], "the selection is unchanged");
});

Deno.test("createReadStream: bad file indices and ranges are StreamErrors naming the file", async () => {
  await using scene = await streamScene([100_000], 8 * MiB, { start: false });
  const session = scene.leecher;
  assert.throws(() => session.createReadStream(1), (error: unknown) => {
    assert.ok(error instanceof StreamError);
    assert.equal(error.kind, "bad-file");
    assert.match(error.message, /file 1.*1 files/);
    return true;
  });
  assert.throws(
    () => session.createReadStream(0, { start: 10, end: 100_000 }),
    (error: unknown) => error instanceof StreamError && error.kind === "bad-range",
  );
  assert.throws(
    () => session.createReadStream(0, { start: -1 }),
    (error: unknown) => error instanceof StreamError && error.kind === "bad-range",
  );
  // start just past end is an empty range.
  assert.equal((await readStream(session.createReadStream(0, { start: 5, end: 4 }))).length, 0);
});

Deno.test("createReadStream: cancelling mid-way frees the stream; stopping the session ends open ones", async () => {
  await using scene = await streamScene([4 * MiB], MiB / 2);
  const session = scene.leecher;
  const cancelled = session.createReadStream(0, { start: 3 * MiB });
  const reader = cancelled.getReader();
  const first = await reader.read();
  assert.equal(first.done, false);
  await reader.cancel();
  const waiting = session.createReadStream(0, { start: 4 * MiB - 10 }).getReader();
  const pending = waiting.read();
  await session.stop();
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof StreamError);
    assert.equal(error.kind, "stopped");
    return true;
  });
  assert.throws(() => session.createReadStream(0), StreamError);
  const served = await session.serveFile(new Request("http://localhost/0"), 0);
  assert.equal(served.status, 503);
  assert.match(await served.text(), /stopped/);
});

Deno.test("createReadStream: a session that does not seed stays open until its streams are read", async () => {
  await using scene = await streamScene([MiB], 8 * MiB, { seed: false });
  const session = scene.leecher;
  const stream = session.createReadStream(0, { start: 1000 });
  await session.completed;
  const stopped = session.events.once("stopped");
  assert.equal(session.running, true, "still running with a stream open");
  assert.deepEqual(await readStream(stream), scene.files[0].subarray(1000));
  assert.equal((await stopped).reason, "completed");
});

Deno.test("createReadStream and serveFile on a magnet link's session wait for the metadata", async () => {
  await using seeder = await slowSeeder([2 * MiB], 4 * MiB);
  const dir = await Deno.makeTempDir({ prefix: "bittern-stream-magnet-" });
  const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 }, dht: false });
  try {
    const session = await runtime.add(`magnet:?xt=urn:btih:${seeder.torrent.infoHashHex}`, {
      out: dir,
      peers: [{ host: "127.0.0.1", port: seeder.port }],
    });
    const file = seeder.files[0];
    const stream = session.createReadStream(0, { start: 1_500_000, end: 1_599_999 });
    const response = session.serveFile(
      new Request("http://localhost/0", { headers: { range: "bytes=10-19" } }),
      0,
    );
    assert.deepEqual(await readStream(stream), file.subarray(1_500_000, 1_600_000));
    const served = await response;
    assert.equal(served.status, 206);
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), file.subarray(10, 20));
  } finally {
    await runtime.close();
    await Deno.remove(dir, { recursive: true });
  }
});
