/**
 * The peer's BEP 10 extended handshake: bounded updates, a bounded id map,
 * a bounded `metadata_size`, and a handshake object that outlives the
 * reused read buffer it arrived in.
 */
import assert from "node:assert/strict";
import { BencodeDict, encode } from "../../src/bencode/mod.ts";
import {
  type ExtendedMessage,
  ExtensionProtocol,
  ExtensionRegistry,
  type HandshakeHandler,
  parseExtendedHandshake,
  type PeerWire,
  ProtocolError,
} from "../../src/wire/mod.ts";
import { bounded, wirePair } from "./helpers.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);
const isCode = (code: string) => (error: unknown) =>
  error instanceof ProtocolError && error.code === code;

function chat(name = "x_chat") {
  return { name, encode: bytes, decode: text };
}

/** An extended handshake message announcing `m` (plus `extra` top-level keys). */
function handshakeMessage(
  m: Record<string, number>,
  extra: Record<string, number> = {},
): ExtendedMessage {
  const dict = new BencodeDict().set("m", new BencodeDict(Object.entries(m)));
  for (const [key, value] of Object.entries(extra)) dict.set(key, value);
  return { type: "extended", id: 0, payload: encode(dict) };
}

/** Reads until an extended handshake message (id 0) arrives. */
async function nextHandshake(wire: PeerWire): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const message = await bounded(wire.next(), "next message");
    if (message === undefined) throw new Error("closed before an extended handshake");
    if (message.type === "extended" && message.id === 0) return;
  }
  throw new Error("no extended handshake in 100 messages");
}

function bep10Pair(clientOptions = {}) {
  return wirePair(
    {
      handlers: [new ExtensionProtocol({ registry: new ExtensionRegistry().register(chat()) })],
      ...clientOptions,
    },
    { handlers: [new ExtensionProtocol({ registry: new ExtensionRegistry().register(chat()) })] },
  );
}

Deno.test("extended handshake: four updates are applied, the fifth closes the connection", async () => {
  const { client, server } = await bounded(bep10Pair(), "connecting");
  try {
    await nextHandshake(client); // the first, sent when the connection opened
    for (let update = 1; update <= 4; update++) {
      // Each update re-maps x_chat and announces 300 names we never registered.
      const junk = Object.fromEntries(
        Array.from({ length: 300 }, (_, k) => [`x_junk_${update}_${k}`, (k % 250) + 1]),
      );
      await bounded(server.send(handshakeMessage({ x_chat: 10 + update, ...junk })), "send");
      await nextHandshake(client);
      assert.equal(client.handshake.extensions!.remoteId("x_chat"), 10 + update);
      assert.equal(client.handshake.remoteExtendedHandshake!.m.get("x_chat"), 10 + update);
    }
    // Unregistered names are ignored (BEP 10): the per-connection map did not grow.
    assert.deepEqual(client.handshake.extensions!.remoteNames(), ["x_chat"]);
    assert.equal(client.isClosed, false);

    await bounded(server.send(handshakeMessage({ x_chat: 20 })), "send");
    await assert.rejects(
      bounded(client.next(), "next after the limit"),
      isCode("too-many-extended-handshakes"),
    );
    const error = await bounded(client.closed, "closed");
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, "too-many-extended-handshakes");
    assert.equal(error.detail.count, 6);
    assert.equal(error.detail.limit, 5);
    assert.equal(client.handshake.extensions!.remoteId("x_chat"), 14, "the sixth was not applied");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: maxExtendedHandshakes 1 refuses any update", async () => {
  const { client, server } = await bounded(
    bep10Pair({ limits: { maxExtendedHandshakes: 1 } }),
    "connecting",
  );
  try {
    await nextHandshake(client);
    await bounded(server.send(handshakeMessage({ x_chat: 0 })), "send");
    await assert.rejects(bounded(client.next(), "next"), isCode("too-many-extended-handshakes"));
    assert.equal(client.handshake.extensions!.remoteId("x_chat"), 1, "the update was not applied");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: an update is additive; id 0 disables one name only", async () => {
  const both = () =>
    new ExtensionProtocol({
      registry: new ExtensionRegistry().register(chat()).register(chat("x_other")),
    });
  const { client, server } = await bounded(
    wirePair({ handlers: [both()] }, { handlers: [both()] }),
    "connecting",
  );
  try {
    await nextHandshake(client);
    assert.deepEqual(client.handshake.extensions!.remoteNames().sort(), ["x_chat", "x_other"]);
    await bounded(server.send(handshakeMessage({ x_other: 0 })), "send");
    await nextHandshake(client);
    assert.deepEqual(client.handshake.extensions!.remoteNames(), ["x_chat"]);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: metadata_size above maxMetadataSize closes the connection", async () => {
  const { client, server } = await bounded(
    wirePair(
      { handlers: [new ExtensionProtocol()] },
      { handlers: [new ExtensionProtocol({ metadataSize: 2 ** 40 })] },
    ),
    "connecting",
  );
  try {
    await assert.rejects(bounded(client.next(), "next"), (error) => {
      assert.ok(isCode("metadata-too-large")(error), String(error));
      const message = (error as Error).message;
      assert.match(message, /1099511627776/, "names the size");
      assert.match(message, /16777216/, "names the limit");
      return true;
    });
    assert.equal(await bounded(client.extendedHandshake, "extendedHandshake"), undefined);
    assert.ok(isCode("metadata-too-large")(await bounded(client.closed, "closed")));
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: metadata_size at a configured limit is accepted", async () => {
  const { client, server } = await bounded(
    wirePair(
      { handlers: [new ExtensionProtocol()], limits: { maxMetadataSize: 4096 } },
      { handlers: [new ExtensionProtocol({ metadataSize: 4096 })] },
    ),
    "connecting",
  );
  try {
    await nextHandshake(client);
    assert.equal(
      (await bounded(client.extendedHandshake, "extendedHandshake"))?.metadataSize,
      4096,
    );
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: parseExtendedHandshake bounds metadata_size", () => {
  const parse = (source: string, maxMetadataSize?: number) =>
    parseExtendedHandshake(bytes(source), { maxMetadataSize });
  assert.equal(parse("d13:metadata_sizei16777216ee").metadataSize, 16 * 1024 * 1024);
  assert.throws(() => parse("d13:metadata_sizei16777217ee"), isCode("metadata-too-large"));
  // Beyond 2^53 the decoder yields a bigint: still too large, not silently dropped.
  assert.throws(() => parse("d13:metadata_sizei99999999999999999999ee"), (error) => {
    assert.ok(isCode("metadata-too-large")(error));
    assert.equal((error as ProtocolError).detail.metadataSize, "99999999999999999999");
    return true;
  });
  assert.throws(() => parse("d13:metadata_sizei101ee", 100), isCode("metadata-too-large"));
  // Values that are not a size at all are ignored, as BEP 10 asks of odd types.
  assert.equal(parse("d13:metadata_sizei0ee").metadataSize, undefined);
  assert.equal(parse("d13:metadata_sizei-5ee").metadataSize, undefined);
  assert.equal(parse("d13:metadata_size3:abce").metadataSize, undefined);
});

Deno.test("extended handshake: with reuseReadBuffer it stays intact while many messages are read", async () => {
  const seen: BencodeDict[] = [];
  const keeper: HandshakeHandler = {
    name: "keeper",
    onRemoteExtendedHandshake(_context, handshake) {
      seen.push(handshake.dict);
    },
  };
  const flavour: HandshakeHandler = {
    name: "flavour",
    onLocalExtendedHandshake(_context, fields) {
      fields.set("x_flavour", bytes("mint"));
      fields.set("ipv4", new Uint8Array([10, 1, 2, 3]));
    },
  };
  const { client, server } = await bounded(
    wirePair(
      { handlers: [new ExtensionProtocol(), keeper], reuseReadBuffer: true },
      { handlers: [new ExtensionProtocol(), flavour] },
    ),
    "connecting",
  );
  try {
    // The handshake is read on its own, so the next reads land in the same buffer.
    await nextHandshake(client);
    const handshake = (await bounded(client.extendedHandshake, "extendedHandshake"))!;
    const expectedV = handshake.v;
    assert.deepEqual([...handshake.yourip!], [127, 0, 0, 1]);
    const count = 300;
    const sending = (async () => {
      for (let n = 0; n < count; n++) {
        await server.send({
          type: "piece",
          index: n,
          begin: 0,
          block: new Uint8Array(16384).fill(0xee),
        });
      }
      await server.flush();
    })();
    for (let n = 0; n < count; n++) {
      const message = await bounded(client.next(), `piece ${n}`);
      assert.ok(message?.type === "piece");
      assert.equal(message.block[0], 0xee);
    }
    await bounded(sending, "sending");
    assert.deepEqual([...handshake.yourip!], [127, 0, 0, 1]);
    assert.deepEqual([...(handshake.dict.get("yourip") as Uint8Array)], [127, 0, 0, 1]);
    assert.deepEqual([...(handshake.dict.get("ipv4") as Uint8Array)], [10, 1, 2, 3]);
    assert.equal(text(handshake.dict.get("x_flavour") as Uint8Array), "mint");
    assert.equal(text(handshake.dict.get("v") as Uint8Array), expectedV);
    assert.equal(seen[0], handshake.dict, "handlers saw the same (copied) handshake");
    assert.equal(client.handshake.remoteExtendedHandshake, handshake);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("extended handshake: nextBuffered leaves an update to next, which applies it in order", async () => {
  const { client, server } = await bounded(bep10Pair(), "connecting");
  try {
    await nextHandshake(client);
    // One write: the update sits in the read buffer between two haves.
    server.queue({ type: "have", index: 1 });
    server.queue(handshakeMessage({ x_chat: 7 }));
    server.queue({ type: "have", index: 2 });
    await bounded(server.flush(), "flush");
    const seen: string[] = [];
    while (seen.length < 3) {
      const buffered = client.nextBuffered();
      const message = buffered ?? await bounded(client.next(), "next");
      assert.ok(message);
      if (message.type === "extended") {
        assert.equal(buffered, undefined, "the update came through next");
        assert.equal(client.handshake.extensions!.remoteId("x_chat"), 7, "applied first");
      }
      seen.push(message.type === "have" ? `have ${message.index}` : message.type);
    }
    assert.deepEqual(seen, ["have 1", "extended", "have 2"]);
  } finally {
    client.close();
    server.close();
  }
});
