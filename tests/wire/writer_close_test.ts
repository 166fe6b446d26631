/**
 * MessageWriter: `queuedBytes` and `drained(mark)` report the send queue, and
 * `flush`/`drained`/waiting sends never hang on a closed or failed writer.
 */
import assert from "node:assert/strict";
import { MessageWriter, type PieceMessage, ProtocolError } from "../../src/wire/mod.ts";
import { bounded, ManualSink, settle } from "./helpers.ts";

const isCode = (code: string) => (error: unknown) =>
  error instanceof ProtocolError && error.code === code;

function piece(n: number): PieceMessage {
  return { type: "piece", index: n, begin: 0, block: new Uint8Array(16384) };
}

Deno.test("writer: drained(mark) resolves once the queue is at or below the mark", async () => {
  const sink = new ManualSink();
  const writer = new MessageWriter(sink);
  const frame = 16384 + 13;
  for (let n = 0; n < 8; n++) writer.queue(piece(n));
  assert.equal(writer.queuedBytes, 8 * frame);
  let belowMark = false;
  let empty = false;
  const mark = 3 * frame;
  const drainedToMark = writer.drained(mark).then(() => belowMark = true);
  const flushed = writer.flush().then(() => empty = true);
  await settle();
  assert.equal(sink.pending, 1, "one (coalesced) write in flight");
  assert.equal(writer.queuedBytes, 8 * frame, "bytes in flight still count as queued");
  // The socket takes 10 000 bytes per write: the writer writes the rest, step by step.
  for (let step = 0; step < 100 && sink.pending > 0; step++) {
    assert.equal(belowMark, writer.queuedBytes <= mark, `step ${step}: ${writer.queuedBytes}`);
    assert.equal(empty, writer.queuedBytes === 0, `step ${step}`);
    sink.releasePart(10_000);
    await settle();
  }
  await bounded(drainedToMark, "drained(3 frames)");
  await bounded(flushed, "flush");
  assert.ok(belowMark && empty);
  assert.equal(writer.queuedBytes, 0);
  assert.equal(writer.bytesSent, 8 * frame);
  assert.equal(sink.written.length, Math.ceil((8 * frame) / 10_000));
  await bounded(writer.drained(), "drained() on an empty queue");
});

Deno.test("writer: flush, drained and waiting sends reject when the writer is closed", async () => {
  const sink = new ManualSink(); // never completes a write on its own
  const writer = new MessageWriter(sink, { highWaterMark: 32 * 1024 });
  const sends = Array.from({ length: 4 }, (_, n) => writer.send(piece(n)));
  const flushed = writer.flush();
  const drained = writer.drained(1000);
  await settle();
  assert.equal(sink.pending, 1);
  writer.close();
  const waiting: [string, Promise<void>][] = [
    ["flush", flushed],
    ["drained", drained],
    ["a send waiting for room", sends[3]],
  ];
  for (const [name, promise] of waiting) {
    await assert.rejects(bounded(promise, name), isCode("connection-closed"));
  }

  await Promise.allSettled(sends);
  assert.equal(writer.isClosed, true);
  assert.equal(writer.queuedBytes, 0);
  await assert.rejects(bounded(writer.flush(), "flush after close"), isCode("connection-closed"));
  await assert.rejects(bounded(writer.send(piece(9)), "send after close"), ProtocolError);
  writer.close(new Error("a second reason")); // idempotent: the first reason stays
  await assert.rejects(
    bounded(writer.drained(), "drained after close"),
    /the writer is closed/,
  );
});

Deno.test("writer: a flush waiting when a write fails rejects with the failure", async () => {
  const sink = new ManualSink();
  const writer = new MessageWriter(sink);
  writer.queue(piece(0));
  const flushed = writer.flush();
  await settle();
  sink.release(new Error("connection reset"));
  await assert.rejects(bounded(flushed, "flush"), (error) => {
    assert.ok(isCode("connection-closed")(error));
    assert.match(String((error as Error).cause), /connection reset/);
    return true;
  });
  await assert.rejects(bounded(writer.flush(), "a later flush"), isCode("connection-closed"));
});
