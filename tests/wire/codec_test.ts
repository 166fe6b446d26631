import assert from "node:assert/strict";
import { concatBytes } from "../../src/util/bytes.ts";
import {
  encodeMessage,
  FrameDecoder,
  type Message,
  MessageReader,
  MessageWriter,
  ProtocolError,
  StreamSink,
} from "../../src/wire/mod.ts";

const block = new Uint8Array(16384).map((_, i) => (i * 31) & 0xff);

/** One of every message type, including an unknown id. */
export const everyMessage: Message[] = [
  { type: "keep-alive" },
  { type: "choke" },
  { type: "unchoke" },
  { type: "interested" },
  { type: "not-interested" },
  { type: "have", index: 4_000_000_000 },
  { type: "bitfield", bitfield: new Uint8Array([0xff, 0x80]) },
  { type: "request", index: 1, begin: 16384, length: 16384 },
  { type: "piece", index: 2, begin: 32768, block },
  { type: "piece", index: 0, begin: 0, block: new Uint8Array(0) },
  { type: "cancel", index: 3, begin: 0, length: 100 },
  { type: "port", port: 6881 },
  { type: "extended", id: 0, payload: new TextEncoder().encode("d1:md6:ut_pexi1eee") },
  { type: "extended", id: 3, payload: new Uint8Array(0) },
  { type: "unknown", id: 24, payload: new Uint8Array([0, 0, 0, 5]) },
  { type: "unknown", id: 255, payload: new Uint8Array(0) },
];

function decodeAll(chunks: Uint8Array[]): Message[] {
  const decoder = new FrameDecoder();
  const out: Message[] = [];
  for (const chunk of chunks) decoder.push(chunk, (message) => out.push(message));
  decoder.end();
  return out;
}

function normalise(messages: Message[]): unknown[] {
  return messages.map((message) => {
    const copy: Record<string, unknown> = { ...message };
    for (const key of ["block", "bitfield", "payload"]) {
      if (copy[key] instanceof Uint8Array) copy[key] = [...(copy[key] as Uint8Array)];
    }
    return copy;
  });
}

const concat = concatBytes;

Deno.test("codec: every message round-trips in one chunk", () => {
  const bytes = concat(everyMessage.map(encodeMessage));
  assert.deepEqual(normalise(decodeAll([bytes])), normalise(everyMessage));
});

Deno.test("codec: every message round-trips when split at every byte boundary", () => {
  for (const message of everyMessage) {
    const bytes = concat([encodeMessage(message), encodeMessage({ type: "have", index: 9 })]);
    const step = Math.max(1, Math.floor(bytes.length / 64));
    for (let cut = 0; cut <= bytes.length; cut += cut < 40 ? 1 : step) {
      const decoded = decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(
        normalise(decoded),
        normalise([message, { type: "have", index: 9 }]),
        `${message.type} cut at ${cut}`,
      );
    }
  }
});

Deno.test("codec: byte-at-a-time delivery decodes everything", () => {
  const bytes = concat(everyMessage.map(encodeMessage));
  const chunks = Array.from(bytes, (byte) => new Uint8Array([byte]));
  assert.deepEqual(normalise(decodeAll(chunks)), normalise(everyMessage));
});

Deno.test("codec: a piece inside one chunk is a view into that chunk, not a copy", () => {
  const bytes = encodeMessage({ type: "piece", index: 1, begin: 0, block });
  const [message] = decodeAll([bytes]);
  assert.equal(message.type, "piece");
  if (message.type !== "piece") return;
  assert.equal(message.block.buffer, bytes.buffer);
  assert.equal(message.block.byteOffset, 13);
});

Deno.test("codec: the shared payload-less messages are frozen singletons", () => {
  const [a, b] = decodeAll([
    concat([encodeMessage({ type: "choke" }), encodeMessage({ type: "choke" })]),
  ]);
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
});

Deno.test("codec: MessageWriter and MessageReader round-trip every message through a stream pair", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const writing = (async () => {
    const sink = new StreamSink(pipe.writable);
    const writer = new MessageWriter(sink);
    for (const message of everyMessage) await writer.send(message);
    await writer.flush();
    sink.close();
  })();
  const decoded: Message[] = [];
  for await (const message of new MessageReader(pipe.readable)) decoded.push(message);
  await writing;
  assert.deepEqual(normalise(decoded), normalise(everyMessage));
});

Deno.test("codec: MessageReader over a stream errors with ProtocolError when it ends mid-frame", async () => {
  const bytes = encodeMessage({ type: "have", index: 1 }).subarray(0, 6);
  await assert.rejects(
    Array.fromAsync(new MessageReader(ReadableStream.from([bytes]))),
    (error) => error instanceof ProtocolError && error.code === "connection-closed",
  );
});

Deno.test("codec: encodeMessage refuses values that do not fit the wire format", () => {
  assert.throws(() => encodeMessage({ type: "have", index: -1 }), { name: "WireOptionsError" });
  assert.throws(() => encodeMessage({ type: "have", index: 2 ** 32 }), {
    name: "WireOptionsError",
  });
  assert.throws(() => encodeMessage({ type: "port", port: 70000 }), { name: "WireOptionsError" });
  assert.throws(
    () => encodeMessage({ type: "extended", id: 256, payload: new Uint8Array() }),
    { name: "WireOptionsError" },
  );
});

Deno.test("codec: encoded bytes match BEP 3 exactly", () => {
  assert.deepEqual([...encodeMessage({ type: "keep-alive" })], [0, 0, 0, 0]);
  assert.deepEqual([...encodeMessage({ type: "interested" })], [0, 0, 0, 1, 2]);
  assert.deepEqual(
    [...encodeMessage({ type: "request", index: 1, begin: 2, length: 3 })],
    [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
  );
  assert.deepEqual([...encodeMessage({ type: "port", port: 0x1ae1 })], [0, 0, 0, 3, 9, 0x1a, 0xe1]);
  const piece = encodeMessage({ type: "piece", index: 5, begin: 6, block: new Uint8Array([9]) });
  assert.deepEqual([...piece], [0, 0, 0, 10, 7, 0, 0, 0, 5, 0, 0, 0, 6, 9]);
});
