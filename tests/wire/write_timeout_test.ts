/**
 * PeerWire's sending side: a peer that stops reading is dropped
 * (`write-timeout`), and `flush`/`drained` reject once the connection is closed.
 */
import assert from "node:assert/strict";
import { type PieceMessage, ProtocolError } from "../../src/wire/mod.ts";
import { bounded, wirePair } from "./helpers.ts";

const isCode = (code: string) => (error: unknown) =>
  error instanceof ProtocolError && error.code === code;

function piece(n: number): PieceMessage {
  return { type: "piece", index: n, begin: 0, block: new Uint8Array(16384) };
}

Deno.test("write timeout: a peer that never reads is closed with write-timeout", async () => {
  // The client never calls next(), so its socket is never read.
  const { client, server } = await bounded(wirePair({}, { writeTimeout: 300 }), "connecting");
  try {
    let queuedWhileStalled = 0;
    const sending = (async () => {
      // Kernel buffers hold some MiB; sends then wait for room until the timeout closes.
      for (let n = 0; n < 100_000 && !server.isClosed; n++) {
        queuedWhileStalled = server.queuedBytes;
        await server.send(piece(n)).catch(() => {});
      }
    })();
    const error = await bounded(server.closed, "the write timeout", 30_000);
    await bounded(sending, "the sending loop");
    assert.ok(isCode("write-timeout")(error), String(error));
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.detail.writeTimeout, 300);
    assert.ok((error.detail.queuedBytes as number) > 0, "bytes were stuck in the queue");
    assert.ok(queuedWhileStalled > 0);
    assert.equal(server.queuedBytes, 0, "the queue is dropped on close");
    await assert.rejects(bounded(server.flush(), "flush after close"), isCode("write-timeout"));
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("write timeout: a reading peer and an empty queue do not trip it", async () => {
  const { client, server } = await bounded(wirePair({}, { writeTimeout: 200 }), "connecting");
  try {
    const count = 512; // 8 MiB, more than the socket buffers hold
    const sending = (async () => {
      for (let n = 0; n < count; n++) await server.send(piece(n));
      await server.flush();
    })();
    for (let n = 0; n < count; n++) {
      assert.equal((await bounded(client.next(), `piece ${n}`))?.type, "piece");
    }
    await bounded(sending, "sending");
    // Idle with nothing queued for several timeouts, then one more message each way.
    const later = new Promise<void>((resolve) => setTimeout(resolve, 800));
    await bounded(later, "idle");
    await bounded(client.send({ type: "interested" }), "client send");
    assert.equal((await bounded(server.next(), "server next"))?.type, "interested");
    await bounded(server.send({ type: "unchoke" }), "server send");
    assert.equal((await bounded(client.next(), "client next"))?.type, "unchoke");
    assert.equal(server.isClosed, false);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: flush and drained reject once closed, also while waiting", async () => {
  const { client, server } = await bounded(wirePair(), "connecting");
  try {
    // The client never reads; 4 MiB is queued at once, before any of it can be written.
    for (let n = 0; n < 256; n++) server.queue(piece(n));
    const waiting = server.flush();
    const waitingMark = server.drained(1024);
    assert.ok(server.queuedBytes > 0);
    server.close();
    await assert.rejects(bounded(waiting, "flush"), isCode("connection-closed"));
    await assert.rejects(bounded(waitingMark, "drained"), isCode("connection-closed"));
    await assert.rejects(bounded(server.flush(), "flush after close"), isCode("connection-closed"));
    assert.equal(server.queuedBytes, 0);
  } finally {
    client.close();
    server.close();
  }
});
