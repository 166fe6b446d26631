import assert from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  type Message,
  PeerWire,
  ProtocolError,
  type ProtocolErrorCode,
  type WireContext,
} from "../../src/wire/mod.ts";
import { listen, rawHandshake, readToEnd, serverId, writeAll } from "./helpers.ts";

/** 10 pieces of 32 KiB, the last one 5088 bytes. */
const context: WireContext = { pieceCount: 10, pieceLength: 32768, length: 9 * 32768 + 5088 };

function frame(id: number, payload: number[] | Uint8Array, lengthOverride?: number): Uint8Array {
  const length = lengthOverride ?? payload.length + 1;
  const bytes = new Uint8Array(5 + payload.length);
  new DataView(bytes.buffer).setUint32(0, length);
  bytes[4] = id;
  bytes.set(payload, 5);
  return bytes;
}
const u32 = (...values: number[]) =>
  values.flatMap((value) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);

/** Each entry: a name, the bytes a peer sends, and the error code that must close it. */
const corpus: [string, Uint8Array, ProtocolErrorCode][] = [
  ["length prefix of 2 GiB", frame(7, [], 0x7fffffff), "frame-too-large"],
  [
    "piece one byte over 16 KiB",
    frame(7, [...u32(0, 0), ...new Array(16385).fill(0)]),
    "frame-too-large",
  ],
  ["huge prefix, id not yet sent", new Uint8Array([0x10, 0, 0, 0]), "frame-too-large"],
  ["extended over its bound", frame(20, new Uint8Array(64 * 1024 + 2)), "frame-too-large"],
  ["unknown id over the bound", frame(99, new Uint8Array(16 * 1024 + 9)), "frame-too-large"],
  ["bitfield too long", frame(5, [0xff, 0xc0, 0]), "bad-bitfield"],
  ["bitfield too short", frame(5, [0xff]), "bad-bitfield"],
  ["bitfield with spare bits set", frame(5, [0xff, 0xff]), "bad-bitfield"],
  ["have out of range", frame(4, u32(10)), "out-of-range"],
  ["have with 3 bytes", frame(4, [0, 0, 1]), "bad-length"],
  ["choke with a payload", frame(0, [1]), "bad-length"],
  ["request of 11 bytes", frame(6, new Array(11).fill(0)), "bad-length"],
  ["port of 3 bytes", frame(9, [0, 1, 2]), "bad-length"],
  ["extended without an id", frame(20, []), "bad-length"],
  ["piece shorter than its header", frame(7, [0, 0, 0, 1]), "bad-length"],
  ["request over 16 KiB", frame(6, u32(0, 0, 16385)), "request-too-large"],
  ["request for piece 10 of 10", frame(6, u32(10, 0, 16384)), "out-of-range"],
  ["request past the end of the last piece", frame(6, u32(9, 4096, 1000)), "out-of-range"],
  ["request past the end of a piece", frame(6, u32(0, 32768 - 100, 16384)), "out-of-range"],
  ["request for 0 bytes", frame(6, u32(0, 0, 0)), "bad-request"],
  ["cancel out of range", frame(8, u32(11, 0, 16384)), "out-of-range"],
  ["piece out of range", frame(7, [...u32(12, 0), 1, 2, 3]), "out-of-range"],
  [
    "piece past the end of its piece",
    frame(7, [...u32(9, 5080), ...new Array(9).fill(0)]),
    "out-of-range",
  ],
];

function decodeCase(bytes: Uint8Array, withContext = true): Message[] {
  const decoder = new FrameDecoder({ context: withContext ? context : undefined });
  const out: Message[] = [];
  decoder.push(bytes, (message) => out.push(message));
  return out;
}

for (const [name, bytes, code] of corpus) {
  Deno.test(`malformed: ${name} -> ${code}`, () => {
    assert.throws(
      () => decodeCase(bytes),
      (error) => error instanceof ProtocolError && error.code === code,
    );
    // Delivered a byte at a time, the same error (never a TypeError/RangeError).
    const decoder = new FrameDecoder({ context });
    assert.throws(
      () => {
        for (const byte of bytes) decoder.push(new Uint8Array([byte]), () => {});
      },
      (error) => error instanceof ProtocolError && error.code === code,
    );
  });
}

Deno.test("malformed: without torrent context, ranges are unchecked but bounds hold", () => {
  assert.equal(decodeCase(frame(4, u32(10)), false)[0].type, "have");
  assert.equal(decodeCase(frame(5, new Uint8Array(100)), false)[0].type, "bitfield");
  assert.throws(
    () => decodeCase(frame(5, new Uint8Array(256 * 1024 + 1)), false),
    (error) => error instanceof ProtocolError && error.code === "frame-too-large",
  );
});

Deno.test("malformed: unknown ids within bounds are passed on, not fatal", () => {
  const bytes = new Uint8Array([...frame(24, [1, 2, 3]), ...encodeMessage({ type: "unchoke" })]);
  const messages = decodeCase(bytes);
  assert.deepEqual(messages.map((message) => message.type), ["unknown", "unchoke"]);
});

Deno.test("malformed: limits are configurable", () => {
  const decoder = new FrameDecoder({ limits: { maxRequestLength: 32768, maxBlockLength: 32768 } });
  const out: Message[] = [];
  decoder.push(frame(6, u32(0, 0, 32768)), (message) => out.push(message));
  assert.equal(out[0].type, "request");
  assert.throws(() => new FrameDecoder({ limits: { maxBlockLength: 0 } }), {
    name: "WireOptionsError",
  });
});

Deno.test("malformed: each offending peer over TCP is closed, a good peer is unaffected", async () => {
  const { listener, port } = listen();
  const errors: (Error | undefined)[] = [];
  const serving = (async () => {
    const wires: PeerWire[] = [];
    try {
      for (let i = 0; i < corpus.length + 1; i++) {
        const wire = await PeerWire.accept(await listener.accept(), {
          peerId: serverId,
          findTorrent: () => ({ context }),
          idleTimeout: 0,
          keepAliveInterval: 0,
        });
        wires.push(wire);
        // Read each peer until it is closed; record why.
        (async () => {
          try {
            for await (const message of wire) {
              if (message.type === "interested") await wire.send({ type: "unchoke" });
            }
          } catch { /* recorded through `closed` */ }
        })();
        wire.closed.then((error) => errors[i] = error);
      }
    } finally {
      listener.close();
    }
    return wires;
  })();

  // The good peer connects first and stays connected throughout.
  const good = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(good, rawHandshake());
  const goodReply = new Uint8Array(68);
  for (let got = 0; got < 68;) got += (await good.read(goodReply.subarray(got)))!;

  for (const [, bytes] of corpus) {
    const bad = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(bad, rawHandshake());
      await writeAll(bad, bytes).catch(() => {}); // the server may close before all is written
      const reply = await readToEnd(bad); // the server closes the connection
      assert.equal(reply.length, 68, "only the handshake is sent back");
    } finally {
      bad.close();
    }
  }

  // The good peer still gets answers.
  await writeAll(good, encodeMessage({ type: "interested" }));
  const unchoke = new Uint8Array(5);
  for (let got = 0; got < 5;) got += (await good.read(unchoke.subarray(got)))!;
  assert.deepEqual([...unchoke], [0, 0, 0, 1, 1]);
  good.close();

  const wires = await serving;
  await Promise.all(wires.map((wire) => wire.closed));
  for (let i = 0; i < corpus.length; i++) {
    const error = errors[i + 1];
    assert.ok(error instanceof ProtocolError, `${corpus[i][0]}: ${error}`);
    assert.equal(error.code, corpus[i][2], corpus[i][0]);
  }
  assert.equal(errors[0], undefined, "the good peer closed cleanly");
});
