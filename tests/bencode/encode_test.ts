import assert from "node:assert/strict";
import { BencodeDict, BencodeError, decode, type Encodable, encode } from "../../mod.ts";

const text = (value: Uint8Array) => new TextDecoder().decode(value);

Deno.test("encode: BEP 3 forms", () => {
  assert.equal(text(encode("spam")), "4:spam");
  assert.equal(text(encode(3)), "i3e");
  assert.equal(text(encode(-3)), "i-3e");
  assert.equal(text(encode(0)), "i0e");
  assert.equal(text(encode(["spam", "eggs"])), "l4:spam4:eggse");
  assert.equal(text(encode({ spam: "eggs", cow: "moo" })), "d3:cow3:moo4:spam4:eggse");
  assert.equal(text(encode(12345678901234567890n)), "i12345678901234567890e");
});

Deno.test("encode: strings are UTF-8 with byte lengths", () => {
  assert.equal(text(encode("é")), "2:é");
  assert.equal(text(encode("名")), "3:名");
});

Deno.test("encode: keys sort by raw bytes, whatever the source", () => {
  assert.equal(text(encode({ b: 1, a: 2, "é": 3, Z: 4 })), "d1:Zi4e1:ai2e1:bi1e2:éi3ee");
  const map = new Map<string | Uint8Array, Encodable>([
    [new Uint8Array([0xff]), 1],
    ["a", 2],
  ]);
  assert.deepEqual([...encode(map)], [
    ...new TextEncoder().encode("d1:ai2e1:"),
    0xff,
    ...new TextEncoder().encode("i1ee"),
  ]);
  const dict = new BencodeDict().set("z", 1).set("a", 2);
  assert.equal(text(encode(dict)), "d1:ai2e1:zi1ee");
  const unsorted = decode(new TextEncoder().encode("d1:bi1e1:ai2ee"), { allowUnsortedKeys: true });
  assert.equal(text(encode(unsorted)), "d1:ai2e1:bi1ee");
});

Deno.test("encode: rejects what bencode cannot say", () => {
  const bad: unknown[] = [
    1.5,
    NaN,
    Infinity,
    2 ** 60,
    undefined,
    null,
    true,
    Symbol("x"),
    () => 1,
    new Date(0),
    [undefined],
    { a: undefined },
    new Map([[1, 2]]),
    new Map<string | Uint8Array, Encodable>([["a", 1], [new Uint8Array([0x61]), 2]]),
  ];
  for (const value of bad) {
    assert.throws(() => encode(value as Encodable), BencodeError, String(value));
  }
});

Deno.test("encode: rejects cycles but not shared references", () => {
  const list: Encodable[] = [];
  list.push(list);
  assert.throws(() => encode(list), /cycles/);
  const object: Record<string, Encodable> = {};
  object.self = object;
  assert.throws(() => encode(object), /cycles/);
  const shared = ["x"];
  assert.equal(text(encode([shared, shared])), "ll1:xel1:xee");
});

Deno.test("encode: large outputs grow the buffer correctly", () => {
  const big = new Uint8Array(3_000_000).fill(7);
  const out = encode([big, "tail"]);
  assert.equal(out.length, 1 + 8 + 3_000_000 + 6 + 1);
  assert.deepEqual((decode(out) as Uint8Array[])[0], big);
});
