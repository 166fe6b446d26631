/**
 * Read and write buffers grow during a burst and drop back to the smallest
 * size (64 KiB) once traffic is small again, observed through the diagnostic
 * `bufferLength` getters.
 */
import assert from "node:assert/strict";
import {
  encodeMessage,
  type Message,
  MessageReader,
  MessageWriter,
  type PieceMessage,
} from "../../src/wire/mod.ts";
import { bounded, ChunkSource, ManualSink, settle } from "./helpers.ts";

const MIN = 64 * 1024;
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
    assert.deepEqual(after, [MAX, MAX, MIN], "two small reads brought it back to 64 KiB");
    assert.equal(await bounded(reader.next(), "end"), undefined);
  });
}

Deno.test("writer: the coalescing buffer grows under a deep queue and is dropped after", async () => {
  const sink = new ManualSink();
  const writer = new MessageWriter(sink, { highWaterMark: 4 * MAX });
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
  assert.ok(sink.written.some((length) => length > MIN), "some writes were coalesced");

  // Once the queue has not been deep for over a second, the next write drops the buffer.
  // (Within that second it is kept, so a fast stream does not reallocate it between
  // refills: a matter of timing, measured by the wire bench rather than asserted here.)
  await bounded(new Promise((resolve) => setTimeout(resolve, 1100)), "pause");
  for (const index of [1, 2, 3]) {
    writer.queue({ type: "have", index });
    writer.queue({ type: "have", index: index + 100 }); // two frames: coalesced
    await settle();
    const flushed = writer.flush();
    sink.release();
    await bounded(flushed, `flush ${index}`);
    assert.ok(writer.bufferLength <= MIN, `buffer of ${writer.bufferLength} bytes`);
  }
  assert.equal(writer.bufferLength, MIN, "small coalesced writes use the smallest buffer");
  assert.equal(writer.queuedBytes, 0);
});
