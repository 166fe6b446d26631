/**
 * Read buffers grow during a burst and drop back to the smallest size (32 KiB)
 * once traffic is small again; write buffers are held only while a write is
 * in flight. Observed through the diagnostic `bufferLength` getters.
 */
import assert from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  type Message,
  MessageReader,
  MessageWriter,
  type PieceMessage,
  WriteBufferPool,
} from "../../src/wire/mod.ts";
import { bounded, ChunkSource, ManualSink, settle } from "./helpers.ts";

const MIN = 32 * 1024; // the smallest read buffer
const WRITE_MIN = 64 * 1024; // the smallest coalescing buffer
const MAX = 1024 * 1024;

function piece(n: number): PieceMessage {
  return { type: "piece", index: n, begin: 0, block: new Uint8Array(16384).fill(n & 255) };
}

/** `count` piece frames back to back: what a fast peer leaves in the socket. */
function burst(count: number): Uint8Array {
  const frames = Array.from({ length: count }, (_, n) => encodeMessage(piece(n)));
  const bytes = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    bytes.set(frame, offset);
    offset += frame.length;
  }
  return bytes;
}

for (const reuseBuffer of [true, false]) {
  Deno.test(`reader (reuseBuffer ${reuseBuffer}): grows while reads fill it, shrinks after small reads`, async () => {
    const count = 256; // 4 MiB: enough to reach the 1 MiB maximum and stay there
    const haves = Array.from({ length: 3 }, (_, i) => encodeMessage({ type: "have", index: i }));
    const reader = new MessageReader(new ChunkSource([burst(count), ...haves]), {
      reuseBuffer,
      limits: { maxBlockLength: 16384 },
    });
    assert.equal(reader.bufferLength, MIN);
    const lengths: number[] = [];
    for (let n = 0; n < count; n++) {
      const message = await bounded(reader.next(), `piece ${n}`);
      assert.ok(message?.type === "piece", `message ${n}`);
      assert.equal(message.index, n);
      assert.equal(message.block[16383], n & 255);
      lengths.push(reader.bufferLength);
    }
    assert.equal(Math.max(...lengths), MAX, "the burst reached the largest buffer");
    // Never shrunk while reads kept filling the buffer: once at 1 MiB it stayed (the
    // burst's tail is a partial but large read, which does not shrink it either).
    const firstMax = lengths.indexOf(MAX);
    assert.ok(lengths.slice(firstMax).every((length) => length === MAX), `${lengths}`);

    // Each have arrives in a read of its own. One small read may be a reader catching
    // up with a fast peer: the buffer is dropped only after the second in a row.
    const types: Message["type"][] = [];
    const after: number[] = [];
    for (let i = 0; i < haves.length; i++) {
      types.push((await bounded(reader.next(), `have ${i}`))!.type);
      after.push(reader.bufferLength);
    }
    assert.deepEqual(types, ["have", "have", "have"]);
    assert.deepEqual(after, [MAX, MAX, MIN], "two small reads brought it back to 32 KiB");
    assert.equal(await bounded(reader.next(), "end"), undefined);
  });
}

Deno.test("writer: a coalescing buffer is held only while a write is in flight, larger under a deep queue", async () => {
  const sink = new ManualSink();
  const buffers = new WriteBufferPool();
  const writer = new MessageWriter(sink, { highWaterMark: 4 * MAX, buffers });
  assert.equal(writer.bufferLength, 0);
  // A small frame goes out first and stays in flight while 2 MiB of pieces queue up.
  writer.queue({ type: "interested" });
  await settle();
  assert.equal(sink.pending, 1);
  for (let n = 0; n < 128; n++) writer.queue(piece(n));
  const lengths: number[] = [];
  for (let round = 0; round < 1000 && (sink.pending > 0 || writer.queuedBytes > 0); round++) {
    sink.release();
    await settle();
    lengths.push(writer.bufferLength);
  }
  await bounded(writer.flush(), "flush after the burst");
  assert.equal(Math.max(...lengths), MAX, "a deep queue is coalesced in 1 MiB writes");
  assert.ok(sink.written.some((length) => length > WRITE_MIN), "some writes were coalesced");
  // Idle: the writer holds no buffer; the pool has them for the next write (of any writer).
  assert.equal(writer.bufferLength, 0);
  assert.ok(buffers.idleBytes >= MAX, `${buffers.idleBytes} idle bytes in the pool`);

  for (const index of [1, 2, 3]) {
    writer.queue({ type: "have", index });
    writer.queue({ type: "have", index: index + 100 }); // two frames: coalesced
    await settle();
    assert.equal(writer.bufferLength, WRITE_MIN, "small coalesced writes use the smallest buffer");
    const flushed = writer.flush();
    sink.release();
    await bounded(flushed, `flush ${index}`);
    assert.equal(writer.bufferLength, 0);
  }
  assert.equal(writer.queuedBytes, 0);
});

Deno.test("WriteBufferPool: reuses buffers of a size and, once the recent peak has passed, keeps maxIdleBytes idle", () => {
  let now = 0;
  const pool = new WriteBufferPool(2 * WRITE_MIN, 1000, () => now);
  const a = pool.take(WRITE_MIN);
  const b = pool.take(WRITE_MIN);
  const c = pool.take(WRITE_MIN);
  pool.give(a);
  pool.give(b);
  pool.give(c); // beyond maxIdleBytes, but three were in use just now: kept
  assert.equal(pool.idleBytes, 3 * WRITE_MIN);
  now += 2000; // two periods with nothing in use
  const again = pool.take(WRITE_MIN);
  assert.ok(again === a || again === b || again === c);
  pool.give(again); // the recent peak is one buffer now: maxIdleBytes stay
  assert.equal(pool.idleBytes, 2 * WRITE_MIN);
  assert.equal(pool.take(2 * WRITE_MIN).length, 2 * WRITE_MIN); // another size: new
  assert.equal(pool.idleBytes, 2 * WRITE_MIN);
});

Deno.test("decoder (reuseSplitFrames): frames split across chunks decode right, one after another, in one reused buffer", () => {
  const bytes = burst(8);
  for (const reuseSplitFrames of [false, true]) {
    const decoder = new FrameDecoder({ reuseSplitFrames, limits: { maxBlockLength: 16384 } });
    const blocks: Uint8Array[] = [];
    const firstBytes: number[] = [];
    // Chunks of 10,000 bytes: every piece frame (16,397 bytes) is split.
    for (let at = 0; at < bytes.length; at += 10_000) {
      decoder.push(bytes.subarray(at, at + 10_000), (message) => {
        assert.equal(message.type, "piece");
        if (message.type !== "piece") return;
        // Checked as it arrives: with reuse, the block is valid only until the next message.
        assert.ok(message.block.every((byte) => byte === (message.index & 255)));
        blocks.push(message.block);
        firstBytes.push(message.block[0]);
      });
    }
    assert.deepEqual(firstBytes, [0, 1, 2, 3, 4, 5, 6, 7]);
    const buffers = new Set(blocks.map((block) => block.buffer));
    // Frames split over two chunks: each in its own buffer, or all in the one reused buffer
    // (frames that happen to lie inside one chunk are views into that chunk instead).
    if (reuseSplitFrames) assert.ok(buffers.size < blocks.length, `${buffers.size} buffers`);
    else assert.equal(buffers.size, blocks.length);
  }
});

Deno.test("decoder: bufferedBytes counts the body of a split frame, and the kept buffer with reuse", () => {
  const frame = encodeMessage(piece(1)); // 16,397 bytes: a 16,392-byte body after the id
  const body = frame.length - 5;
  for (const reuseSplitFrames of [false, true]) {
    const decoder = new FrameDecoder({ reuseSplitFrames, limits: { maxBlockLength: 16384 } });
    assert.equal(decoder.bufferedBytes, 0);
    const decoded: Message[] = [];
    decoder.push(frame.subarray(0, 10_000), (message) => decoded.push(message));
    assert.equal(decoded.length, 0);
    assert.ok(decoder.bufferedBytes >= body, `${decoder.bufferedBytes}`);
    decoder.push(frame.subarray(10_000), (message) => decoded.push(message));
    assert.equal(decoded.length, 1);
    // Without reuse the body went out with the message; with reuse its buffer stays.
    if (reuseSplitFrames) assert.ok(decoder.bufferedBytes >= body);
    else assert.equal(decoder.bufferedBytes, 0);
  }
});

Deno.test("WriteBufferPool: past maxIdleBytes, keeps up to the peak in use of the last 1-2 periods, then lets them go", () => {
  let now = 0;
  const pool = new WriteBufferPool(WRITE_MIN, 1000, () => now);
  const taken = Array.from({ length: 8 }, () => pool.take(WRITE_MIN));
  assert.equal(pool.inUseBytes, 8 * WRITE_MIN);
  // Half come back while half are still writing: all four are kept for the next writes.
  for (const buffer of taken.splice(0, 4)) pool.give(buffer);
  assert.equal(pool.idleBytes, 4 * WRITE_MIN);
  const reused = Array.from({ length: 4 }, () => pool.take(WRITE_MIN));
  assert.equal(pool.idleBytes, 0);
  for (const buffer of reused) pool.give(buffer);
  // The burst ends: eight were in use a moment ago, so what comes back is kept.
  taken.splice(0, 1).forEach((buffer) => pool.discard(buffer)); // an abandoned write
  for (const buffer of taken) pool.give(buffer);
  assert.equal(pool.inUseBytes, 0);
  assert.equal(pool.idleBytes, 7 * WRITE_MIN);
  // One period later the burst is still within the last 1-2 periods: still kept.
  now += 1000;
  pool.give(pool.take(WRITE_MIN));
  assert.equal(pool.idleBytes, 7 * WRITE_MIN);
  // Another period of one buffer at a time: the peak is one buffer, maxIdleBytes stay.
  now += 1000;
  pool.give(pool.take(WRITE_MIN));
  assert.equal(pool.inUseBytes, 0);
  assert.equal(pool.idleBytes, WRITE_MIN);
});
