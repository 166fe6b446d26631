import assert from "node:assert/strict";
import {
  allowedFastAddress,
  allowedFastSet,
  encodeMessage,
  FastExtension,
  FrameDecoder,
  type Message,
  MessageId,
  ProtocolError,
} from "../../src/wire/mod.ts";
import { bounded, wirePair } from "./helpers.ts";

const fastMessages: Message[] = [
  { type: "have-all" },
  { type: "have-none" },
  { type: "suggest-piece", index: 7 },
  { type: "allowed-fast", index: 4_000_000_000 },
  { type: "reject-request", index: 3, begin: 16384, length: 16384 },
];

function decode(bytes: Uint8Array, fast: boolean): Message[] {
  const decoder = new FrameDecoder({
    fast,
    context: { pieceCount: 10, pieceLength: 32768, length: 320_000 },
  });
  const out: Message[] = [];
  decoder.push(bytes, (message) => out.push(message));
  decoder.end();
  return out;
}

Deno.test("fast codec: the five BEP 6 messages have their ids and round-trip, split anywhere", () => {
  const ids = fastMessages.map((message) => encodeMessage(message)[4]);
  assert.deepEqual(ids, [
    MessageId.haveAll,
    MessageId.haveNone,
    MessageId.suggestPiece,
    MessageId.allowedFast,
    MessageId.rejectRequest,
  ]);
  assert.deepEqual([...encodeMessage({ type: "have-all" })], [0, 0, 0, 1, 0x0e]);
  assert.deepEqual([...encodeMessage({ type: "allowed-fast", index: 5 })], [
    0,
    0,
    0,
    5,
    0x11,
    0,
    0,
    0,
    5,
  ]);
  for (const message of fastMessages) {
    const bytes = encodeMessage(message);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder({ fast: true });
      const out: Message[] = [];
      decoder.push(bytes.subarray(0, cut), (m) => out.push(m));
      decoder.push(bytes.subarray(cut), (m) => out.push(m));
      assert.deepEqual(out, [message]);
    }
  }
});

Deno.test("fast codec: each message is fast-not-negotiated without the fast bit", () => {
  for (const message of fastMessages) {
    assert.throws(
      () => decode(encodeMessage(message), false),
      (error: unknown) =>
        error instanceof ProtocolError && error.code === "fast-not-negotiated" &&
        error.message.includes(message.type),
    );
  }
});

Deno.test("fast codec: malformed requests and cancels pass to the session (to reject) only with the bit", () => {
  const malformed: Message[] = [
    { type: "request", index: 0, begin: 0, length: 0 },
    { type: "request", index: 0, begin: 0, length: 32768 },
    { type: "request", index: 0, begin: 32768 - 100, length: 16384 },
    { type: "request", index: 10, begin: 0, length: 16384 },
    { type: "cancel", index: 10, begin: 0, length: 16384 },
  ];
  for (const message of malformed) {
    assert.deepEqual(decode(encodeMessage(message), true), [message]);
    assert.throws(
      () => decode(encodeMessage(message), false),
      (error: unknown) =>
        error instanceof ProtocolError &&
        ["bad-request", "request-too-large", "out-of-range"].includes(error.code),
    );
  }
  // The frame itself is still checked: a request is 12 bytes.
  assert.throws(
    () => decode(new Uint8Array([0, 0, 0, 5, MessageId.request, 0, 0, 0, 0]), true),
    (error: unknown) => error instanceof ProtocolError && error.code === "bad-length",
  );
});

Deno.test("fast codec: wrong body lengths are bad-length; indexes are not range-checked", () => {
  const frame = (id: number, body: number[]) =>
    new Uint8Array([0, 0, 0, body.length + 1, id, ...body]);
  for (
    const bytes of [
      frame(MessageId.haveAll, [0]),
      frame(MessageId.haveNone, [1, 2]),
      frame(MessageId.suggestPiece, [0, 0, 1]),
      frame(MessageId.allowedFast, [0, 0, 0, 0, 0]),
      frame(MessageId.rejectRequest, [0, 0, 0, 0, 0, 0, 0, 0]),
    ]
  ) {
    assert.throws(
      () => decode(bytes, true),
      (error: unknown) => error instanceof ProtocolError && error.code === "bad-length",
    );
  }
  // Out of range for a 10-piece torrent, still decoded: the session ignores such hints.
  assert.deepEqual(decode(encodeMessage({ type: "allowed-fast", index: 99 }), true), [
    { type: "allowed-fast", index: 99 },
  ]);
});

const bepInfoHash = new Uint8Array(20).fill(0xaa);

Deno.test("allowed fast: the BEP 6 examples (1313 pieces, info hash aa..., 80.4.4.200)", () => {
  const address = allowedFastAddress("80.4.4.200")!;
  assert.deepEqual([...address], [80, 4, 4, 0]);
  assert.deepEqual(
    allowedFastSet({ address, infoHash: bepInfoHash, pieceCount: 1313, size: 7 }),
    [1059, 431, 808, 1217, 287, 376, 1188],
  );
  assert.deepEqual(
    allowedFastSet({ address, infoHash: bepInfoHash, pieceCount: 1313, size: 9 }),
    [1059, 431, 808, 1217, 287, 376, 1188, 353, 508],
  );
  // Every address of the /24 gets the same set.
  assert.deepEqual(
    allowedFastSet({
      address: allowedFastAddress("80.4.4.1")!,
      infoHash: bepInfoHash,
      pieceCount: 1313,
      size: 7,
    }),
    [1059, 431, 808, 1217, 287, 376, 1188],
  );
});

Deno.test("allowed fast: libtorrent's rules: skipped draws count, small torrents get every piece", () => {
  const address = allowedFastAddress("80.4.4.200")!;
  // A peer that has 431 and 1217: those draws are spent, not replaced.
  assert.deepEqual(
    allowedFastSet({
      address,
      infoHash: bepInfoHash,
      pieceCount: 1313,
      size: 7,
      skip: (index) => index === 431 || index === 1217,
    }),
    [1059, 808, 287, 376, 1188],
  );
  assert.deepEqual(
    allowedFastSet({
      address,
      infoHash: bepInfoHash,
      pieceCount: 6,
      size: 10,
      skip: (i) => i === 2,
    }),
    [0, 1, 3, 4, 5],
  );
  assert.deepEqual(allowedFastSet({ address, infoHash: bepInfoHash, pieceCount: 0 }), []);
  // A one-piece repeat (pieceCount 11, size 10) still terminates with 10 distinct indexes.
  const set = allowedFastSet({ address, infoHash: bepInfoHash, pieceCount: 11, size: 10 });
  assert.equal(new Set(set).size, set.length);
  assert.ok(set.length <= 10 && set.every((index) => index < 11));
});

Deno.test("allowed fast: addresses: IPv4, IPv4-mapped, IPv6, unmasked, host names", () => {
  assert.deepEqual([...allowedFastAddress("127.0.0.1", { mask: false })!], [127, 0, 0, 1]);
  assert.deepEqual([...allowedFastAddress("::ffff:10.1.2.3")!], [10, 1, 2, 0]);
  assert.deepEqual(
    [...allowedFastAddress("[2001:db8::1]")!],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  );
  for (const bad of ["example.com", "1.2.3", "1.2.3.256", "1::2::3", "::g"]) {
    assert.equal(allowedFastAddress(bad), undefined, bad);
  }
});

Deno.test("PeerWire: fast is on only when both sides set the bit; then its messages flow", async () => {
  const both = await wirePair({ handlers: [new FastExtension()] }, {
    handlers: [new FastExtension()],
  });
  try {
    assert.equal(both.client.supportsFast, true);
    assert.equal(both.server.supportsFast, true);
    await both.client.send({ type: "have-all" });
    await both.client.send({ type: "allowed-fast", index: 3 });
    assert.deepEqual(await bounded(both.server.next()), { type: "have-all" });
    assert.deepEqual(await bounded(both.server.next()), { type: "allowed-fast", index: 3 });
  } finally {
    both.client.close();
    both.server.close();
  }
  const one = await wirePair({ handlers: [new FastExtension()] }, {});
  try {
    assert.equal(one.client.supportsFast, false);
    assert.equal(one.server.supportsFast, false);
    // Sent anyway, it closes the receiving side with a typed error.
    await one.client.send({ type: "have-none" });
    await assert.rejects(
      bounded(one.server.next()),
      (error: unknown) => error instanceof ProtocolError && error.code === "fast-not-negotiated",
    );
  } finally {
    one.client.close();
    one.server.close();
  }
});
