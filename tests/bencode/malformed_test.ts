import assert from "node:assert/strict";
import { BencodeError, decode, locate } from "../../mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Each case: input, the offset the error must name. */
const corpus: [string, number][] = [
  ["", 0],
  ["x", 0],
  ["i", 1],
  ["ie", 1],
  ["i-e", 2],
  ["i-0e", 1],
  ["i03e", 1],
  ["i1.5e", 2],
  ["i12", 3],
  ["i 1e", 1],
  ["i--1e", 2],
  ["i+1e", 1],
  ["1", 1],
  ["5:abc", 0],
  ["03:abc", 0],
  ["-1:a", 0],
  ["1x", 1],
  ["9999999999999:", 0],
  ["99999999999999999999999999:", 0],
  ["l", 1],
  ["li1e", 4],
  ["d", 1],
  ["d1:a", 4],
  ["di1ei2ee", 1],
  ["dle", 1],
  ["d1:b1:x1:a1:ye", 7],
  ["d1:a1:x1:a1:ye", 7],
  ["i1ei2e", 3],
  ["4:spamx", 6],
  ["le!", 2],
  ["e", 0],
];

for (const [input, offset] of corpus) {
  Deno.test(`malformed: ${JSON.stringify(input)} throws BencodeError at ${offset}`, () => {
    assert.throws(
      () => decode(bytes(input)),
      (error: unknown) => {
        assert.ok(error instanceof BencodeError, `got ${error}`);
        assert.equal(error.offset, offset, error.message);
        assert.ok(error.expected.length > 0);
        return true;
      },
    );
  });
}

Deno.test("malformed: every truncation of a valid document throws BencodeError", () => {
  const document = bytes(
    "d4:infod5:filesld6:lengthi1e4:pathl1:aeee4:name1:x12:piece lengthi16384eee",
  );
  decode(document);
  for (let end = 0; end < document.length; end++) {
    assert.throws(() => decode(document.subarray(0, end)), BencodeError, `truncated at ${end}`);
  }
});

Deno.test("malformed: every single-byte corruption throws BencodeError or decodes", () => {
  const document = bytes("d1:ali1ei-2e3:abce1:bd1:ci0eee");
  for (let at = 0; at < document.length; at++) {
    for (const replacement of [0x00, 0x2d, 0x30, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0xff]) {
      const corrupt = document.slice();
      corrupt[at] = replacement;
      try {
        decode(corrupt);
      } catch (error) {
        assert.ok(error instanceof BencodeError, `byte ${at} -> ${replacement}: ${error}`);
      }
    }
  }
});

Deno.test("malformed: a million-deep list throws quickly, without a stack overflow", () => {
  const deepList = new Uint8Array(1_000_000).fill(0x6c);
  const deepDict = new TextEncoder().encode("d1:a".repeat(250_000));
  for (const deep of [deepList, deepDict]) {
    assert.throws(() => decode(deep), /maxDepth/);
    assert.throws(() => locate(deep, []), BencodeError);
  }
  const lists = new Uint8Array(1_000_000).fill(0x6c);
  assert.throws(() => decode(lists, { maxDepth: 10_000_000 }), BencodeError);
});

Deno.test("malformed: a huge length prefix allocates nothing and throws", () => {
  assert.throws(() => decode(bytes("4294967296:abc")), /bytes left/);
  assert.throws(() => decode(bytes("l9007199254740993:e")), BencodeError);
});

Deno.test("malformed: non-Uint8Array input is a BencodeError, not a TypeError", () => {
  assert.throws(() => decode("i1e" as unknown as Uint8Array), BencodeError);
});
