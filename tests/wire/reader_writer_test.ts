import assert from "node:assert/strict";
import { type Message, MessageReader, MessageWriter, ProtocolError } from "../../src/wire/mod.ts";
import { listen } from "./helpers.ts";

async function socketPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const { listener, port } = listen();
  try {
    const accepted = listener.accept();
    const client = await Deno.connect({ hostname: "127.0.0.1", port });
    return [client, await accepted];
  } finally {
    listener.close();
  }
}

/** Deterministic mix of small messages and pieces of many sizes (some above 64 KiB). */
function mixedMessages(count: number): Message[] {
  const messages: Message[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < count; i++) {
    const pick = random();
    if (pick < 0.3) messages.push({ type: "have", index: i });
    else if (pick < 0.4) messages.push({ type: "keep-alive" });
    else if (pick < 0.5) messages.push({ type: "request", index: i, begin: 0, length: 16384 });
    else {
      const length = pick < 0.95 ? Math.floor(random() * 16385) : 70_000 + i;
      const block = new Uint8Array(length).fill(i & 255);
      messages.push({ type: "piece", index: i, begin: length, block });
    }
  }
  return messages;
}

Deno.test("reader/writer: a mixed stream arrives complete and in order over TCP", async () => {
  const [client, server] = await socketPair();
  try {
    const messages = mixedMessages(2000);
    const sending = (async () => {
      const writer = new MessageWriter(client, { highWaterMark: 256 * 1024 });
      // Not awaiting every send on purpose: the queue must coalesce and bound itself.
      for (const [i, message] of messages.entries()) {
        const queued = writer.send(message);
        if (i % 7 === 0) await queued;
      }
      await writer.flush();
      client.closeWrite();
    })();
    const reader = new MessageReader(server, { limits: { maxBlockLength: 128 * 1024 } });
    const received: Message[] = [];
    for await (const message of reader) received.push(message);
    await sending;
    assert.equal(received.length, messages.length);
    for (let i = 0; i < messages.length; i++) {
      const [sent, got] = [messages[i], received[i]];
      assert.equal(got.type, sent.type, `message ${i}`);
      if (sent.type === "piece" && got.type === "piece") {
        assert.equal(got.index, sent.index);
        assert.equal(got.begin, sent.begin);
        assert.deepEqual(got.block, sent.block, `block ${i}`);
      } else {
        assert.deepEqual(got, sent, `message ${i}`);
      }
    }
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("reader/writer: a write to a closed socket rejects later sends with a typed error", async () => {
  const [client, server] = await socketPair();
  server.close();
  const writer = new MessageWriter(client);
  try {
    const block = new Uint8Array(16384);
    let error: unknown;
    // The peer is gone: within a bounded number of sends the writer reports it.
    for (let i = 0; i < 10_000 && error === undefined; i++) {
      try {
        await writer.send({ type: "piece", index: 0, begin: 0, block });
        if (i % 64 === 0) await writer.flush();
      } catch (caught) {
        error = caught;
      }
    }
    assert.ok(error instanceof ProtocolError && error.code === "connection-closed", String(error));
    await assert.rejects(writer.flush(), ProtocolError);
  } finally {
    client.close();
  }
});

Deno.test("reader: bytes that arrived with the handshake are decoded first", async () => {
  const [client, server] = await socketPair();
  try {
    const writer = new MessageWriter(client);
    await writer.send({ type: "unchoke" });
    await writer.flush();
    client.closeWrite();
    const initialBytes = new Uint8Array([0, 0, 0, 1, 2]); // interested
    const types: string[] = [];
    for await (const message of new MessageReader(server, { initialBytes })) {
      types.push(message.type);
    }
    assert.deepEqual(types, ["interested", "unchoke"]);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("reader: nextBuffered takes the messages already read and never reads", async () => {
  const [client, server] = await socketPair();
  try {
    // interested, have 5, and the length of an unchoke whose id byte comes by the socket.
    const initialBytes = new Uint8Array([0, 0, 0, 1, 2, 0, 0, 0, 5, 4, 0, 0, 0, 5, 0, 0, 0, 1]);
    const reader = new MessageReader(server, { initialBytes });
    assert.equal(reader.nextBuffered(), undefined, "nothing is read before the first next");
    assert.equal((await reader.next())?.type, "interested");
    assert.deepEqual(reader.nextBuffered(), { type: "have", index: 5 });
    assert.equal(reader.nextBuffered(), undefined, "a split frame waits for a read");
    assert.equal(reader.bytesReceived, initialBytes.length, "nextBuffered did not read");
    await client.write(new Uint8Array([1]));
    client.closeWrite();
    assert.equal((await reader.next())?.type, "unchoke");
    assert.equal(reader.nextBuffered(), undefined);
    assert.equal(await reader.next(), undefined);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("writer: send waits above the high-water mark and resumes as writes complete", async () => {
  // A sink whose writes complete only when the test says so: back-pressure made visible.
  const pending: (() => void)[] = [];
  const written: number[] = [];
  const sink = {
    write(bytes: Uint8Array): Promise<number> {
      return new Promise((resolve) => {
        pending.push(() => {
          written.push(bytes.length);
          resolve(bytes.length);
        });
      });
    },
  };
  const writer = new MessageWriter(sink, { highWaterMark: 64 * 1024 });
  const block = new Uint8Array(16384);
  let resolvedSends = 0;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 8; i++) {
    sends.push(
      writer.send({ type: "piece", index: i, begin: 0, block }).then(() => {
        resolvedSends++;
      }),
    );
  }
  for (let i = 0; i < 10; i++) await Promise.resolve(); // let queued microtasks run
  assert.ok(resolvedSends < 8, "sends beyond the high-water mark wait");
  assert.equal(pending.length, 1, "one write in flight at a time");
  for (let round = 0; round < 100 && pending.length > 0; round++) {
    pending.shift()!();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
  await Promise.all(sends);
  const flushed = writer.flush();
  while (pending.length > 0) pending.shift()!();
  await flushed;
  assert.equal(resolvedSends, 8);
  assert.equal(written.reduce((sum, length) => sum + length, 0), 8 * (16384 + 13));
  assert.equal(writer.bytesSent, 8 * (16384 + 13));
});
