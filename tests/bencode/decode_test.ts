import assert from "node:assert/strict";
import { BencodeDict, BencodeError, decode, decodePrefix, locate } from "../../mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: unknown) => new TextDecoder().decode(value as Uint8Array);

Deno.test("decode: BEP 3 examples", () => {
  assert.equal(text(decode(bytes("4:spam"))), "spam");
  assert.deepEqual(decode(bytes("0:")), new Uint8Array());
  assert.equal(decode(bytes("i3e")), 3);
  assert.equal(decode(bytes("i-3e")), -3);
  assert.equal(decode(bytes("i0e")), 0);
  const list = decode(bytes("l4:spam4:eggse")) as Uint8Array[];
  assert.deepEqual(list.map(text), ["spam", "eggs"]);
  const dict = decode(bytes("d3:cow3:moo4:spam4:eggse")) as BencodeDict;
  assert.equal(text(dict.get("cow")), "moo");
  assert.equal(text(dict.get("spam")), "eggs");
  const nested = decode(bytes("d4:spaml1:a1:bee")) as BencodeDict;
  assert.deepEqual((nested.get("spam") as Uint8Array[]).map(text), ["a", "b"]);
});

Deno.test("decode: byte strings stay bytes and are views, never text", () => {
  const input = bytes("3:\xff\x00a");
  const value = decode(new Uint8Array([0x33, 0x3a, 0xff, 0x00, 0x61]));
  assert.ok(value instanceof Uint8Array);
  assert.deepEqual([...value], [0xff, 0x00, 0x61]);
  assert.ok(input.length > 0);
});

Deno.test("decode: integers beyond the safe range become bigint, exactly", () => {
  assert.equal(decode(bytes("i9007199254740991e")), 9007199254740991);
  assert.equal(decode(bytes("i9007199254740992e")), 9007199254740992n);
  assert.equal(decode(bytes("i-9007199254740992e")), -9007199254740992n);
  assert.equal(decode(bytes("i123456789012345678901234567890e")), 123456789012345678901234567890n);
});

Deno.test("decode: dictionary keys that are not UTF-8 are kept byte-exact", () => {
  const input = new Uint8Array([0x64, 0x31, 0x3a, 0xfe, 0x69, 0x31, 0x65, 0x65]); // d1:\xfei1ee
  const dict = decode(input) as BencodeDict;
  assert.equal(dict.get(new Uint8Array([0xfe])), 1);
  assert.deepEqual([...dict.rawKeys()].map((key) => [...key]), [[0xfe]]);
});

Deno.test("decode: UTF-8 keys are looked up by JS string", () => {
  const dict = decode(
    bytes("d5:名前i1ee".replace("5", String(bytes("名前").length))),
  ) as BencodeDict;
  assert.equal(dict.get("名前"), 1);
  assert.deepEqual([...dict.keys()], ["名前"]);
});

Deno.test("decode: unsorted keys only with allowUnsortedKeys; duplicates never", () => {
  const unsorted = bytes("d1:bi1e1:ai2ee");
  assert.throws(() => decode(unsorted), BencodeError);
  const dict = decode(unsorted, { allowUnsortedKeys: true }) as BencodeDict;
  assert.deepEqual([...dict.keys()], ["b", "a"]);
  assert.throws(() => decode(bytes("d1:ai1e1:ai2ee"), { allowUnsortedKeys: true }), BencodeError);
  assert.throws(
    () => decode(bytes("d1:bi1e1:ai2e1:bi3ee"), { allowUnsortedKeys: true }),
    (error: unknown) => error instanceof BencodeError && error.offset === 13,
  );
});

Deno.test("decodePrefix leaves trailing bytes to the caller", () => {
  const { value, end } = decodePrefix(bytes("d8:msg_typei1eeRAWDATA"));
  assert.ok(value instanceof BencodeDict);
  assert.equal(end, 15);
});

Deno.test("locate: raw span of nested values, canonical or not", () => {
  const document = bytes("d8:announce3:url4:infod6:lengthi5e4:name1:xe1:zi0ee");
  const span = locate(document, ["info"]);
  assert.deepEqual(span, { start: 22, end: 44 });
  assert.equal(text(document.subarray(span!.start, span!.end)), "d6:lengthi5e4:name1:xe");
  assert.deepEqual(locate(document, ["info", "name"]), { start: 40, end: 43 });
  assert.equal(locate(document, ["missing"]), undefined);
  assert.equal(locate(document, [0]), undefined);
  const list = bytes("li1ei22ei333ee");
  assert.deepEqual(locate(list, [2]), { start: 8, end: 13 });
  assert.equal(locate(list, [3]), undefined);
  // Non-canonical info (unsorted keys) is located exactly as written.
  const messy = bytes("d4:infod4:name1:x6:lengthi5eee");
  assert.throws(() => locate(messy, ["info"]), BencodeError);
  const raw = locate(messy, ["info"], { allowUnsortedKeys: true })!;
  assert.equal(text(messy.subarray(raw.start, raw.end)), "d4:name1:x6:lengthi5ee");
});

Deno.test("decode: limits are options", () => {
  assert.throws(() => decode(bytes("llee"), { maxDepth: 1 }), /maxDepth/);
  assert.deepEqual(decode(bytes("llee"), { maxDepth: 2 }), [[]]);
  assert.throws(() => decode(bytes("4:spam"), { maxLength: 5 }), /maxLength/);
});
