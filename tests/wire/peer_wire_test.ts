import assert from "node:assert/strict";
import { BencodeDict, encode } from "../../src/bencode/mod.ts";
import {
  ExtensionProtocol,
  ExtensionRegistry,
  type HandshakeHandler,
  hasReservedBit,
  type Message,
  PeerWire,
  ProtocolError,
  ReservedBits,
  setReservedBit,
} from "../../src/wire/mod.ts";
import {
  clientId,
  infoHash,
  listen,
  otherInfoHash,
  rawClientOf,
  rawHandshake,
  readToEnd,
  serverId,
  wirePair,
  writeAll,
} from "./helpers.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const isCode = (code: string) => (error: unknown) =>
  error instanceof ProtocolError && error.code === code;

function chat(name = "x_chat") {
  return {
    name,
    encode: (value: string) => new TextEncoder().encode(value),
    decode: (payload: Uint8Array) => text(payload),
  };
}

async function nextOfType(wire: PeerWire, type: Message["type"]): Promise<Message> {
  for (let i = 0; i < 1000; i++) {
    const message = await wire.next();
    if (!message) throw new Error(`closed before a ${type} message`);
    if (message.type === type) return message;
  }
  throw new Error(`no ${type} message in 1000`);
}

Deno.test("peer wire: handshake both ways, then messages both ways", async () => {
  const { client, server } = await wirePair();
  try {
    assert.deepEqual(client.remote.peerId, serverId);
    assert.deepEqual(server.remote.peerId, clientId);
    assert.deepEqual(server.handshake.infoHash, infoHash);
    assert.equal(client.handshake.direction, "outgoing");
    assert.equal(server.handshake.direction, "incoming");
    const block = new Uint8Array(16384).map((_, i) => i ^ 0x5a);
    await client.send({ type: "interested" });
    await client.send({ type: "request", index: 1, begin: 0, length: 16384 });
    assert.equal((await server.next())?.type, "interested");
    const request = await server.next();
    assert.deepEqual(request, { type: "request", index: 1, begin: 0, length: 16384 });
    await server.send({ type: "unchoke" });
    await server.send({ type: "piece", index: 1, begin: 0, block });
    assert.equal((await client.next())?.type, "unchoke");
    const piece = await client.next();
    assert.ok(piece?.type === "piece");
    assert.deepEqual(piece.block, block);
  } finally {
    client.close();
    server.close();
  }
  assert.equal(await client.closed, undefined);
});

Deno.test("peer wire: many pieces keep their bytes (views stay valid)", async () => {
  const { client, server } = await wirePair();
  try {
    const count = 200;
    const sending = (async () => {
      for (let n = 0; n < count; n++) {
        await server.send({
          type: "piece",
          index: n,
          begin: 0,
          block: new Uint8Array(16384).fill(n),
        });
      }
      await server.flush();
    })();
    const received: Uint8Array[] = [];
    for (let n = 0; n < count; n++) {
      const message = await client.next();
      assert.ok(message?.type === "piece");
      received.push(message.block);
    }
    await sending;
    received.forEach((block, n) =>
      assert.ok(block.every((byte) => byte === (n & 255)), `block ${n}`)
    );
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: an unknown info hash is closed without an answer", async () => {
  const { conn, accepting, close } = await rawClientOf();
  try {
    await writeAll(conn, rawHandshake(otherInfoHash));
    await assert.rejects(accepting, isCode("unknown-info-hash"));
    assert.equal((await readToEnd(conn)).length, 0);
  } finally {
    close();
  }
});

Deno.test("peer wire: a peer answering for another torrent is refused", async () => {
  const { listener, port } = listen();
  try {
    const answering = listener.accept().then(async (conn) => {
      try {
        await writeAll(conn, rawHandshake(otherInfoHash, serverId));
        await readToEnd(conn);
      } finally {
        conn.close();
      }
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await assert.rejects(
      PeerWire.connect(conn, { infoHash, peerId: clientId }),
      isCode("bad-handshake"),
    );
    await answering;
  } finally {
    listener.close();
  }
});

Deno.test("peer wire: a handshake that never completes times out", async () => {
  const { conn, accepting, close } = await rawClientOf({ limits: { handshakeTimeout: 100 } });
  try {
    await writeAll(conn, rawHandshake().subarray(0, 30)); // drips part, then stalls
    await assert.rejects(accepting, isCode("handshake-timeout"));
    await readToEnd(conn);
  } finally {
    close();
  }
});

Deno.test("peer wire: something that is not BitTorrent is refused", async () => {
  const { conn, accepting, close } = await rawClientOf();
  try {
    await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3)));
    await assert.rejects(accepting, isCode("bad-handshake"));
  } finally {
    close();
  }
});

Deno.test("peer wire: the peer closing mid-handshake is a typed error", async () => {
  const { conn, accepting, close } = await rawClientOf();
  try {
    await writeAll(conn, rawHandshake().subarray(0, 10));
    conn.close();
    await assert.rejects(accepting, isCode("connection-closed"));
  } finally {
    close();
  }
});

Deno.test("peer wire: handlers set and read reserved bits; unknown bits are preserved", async () => {
  const seen: Uint8Array[] = [];
  const marker: HandshakeHandler = {
    name: "marker",
    onLocalHandshake(context) {
      setReservedBit(context.reserved, ReservedBits.dht);
      context.reserved[0] |= 0x80; // a bit nobody defines
    },
  };
  const observer: HandshakeHandler = {
    name: "observer",
    onRemoteHandshake(_context, remote) {
      seen.push(remote.reserved);
    },
  };
  const { client, server } = await wirePair({ handlers: [marker] }, { handlers: [observer] });
  try {
    assert.equal(seen.length, 1);
    assert.ok(hasReservedBit(seen[0], ReservedBits.dht));
    assert.equal(seen[0][0], 0x80);
    assert.equal(server.remote.reserved[0], 0x80);
    assert.equal(client.remote.reserved[7], 0);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: a handler rejects a peer by its peer id", async () => {
  const picky: HandshakeHandler = {
    name: "picky",
    onRemoteHandshake(context, remote) {
      if (text(remote.peerId).startsWith("-BT0100-client")) context.reject("no clients today");
    },
  };
  const { listener, port } = listen();
  try {
    const accepting = listener.accept().then((conn) =>
      PeerWire.accept(conn, { peerId: serverId, findTorrent: () => ({}), handlers: [picky] })
    );
    const connecting = Deno.connect({ hostname: "127.0.0.1", port }).then((conn) =>
      PeerWire.connect(conn, { infoHash, peerId: clientId, idleTimeout: 0 })
    );
    await assert.rejects(
      accepting,
      (error) => isCode("rejected")(error) && /no clients/.test(String(error)),
    );
    const client = await connecting;
    assert.equal(await client.next(), undefined, "the rejected side sees the connection end");
    client.close();
  } finally {
    listener.close();
  }
});

Deno.test("peer wire: a throwing handler rejects with its name", async () => {
  const broken: HandshakeHandler = {
    name: "broken",
    onLocalHandshake() {
      throw new Error("boom");
    },
  };
  await assert.rejects(
    wirePair({ handlers: [broken] }),
    (error) => isCode("rejected")(error) && /broken/.test(String(error)),
  );
});

Deno.test("peer wire: BEP 10 extended handshake and per-connection extension ids", async () => {
  const clientRegistry = new ExtensionRegistry().register(chat()).register(chat("ut_pex"));
  const serverRegistry = new ExtensionRegistry().register(chat("x_other")).register(chat());
  const extra: HandshakeHandler = {
    name: "extra",
    onLocalExtendedHandshake(_context, fields) {
      fields.set("x_flavour", new TextEncoder().encode("mint"));
    },
  };
  const { client, server } = await wirePair(
    { handlers: [new ExtensionProtocol({ registry: clientRegistry, listenPort: 6881 }), extra] },
    { handlers: [new ExtensionProtocol({ registry: serverRegistry, metadataSize: 1234 })] },
  );
  try {
    assert.ok(client.supportsExtensions && server.supportsExtensions);
    const fromServer = client.next().then(() => client.extendedHandshake);
    const fromClient = server.next().then(() => server.extendedHandshake);
    const [serverHandshake, clientHandshake] = await Promise.all([fromServer, fromClient]);
    assert.deepEqual(serverHandshake!.m, new Map([["x_other", 1], ["x_chat", 2]]));
    assert.equal(serverHandshake!.metadataSize, 1234);
    assert.equal(serverHandshake!.reqq, 250);
    assert.match(serverHandshake!.v!, /^Bittern /);
    assert.deepEqual([...serverHandshake!.yourip!], [127, 0, 0, 1]);
    assert.deepEqual(clientHandshake!.m, new Map([["x_chat", 1], ["ut_pex", 2]]));
    assert.equal(clientHandshake!.p, 6881);
    assert.equal(text(clientHandshake!.dict.get("x_flavour") as Uint8Array), "mint");

    // The client sends with the server's id for x_chat (2); ut_pex was not announced.
    assert.equal(await client.sendExtended("x_chat", "hello"), true);
    assert.equal(await client.sendExtended("ut_pex", "never"), false);
    const received = await nextOfType(server, "extended");
    assert.ok(received.type === "extended");
    assert.equal(received.id, 2);
    assert.deepEqual(server.decodeExtended(received), { name: "x_chat", value: "hello" });

    // A later extended handshake may disable an extension with id 0.
    const update = encode(new BencodeDict().set("m", new BencodeDict().set("x_chat", 0)));
    await server.send({ type: "extended", id: 0, payload: update });
    await nextOfType(client, "extended");
    assert.equal(await client.sendExtended("x_chat", "again"), false);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: no extended handshake unless both sides set the BEP 10 bit", async () => {
  const { client, server } = await wirePair({ handlers: [new ExtensionProtocol()] }, {});
  try {
    assert.equal(client.supportsExtensions, false);
    assert.equal(await client.extendedHandshake, undefined);
    assert.equal(await client.sendExtended("ut_metadata", 1), false);
    await client.send({ type: "choke" });
    assert.equal((await server.next())?.type, "choke", "the first message is not an extended one");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: a malformed extended handshake closes the peer", async () => {
  const { client, server } = await wirePair(
    { handlers: [new ExtensionProtocol()] },
    { handlers: [new ExtensionProtocol()] },
  );
  try {
    await server.send({ type: "extended", id: 0, payload: new TextEncoder().encode("i1e") });
    await assert.rejects(async () => {
      for (let i = 0; i < 10; i++) await client.next();
    }, isCode("bad-extended-handshake"));
    const error = await client.closed;
    assert.ok(error instanceof ProtocolError && error.code === "bad-extended-handshake");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("peer wire: a silent peer hits the idle timeout; keep-alives prevent it", async () => {
  const { client, server } = await wirePair(
    { keepAliveInterval: 40 },
    { idleTimeout: 200 },
  );
  try {
    // Keep-alives arrive and the connection stays up while they do.
    for (let i = 0; i < 3; i++) assert.equal((await server.next())?.type, "keep-alive");
    assert.equal(server.isClosed, false);
  } finally {
    client.close();
    server.close();
  }
  const silent = await wirePair({}, { idleTimeout: 100 });
  try {
    await assert.rejects(silent.server.next(), isCode("idle-timeout"));
  } finally {
    silent.client.close();
    silent.server.close();
  }
});

Deno.test("peer wire: sending after close rejects; close is idempotent", async () => {
  const { client, server } = await wirePair();
  client.close();
  client.close();
  await assert.rejects(client.send({ type: "choke" }), isCode("connection-closed"));
  assert.equal(await server.next(), undefined);
  server.close();
});

Deno.test("peer wire: bufferedBytes counts the read buffer and what waits for the socket", async () => {
  const { client, server } = await wirePair();
  try {
    const minReadBuffer = 32 * 1024;
    assert.ok(server.bufferedBytes >= minReadBuffer, `${server.bufferedBytes}`);
    const idle = server.bufferedBytes;
    // 8 MiB queued while the client reads nothing: most of it waits in the queue.
    const sends: Promise<void>[] = [];
    for (let n = 0; n < 512; n++) {
      sends.push(server.send({ type: "piece", index: n, begin: 0, block: new Uint8Array(16384) }));
    }
    for (const send of sends) send.catch(() => {});
    assert.ok(server.queuedBytes > 0);
    assert.ok(server.bufferedBytes >= idle + server.queuedBytes, `${server.bufferedBytes}`);
    for (let n = 0; n < 512; n++) assert.equal((await client.next())?.type, "piece");
    await server.flush();
    assert.equal(server.queuedBytes, 0);
    // Only the read buffer is left (no write in flight).
    assert.equal(server.bufferedBytes, idle);
  } finally {
    client.close();
    server.close();
  }
});
