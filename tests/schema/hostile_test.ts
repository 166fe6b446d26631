import assert from "node:assert/strict";
import { type BencodeValue, decode, encode } from "../../src/bencode/mod.ts";
import { loadSchema, model, SchemaError, tryValidate, validate } from "../../src/schema/mod.ts";
import { metainfoSchema } from "../../src/metainfo/metainfo_schema.ts";

const NESTED = loadSchema(`
root: Node
types:
  Node: { type: list, items: Node }
`);

function nestedLists(depth: number): BencodeValue {
  let value: BencodeValue = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

Deno.test("hostile: deep nesting stops at maxDepth with a problem, not a crash", () => {
  assert.ok(tryValidate(NESTED, nestedLists(200)).ok);
  const result = tryValidate(NESTED, nestedLists(300));
  assert.ok(!result.ok);
  assert.equal(result.error.problems.length, 1);
  assert.match(result.error.problems[0].expected, /nesting of at most 256 levels \(maxDepth\)/);
  assert.equal(result.error.problems[0].path, "[0]".repeat(256));
  assert.ok(!tryValidate(NESTED, nestedLists(20), { maxDepth: 10 }).ok);
});

Deno.test("hostile: a self-containing hand-built value ends at maxDepth", () => {
  const loop: BencodeValue[] = [];
  loop.push(loop);
  assert.ok(!tryValidate(NESTED, loop).ok);
});

Deno.test("hostile: a call-stack overflow becomes a SchemaError", () => {
  const result = tryValidate(NESTED, nestedLists(200_000), { maxDepth: 1_000_000 });
  assert.ok(!result.ok);
  assert.match(result.error.problems[0].expected, /call stack/);
});

Deno.test("hostile: a huge list of bad items records at most maxProblems", () => {
  const items = Array.from({ length: 200_000 }, () => new Uint8Array(1));
  const result = tryValidate(model.list(model.integer()), items);
  assert.ok(!result.ok);
  assert.equal(result.error.problems.length, 100);
  assert.equal(result.error.truncated, true);
  assert.equal(result.error.problems[99].path, "[99]");
  const lines = result.error.message.split("\n");
  assert.ok(lines.length <= 23, `message has ${lines.length} lines`);
  assert.match(result.error.message, /and 80 more/);
  const few = tryValidate(model.list(model.integer()), items, { maxProblems: 3 });
  assert.ok(!few.ok);
  assert.equal(few.error.problems.length, 3);
});

Deno.test("hostile: ambiguous unions nested in deep input stay within maxAttempts", () => {
  const ambiguous = loadSchema(`
root: Node
types:
  Node:
    oneOf:
      - { type: list, items: Node, maxItems: 2 }
      - { type: list, items: Node, minItems: 1 }
`);
  let value: BencodeValue = 1; // invalid at the bottom: every level fails both ways
  for (let i = 0; i < 60; i++) value = [value, value];
  const result = tryValidate(ambiguous, value);
  assert.ok(!result.ok);
  assert.ok(result.error.problems.some((p) => /maxAttempts/.test(p.expected)));
});

Deno.test("hostile: non-bencode values anywhere are problems, never raw TypeErrors", () => {
  const schema = model.dict({ a: model.list(model.string()) });
  for (const value of [null, undefined, "text", {}, new Map(), Symbol("s"), () => 1, [null]]) {
    const result = tryValidate(schema, value);
    assert.ok(!result.ok);
    assert.ok(result.error instanceof SchemaError);
  }
  assert.ok(!tryValidate(model.list(model.string()), [undefined, {}]).ok);
});

Deno.test("hostile: a 20,000-file metainfo validates quickly and reports bad files by index", () => {
  const files = Array.from({ length: 20_000 }, (_, i) => ({ length: i, path: ["dir", `f${i}`] }));
  const bytes = encode({
    info: { name: "big", "piece length": 16384, pieces: new Uint8Array(20), files },
  });
  const value = validate(metainfoSchema, decode(bytes));
  assert.equal(value.info.files?.length, 20_000);
  files[12_345] = { length: -1, path: ["x"] };
  const bad = encode({
    info: { name: "big", "piece length": 16384, pieces: new Uint8Array(20), files },
  });
  const result = tryValidate(metainfoSchema, decode(bad));
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => p.path), ["info.files[12345].length"]);
});
