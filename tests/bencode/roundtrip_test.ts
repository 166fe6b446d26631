import assert from "node:assert/strict";
import { BencodeDict, type BencodeValue, decode, encode } from "../../mod.ts";
import { seededRandom } from "../session/helpers.ts";

function randomBytes(next: () => number, max: number): Uint8Array {
  const out = new Uint8Array(Math.floor(next() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

function randomValue(next: () => number, depth: number): BencodeValue {
  const kind = Math.floor(next() * (depth > 4 ? 3 : 5));
  switch (kind) {
    case 0:
      return randomBytes(next, 40);
    case 1:
      return Math.floor((next() - 0.5) * 2 ** 53);
    case 2:
      return (BigInt(Math.floor(next() * 2 ** 52)) << 40n) * (next() < 0.5 ? -1n : 1n) +
        BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    case 3:
      return Array.from({ length: Math.floor(next() * 6) }, () => randomValue(next, depth + 1));
    default: {
      const dict = new BencodeDict();
      const count = Math.floor(next() * 6);
      for (let i = 0; i < count; i++) dict.set(randomBytes(next, 8), randomValue(next, depth + 1));
      return dict;
    }
  }
}

Deno.test("round trip: 2,000 random documents, including non-UTF-8 keys and bigints", () => {
  const next = seededRandom(20261126);
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(next, 0);
    const canonical = encode(value);
    const decoded = decode(canonical);
    assert.deepEqual(encode(decoded), canonical, `document ${i}`);
  }
});

Deno.test("round trip: canonical inputs re-encode byte for byte", () => {
  const inputs = [
    "d8:announce31:http://tracker.example/announce4:infod6:lengthi1048576e4:name8:file.bin12:piece lengthi262144e6:pieces0:ee",
    "li-1ei0ei1ei9223372036854775807ei-9223372036854775808ee",
    "d0:0:1:a0:e",
    "lllleeee",
  ];
  for (const input of inputs) {
    const bytes = new TextEncoder().encode(input);
    assert.deepEqual(encode(decode(bytes)), bytes, input);
  }
});
