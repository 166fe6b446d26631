/**
 * MSE/PE: RC4 vectors, the DH exchange, the handshake both ways between two
 * Bittern ends over real sockets, plain and MSE on one listening port, and
 * hostile MSE input (each closes that connection with a typed error).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  acceptIncoming,
  type AcceptIncomingOptions,
  createRc4,
  CryptoMethod,
  encryptOutgoing,
  type IncomingConnection,
  MseKeyExchange,
  PeerWire,
  ProtocolError,
  Rc4,
  type TransportConnection,
  WasmRc4,
} from "../../mod.ts";
import { clientId, infoHash, listen, otherInfoHash, serverId } from "./helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
/** Bytes that are not all alike (getRandomValues stops at 64 KiB). */
const pattern = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + seed + (i >> 8)) & 255);
const sha1 = (...parts: (Uint8Array | string)[]) => {
  const hash = createHash("sha1");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

/** Rejects after `ms`: every await in these tests is bounded. */
function within<T>(promise: Promise<T>, ms = 10_000, what = "step"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("RC4: known vectors, TypeScript and WebAssembly alike", () => {
  const vectors = [
    ["Key", "Plaintext", "bbf316e8d940af0ad3"],
    ["Wiki", "pedia", "1021bf0420"],
    ["Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"],
  ];
  for (const [key, plain, cipher] of vectors) {
    for (const make of [(k: Uint8Array) => new Rc4(k), (k: Uint8Array) => new WasmRc4(k)]) {
      const data = text(plain);
      make(text(key)).process(data);
      assert.equal(hex(data), cipher);
    }
  }
});

Deno.test("RC4: the two implementations give one keystream across slices, and drop 1024", () => {
  const key = crypto.getRandomValues(new Uint8Array(20));
  const data = pattern(300_000, 5);
  const a = data.slice();
  const b = data.slice();
  const ts = new Rc4(key);
  ts.process(new Uint8Array(1024));
  ts.process(a.subarray(0, 7));
  ts.process(a.subarray(7));
  const wasm = createRc4(key, 1024);
  wasm.process(b.subarray(0, 70_000));
  wasm.process(b.subarray(70_000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, data);
  createRc4(key).process(b); // the same stream again undoes it
  assert.deepEqual(b, data);
});

Deno.test("DH: both sides reach one 96-byte secret; bad public keys are typed errors", () => {
  const a = new MseKeyExchange();
  const b = new MseKeyExchange();
  assert.equal(a.publicKey.length, 96);
  assert.deepEqual(a.secret(b.publicKey), b.secret(a.publicKey));
  assert.notDeepEqual(a.secret(b.publicKey), new MseKeyExchange().secret(b.publicKey));
  for (const bad of [new Uint8Array(96), new Uint8Array(96).fill(0xff), new Uint8Array(50)]) {
    assert.throws(
      () => a.secret(bad),
      (e) => e instanceof ProtocolError && e.code === "bad-encryption-key",
    );
  }
  const one = new Uint8Array(96);
  one[95] = 1;
  assert.throws(() => a.secret(one), ProtocolError);
});

const acceptBoth: AcceptIncomingOptions = {
  infoHashes: () => [otherInfoHash, infoHash],
  select: (_hash, provide) =>
    provide & CryptoMethod.rc4 ? CryptoMethod.rc4 : CryptoMethod.plaintext,
};

/** One accepted connection through acceptIncoming then PeerWire.accept, one dialled. */
async function pair(
  dial: (conn: TransportConnection) => Promise<TransportConnection>,
  accept: AcceptIncomingOptions = acceptBoth,
): Promise<{ client: PeerWire; server: PeerWire; incoming: IncomingConnection }> {
  const { listener, port } = listen();
  try {
    let incoming!: IncomingConnection;
    const accepting = within(listener.accept()).then(async (conn) => {
      incoming = await acceptIncoming(conn, accept);
      return PeerWire.accept(incoming.connection, {
        peerId: serverId,
        findTorrent: (hash) => hex(hash) === hex(infoHash) ? {} : undefined,
        idleTimeout: 0,
        keepAliveInterval: 0,
      });
    });
    const connecting = Deno.connect({ hostname: "127.0.0.1", port }).then(async (conn) =>
      PeerWire.connect(await dial(conn), {
        infoHash,
        peerId: clientId,
        idleTimeout: 0,
        keepAliveInterval: 0,
      })
    );
    const [client, server] = await within(
      Promise.all([connecting, accepting]),
      10_000,
      "handshake",
    );
    return { client, server, incoming };
  } finally {
    listener.close();
  }
}

async function exchange(client: PeerWire, server: PeerWire): Promise<void> {
  const block = pattern(16384, 9);
  await client.send({ type: "interested" });
  for (let n = 0; n < 20; n++) {
    await client.send({ type: "piece", index: 3, begin: n * 16384, block });
  }
  await server.send({ type: "have", index: 9 });
  const first = await within(server.next());
  assert.equal(first?.type, "interested");
  for (let n = 0; n < 20; n++) {
    const piece = await within(server.next());
    assert.ok(piece?.type === "piece");
    assert.equal(piece.begin, n * 16384);
    assert.deepEqual(piece.block, block);
  }
  const third = await within(client.next());
  assert.deepEqual(third, { type: "have", index: 9 });
}

for (
  const [name, provide, method] of [
    ["RC4 only offered: RC4", CryptoMethod.rc4, CryptoMethod.rc4],
    ["plaintext only offered: plaintext", CryptoMethod.plaintext, CryptoMethod.plaintext],
  ] as const
) {
  Deno.test(`MSE between two Bittern ends over TCP (${name}), messages both ways`, async () => {
    const { client, server, incoming } = await pair((conn) =>
      encryptOutgoing(conn, { infoHash, provide })
    );
    try {
      assert.equal(incoming.encrypted, true);
      assert.equal(incoming.method, method);
      assert.equal(hex(incoming.infoHash!), hex(infoHash));
      assert.equal(hex(server.remote.peerId), hex(clientId));
      assert.equal(hex(client.remote.peerId), hex(serverId));
      await exchange(client, server);
    } finally {
      client.close();
      server.close();
    }
  });
}

Deno.test("MSE: RC4 really encrypts the payload (no plain handshake on the wire)", async () => {
  const { listener, port } = listen();
  try {
    const seen: Uint8Array[] = [];
    const accepting = within(listener.accept()).then(async (raw) => {
      // Record what arrives on the socket, then hand the same bytes to MSE.
      const tee = raw.readable.tee();
      void (async () => {
        for await (const chunk of tee[1]) seen.push(chunk.slice());
      })().catch(() => {});
      const conn: TransportConnection = {
        ...raw,
        readable: tee[0],
        remoteAddr: raw.remoteAddr,
        writable: raw.writable,
        close: () => raw.close(),
      };
      const incoming = await acceptIncoming(conn, acceptBoth);
      return PeerWire.accept(incoming.connection, { peerId: serverId, findTorrent: () => ({}) });
    });
    const client = await within(
      Deno.connect({ hostname: "127.0.0.1", port }).then(async (conn) =>
        PeerWire.connect(await encryptOutgoing(conn, { infoHash, provide: CryptoMethod.rc4 }), {
          infoHash,
          peerId: clientId,
        })
      ),
    );
    const server = await within(accepting);
    client.close();
    server.close();
    const all = new Uint8Array(seen.reduce((n, c) => n + c.length, 0));
    seen.reduce((offset, chunk) => (all.set(chunk, offset), offset + chunk.length), 0);
    assert.ok(all.length > 96 + 68);
    assert.equal(new TextDecoder("latin1").decode(all).includes("BitTorrent protocol"), false);
    assert.equal(hex(all).includes(hex(infoHash)), false);
  } finally {
    listener.close();
  }
});

Deno.test("one listening port serves plain and MSE peers alike", async () => {
  const plain = await pair((conn) => Promise.resolve(conn));
  const encrypted = await pair((conn) => encryptOutgoing(conn, { infoHash }));
  try {
    assert.equal(plain.incoming.encrypted, false);
    assert.equal(encrypted.incoming.encrypted, true);
    // Both offered: this acceptor picks RC4.
    assert.equal(encrypted.incoming.method, CryptoMethod.rc4);
    await exchange(plain.client, plain.server);
    await exchange(encrypted.client, encrypted.server);
    // The accepting side reads through acceptIncoming's stream: it must hear the peer hang up.
    plain.client.close();
    encrypted.client.close();
    assert.equal(await within(plain.server.next(), 5000, "plain end"), undefined);
    assert.equal(await within(encrypted.server.next(), 5000, "MSE end"), undefined);
  } finally {
    for (const wire of [plain.client, plain.server, encrypted.client, encrypted.server]) {
      wire.close();
    }
  }
});

Deno.test("MSE: a torrent nobody serves, and a policy that refuses, fail the handshake only", async () => {
  await assert.rejects(
    pair((conn) => encryptOutgoing(conn, { infoHash }), {
      ...acceptBoth,
      infoHashes: () => [otherInfoHash],
    }),
    (e) => e instanceof ProtocolError && e.code === "unknown-info-hash",
  );
  await assert.rejects(
    pair((conn) => Promise.resolve(conn), { ...acceptBoth, allowPlain: false }),
    (e) => e instanceof ProtocolError && e.code === "encryption-policy",
  );
});

/** A hand-driven MSE initiator for hostile inputs: sends `bytes(secret)` after its key. */
async function hostile(
  build: (secret: Uint8Array, publicKey: Uint8Array) => Uint8Array,
  options: { readKey?: boolean } = {},
): Promise<unknown> {
  const { listener, port } = listen();
  try {
    const accepting = within(listener.accept()).then((conn) => acceptIncoming(conn, acceptBoth));
    accepting.catch(() => {});
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const keys = new MseKeyExchange();
      let secret: Uint8Array = new Uint8Array(96);
      if (options.readKey !== false) {
        await conn.write(keys.publicKey);
        const theirs = new Uint8Array(96);
        for (let filled = 0; filled < 96;) {
          const n = await within(conn.read(theirs.subarray(filled)));
          if (n === null) throw new Error("closed early");
          filled += n;
        }
        secret = keys.secret(theirs);
      }
      const bytes = build(secret, keys.publicKey);
      await conn.write(bytes).catch(() => {});
      if (options.readKey === false) conn.closeWrite();
      return await within(accepting.then(() => undefined, (error) => error));
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  } finally {
    listener.close();
  }
}

/** Step 3 with the given fields (PadC length, provide), encrypted as the spec says. */
function step3(
  secret: Uint8Array,
  options: { padC?: number; req2?: Uint8Array; provide?: number },
) {
  const req2 = sha1("req2", options.req2 ?? infoHash);
  const req3 = sha1("req3", secret);
  const padC = options.padC ?? 0;
  const fields = new Uint8Array(8 + 4 + 2 + padC + 2);
  const view = new DataView(fields.buffer);
  view.setUint32(8, options.provide ?? CryptoMethod.rc4);
  view.setUint16(12, padC);
  createRc4(sha1("keyA", secret, options.req2 ?? infoHash)).process(fields);
  const out = new Uint8Array(40 + fields.length);
  out.set(sha1("req1", secret));
  out.set(req2.map((b, i) => b ^ req3[i]), 20);
  out.set(fields, 40);
  return out;
}

Deno.test("hostile MSE: garbage and no sync marker within 512 + 20 bytes", async () => {
  const error = await hostile(() => crypto.getRandomValues(new Uint8Array(700)));
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, "no-encryption-sync");
});

Deno.test("hostile MSE: garbage before the marker is fine within the limit, oversized PadC is not", async () => {
  const error = await hostile((secret) => {
    const garbage = crypto.getRandomValues(new Uint8Array(300));
    const rest = step3(secret, { padC: 600 });
    const out = new Uint8Array(garbage.length + rest.length);
    out.set(garbage);
    out.set(rest, garbage.length);
    return out;
  });
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, "bad-encryption-padding");
});

Deno.test("hostile MSE: a wrong req2 hash (a torrent we do not serve)", async () => {
  const error = await hostile((secret) => step3(secret, { req2: new Uint8Array(20).fill(7) }));
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, "unknown-info-hash");
});

Deno.test("hostile MSE: a truncated DH key", async () => {
  const error = await hostile(() => crypto.getRandomValues(new Uint8Array(50)), { readKey: false });
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, "bad-encryption-key");
});

Deno.test("hostile MSE answer: an initiator gives up on a peer that sends no VC marker", async () => {
  const { listener, port } = listen();
  try {
    const serving = within(listener.accept()).then(async (conn) => {
      const key = new Uint8Array(96);
      for (let filled = 0; filled < 96;) filled += (await conn.read(key.subarray(filled))) ?? 96;
      await conn.write(new MseKeyExchange().publicKey);
      await conn.write(crypto.getRandomValues(new Uint8Array(1000))).catch(() => {});
      return conn;
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await assert.rejects(
      within(
        PeerWire.connect(await encryptOutgoing(conn, { infoHash }), { infoHash, peerId: clientId }),
      ),
      (e) => e instanceof ProtocolError && e.code === "no-encryption-sync",
    );
    (await serving).close();
  } finally {
    listener.close();
  }
});

Deno.test("MSE to a plain-only peer: encryption-refused, so the caller can retry plain", async () => {
  const { listener, port } = listen();
  try {
    const serving = within(listener.accept()).then(async (conn) => {
      await conn.read(new Uint8Array(68));
      conn.close(); // not a BitTorrent handshake: a plain-only peer hangs up
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await assert.rejects(
      within(encryptOutgoing(conn, { infoHash })),
      (e) => e instanceof ProtocolError && e.code === "encryption-refused",
    );
    await serving;
  } finally {
    listener.close();
  }
});
