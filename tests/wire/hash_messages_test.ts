import assert from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  type HashesMessage,
  type HashRequestMessage,
  type Message,
  ProtocolError,
  type ProtocolErrorCode,
} from "../../src/wire/mod.ts";

const root = new Uint8Array(32).map((_, i) => i + 1);

function decodeAll(bytes: Uint8Array, decoder = new FrameDecoder()): Message[] {
  const out: Message[] = [];
  decoder.push(bytes, (message) => out.push(message));
  return out;
}

/** A frame with id `id` and the five BEP 52 fields, then `extra` bytes. */
function hashFrame(
  id: number,
  fields: [number, number, number, number],
  extra = 0,
  rootLength = 32,
): Uint8Array {
  const body = rootLength + 16 + extra;
  const bytes = new Uint8Array(5 + body);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, body + 1);
  bytes[4] = id;
  bytes.set(root.subarray(0, rootLength), 5);
  fields.forEach((value, i) => view.setUint32(5 + rootLength + 4 * i, value));
  return bytes;
}

Deno.test("hash request and hash reject round-trip through the codec (ids 21, 23)", () => {
  for (const type of ["hash-request", "hash-reject"] as const) {
    const message: HashRequestMessage = {
      type,
      piecesRoot: root,
      baseLayer: 2,
      index: 512,
      length: 512,
      proofLayers: 10,
    };
    const bytes = encodeMessage(message);
    assert.equal(bytes.length, 4 + 1 + 48);
    assert.equal(bytes[4], type === "hash-request" ? 21 : 23);
    const [decoded] = decodeAll(bytes);
    assert.deepEqual({ ...decoded }, message);
  }
});

Deno.test("hashes carries the base-layer hashes, then the uncles above their subtree", () => {
  const hashes = new Uint8Array(4 * 32).map((_, i) => i);
  // 4 hashes: their subtree's root is 2 layers up; proof layers 5 ask the uncles of layers 2..5.
  const proof = new Uint8Array(4 * 32).fill(7);
  const message: HashesMessage = {
    type: "hashes",
    piecesRoot: root,
    baseLayer: 0,
    index: 8,
    length: 4,
    proofLayers: 5,
    hashes,
    proof,
  };
  const bytes = encodeMessage(message);
  assert.equal(bytes[4], 22);
  const [decoded] = decodeAll(bytes);
  assert.equal(decoded.type, "hashes");
  if (decoded.type !== "hashes") return;
  assert.deepEqual(decoded.hashes, hashes);
  assert.deepEqual(decoded.proof, proof);
  assert.deepEqual(decoded.piecesRoot, root);
  assert.equal(decoded.index, 8);
  // Fewer proof layers than the hashes cover: no uncles.
  const short = encodeMessage({ ...message, proofLayers: 1, proof: new Uint8Array() });
  const [shortDecoded] = decodeAll(short);
  assert.equal(shortDecoded.type === "hashes" && shortDecoded.proof.length, 0);
});

Deno.test("a hashes frame split across chunks decodes once whole", () => {
  const bytes = encodeMessage({
    type: "hashes",
    piecesRoot: root,
    baseLayer: 2,
    index: 0,
    length: 512,
    proofLayers: 8, // below the subtree's root: no uncles
    hashes: new Uint8Array(512 * 32).fill(3),
    proof: new Uint8Array(0),
  });
  const decoder = new FrameDecoder();
  const out: Message[] = [];
  for (let at = 0; at < bytes.length; at += 1000) {
    decoder.push(bytes.slice(at, at + 1000), (message) => out.push(message));
  }
  assert.equal(out.length, 1);
  assert.equal(out[0].type === "hashes" && out[0].hashes.length, 512 * 32);
});

/** Each: a name, the bytes, the code that must drop the sender. */
const hostile: [string, Uint8Array, ProtocolErrorCode][] = [
  ["hash request one byte short", hashFrame(21, [0, 0, 2, 1]).subarray(0, 52), "bad-length"],
  ["hash request with a 31-byte root", hashFrame(21, [0, 0, 2, 1], 0, 31), "bad-length"],
  ["hash reject one byte long", hashFrame(23, [0, 0, 2, 1], 1), "bad-length"],
  ["length 0", hashFrame(21, [0, 0, 0, 1]), "bad-hash-request"],
  ["length 3 (not a power of two)", hashFrame(21, [0, 0, 3, 1]), "bad-hash-request"],
  ["index not a multiple of length", hashFrame(21, [0, 2, 4, 1]), "bad-hash-request"],
  ["length over 8192 hashes", hashFrame(21, [0, 0, 16384, 1]), "bad-hash-request"],
  ["100 proof layers", hashFrame(21, [0, 0, 2, 100]), "bad-hash-request"],
  ["hashes shorter than its fields say", hashFrame(22, [0, 0, 4, 0], 3 * 32), "bad-hash-request"],
  ["hashes with a stray byte", hashFrame(22, [0, 0, 2, 0], 2 * 32 + 1), "bad-hash-request"],
  ["hashes missing its uncles", hashFrame(22, [0, 0, 2, 4], 2 * 32), "bad-hash-request"],
  ["hashes under its fixed part", hashFrame(22, [0, 0, 2, 0]).subarray(0, 40), "bad-length"],
  ["hashes reject of length 5", hashFrame(23, [0, 0, 5, 0]), "bad-hash-request"],
];

Deno.test("malformed BEP 52 hash messages are protocol errors that name the problem", () => {
  for (const [name, bytes, code] of hostile) {
    // Fix the length prefix of truncated frames so the body is what is judged.
    const fixed = bytes.slice();
    new DataView(fixed.buffer).setUint32(0, fixed.length - 4);
    assert.throws(
      () => decodeAll(fixed),
      (error) => error instanceof ProtocolError && error.code === code && error.message.length > 0,
      name,
    );
  }
});

Deno.test("a hashes frame over maxHashCount is refused from its length prefix", () => {
  const decoder = new FrameDecoder({ limits: { maxHashCount: 16 } });
  const header = new Uint8Array(5);
  new DataView(header.buffer).setUint32(0, 1 + 48 + (16 + 64) * 32 + 1);
  header[4] = 22;
  assert.throws(
    () => decoder.push(header, () => {}),
    (error) => error instanceof ProtocolError && error.code === "frame-too-large",
  );
  // A request for more than the limit is refused by its fields.
  assert.throws(
    () => decodeAll(hashFrame(21, [0, 0, 32, 0]), decoder),
    (error) => error instanceof ProtocolError && error.code === "bad-hash-request",
  );
});

Deno.test("encoding refuses a pieces root that is not 32 bytes", () => {
  assert.throws(() =>
    encodeMessage({
      type: "hash-request",
      piecesRoot: new Uint8Array(20),
      baseLayer: 0,
      index: 0,
      length: 1,
      proofLayers: 0,
    })
  );
});
