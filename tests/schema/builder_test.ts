import assert from "node:assert/strict";
import { BencodeDict, decode, type Encodable, encode } from "../../src/bencode/mod.ts";
import {
  type Infer,
  model,
  type Problem,
  SchemaDefinitionError,
  SchemaError,
  tryValidate,
  validate,
} from "../../src/schema/mod.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const bencoded = (value: Encodable) => decode(encode(value));

/** Compile-time type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

function problemsOf(schema: Parameters<typeof tryValidate>[0], value: unknown): Problem[] {
  const result = tryValidate(schema, value);
  assert.equal(result.ok, false, "expected validation to fail");
  return result.ok ? [] : [...result.error.problems];
}

Deno.test("string: UTF-8 text becomes a JS string; invalid UTF-8 is a problem unless lossy", () => {
  assert.equal(validate(model.string(), bytes("héllo")), "héllo");
  assert.equal(validate(model.string(), new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), "\ufeffa");
  const invalid = new Uint8Array([0x61, 0xff, 0x62]);
  assert.deepEqual(problemsOf(model.string(), invalid), [
    { path: "", expected: "a UTF-8 string", found: "invalid UTF-8 (3 bytes)" },
  ]);
  assert.equal(validate(model.string({ lossy: true }), invalid), "a\ufffdb");
  const long = new Uint8Array(100).fill(0xff);
  assert.equal(tryValidate(model.string(), long).ok, false);
  assert.equal(validate(model.string(), bytes("x".repeat(100))), "x".repeat(100));
});

Deno.test("string: length limits in bytes and enum values", () => {
  const name = model.string({ minLength: 1, maxLength: 3 });
  assert.equal(validate(name, bytes("abc")), "abc");
  assert.deepEqual(problemsOf(name, bytes("")), [
    { path: "", expected: "a UTF-8 string of 1 to 3 bytes", found: "a byte string of 0 bytes" },
  ]);
  const event = model.string({ enum: ["started", "stopped"] });
  const started: "started" | "stopped" = validate(event, bytes("started"));
  assert.equal(started, "started");
  assert.match(problemsOf(event, bytes("paused"))[0].expected, /one of "started", "stopped"/);
});

Deno.test("binary: output is the input view; exact length and multiple-of constraints", () => {
  const input = new Uint8Array(40);
  assert.equal(validate(model.binary({ multipleOf: 20 }), input), input);
  assert.deepEqual(problemsOf(model.binary({ multipleOf: 20 }), new Uint8Array(21)), [{
    path: "",
    expected: "a byte string (a multiple of 20 bytes)",
    found: "a byte string of 21 bytes",
  }]);
  assert.equal(tryValidate(model.binary({ length: 20 }), new Uint8Array(19)).ok, false);
  assert.equal(
    tryValidate(model.binary({ minLength: 2, maxLength: 4 }), new Uint8Array(5)).ok,
    false,
  );
  assert.equal(tryValidate(model.binary(), 5).ok, false);
});

Deno.test("integer: ranges, safe numbers by default, bigint with big", () => {
  assert.equal(validate(model.integer({ min: 1, max: 3 }), 3), 3);
  assert.deepEqual(problemsOf(model.integer({ min: 1 }), 0), [
    { path: "", expected: "a safe integer >= 1", found: "the integer 0" },
  ]);
  const huge = decode(bytes("i99999999999999999999e"));
  assert.equal(typeof huge, "bigint");
  assert.equal(tryValidate(model.integer(), huge).ok, false);
  const big: number | bigint = validate(model.integer({ big: true, max: 10n ** 20n }), huge);
  assert.equal(big, 99999999999999999999n);
  assert.equal(tryValidate(model.integer({ big: true, max: 10n }), huge).ok, false);
  assert.equal(tryValidate(model.integer(), 1.5).ok, false);
  assert.equal(tryValidate(model.integer(), bytes("1")).ok, false);
});

Deno.test("list: element types, item counts, skipInvalid", () => {
  const tiers = model.list(model.list(model.string()), { minItems: 1 });
  const value: string[][] = validate(tiers, bencoded([["a", "b"], ["c"]]));
  assert.deepEqual(value, [["a", "b"], ["c"]]);
  assert.deepEqual(problemsOf(tiers, bencoded([])), [
    { path: "", expected: "a list of at least 1 item", found: "a list of 0 items" },
  ]);
  const lenient = model.list(model.integer(), { skipInvalid: true });
  assert.deepEqual(validate(lenient, bencoded([1, "x", 2, [3]])), [1, 2]);
});

Deno.test("dict: declared keys only, optional entries omitted, unknown keys ignored or rejected", () => {
  const peer = model.dict({
    ip: model.string().required(),
    port: model.integer({ min: 1, max: 65535 }).required(),
    "peer id": model.binary({ length: 20 }),
  });
  const value = validate(peer, bencoded({ ip: "10.0.0.1", port: 6881, extra: 1 }));
  assert.deepEqual(value, { ip: "10.0.0.1", port: 6881 });
  assert.equal("peer id" in value, false);
  const strict = model.dict({ a: model.integer() }, { unknownKeys: "reject" });
  assert.deepEqual(problemsOf(strict, bencoded({ a: 1, "b c": 2 })), [{
    path: '["b c"]',
    expected: "no such entry (unknown keys are rejected)",
    found: "the integer 2",
  }]);
  assert.equal(tryValidate(peer, bencoded([1])).ok, false);
});

Deno.test("dict: lenient entries drop invalid values instead of failing", () => {
  const meta = model.dict({ date: model.integer().lenient(), name: model.string().required() });
  assert.deepEqual(validate(meta, bencoded({ date: "yesterday", name: "x" })), { name: "x" });
  assert.deepEqual(validate(meta, bencoded({ date: 5, name: "x" })), { date: 5, name: "x" });
});

Deno.test("dict: exclusive groups (at most one, exactly one)", () => {
  const info = model.dict({
    length: model.integer(),
    files: model.list(model.any()),
    a: model.integer(),
    b: model.integer(),
  }, { exclusive: [{ keys: ["length", "files"], required: true }, ["a", "b"]] });
  assert.deepEqual(validate(info, bencoded({ length: 1 })), { length: 1 });
  assert.deepEqual(problemsOf(info, bencoded({ length: 1, files: [], a: 1, b: 2 })), [
    { path: "", expected: 'exactly one of "length", "files"', found: '"length", "files"' },
    { path: "", expected: 'at most one of "a", "b"', found: '"a", "b"' },
  ]);
  assert.deepEqual(problemsOf(info, bencoded({})), [
    { path: "", expected: 'exactly one of "length", "files"', found: "none of them" },
  ]);
  assert.throws(
    () => model.dict({ a: model.integer() }, { exclusive: [["a", "zz" as "a"]] }),
    SchemaDefinitionError,
  );
});

Deno.test("dict: a key named __proto__ is an own property, not the prototype", () => {
  // fromEntries makes an own "__proto__" property, as an unusual model might.
  const schema = model.dict(Object.fromEntries([["__proto__", model.integer()]]));
  const dict = new BencodeDict().set("__proto__", 7);
  const value = validate(schema, dict) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, 7);
});

Deno.test("dictOf: map-like dictionaries with validated keys", () => {
  const hash = new Uint8Array(20).fill(1);
  const files = model.dictOf(model.dict({ complete: model.integer() }), {
    keys: model.binary({ length: 20 }),
  });
  const value: Map<Uint8Array, { complete?: number }> = validate(
    files,
    new BencodeDict([[hash, bencoded({ complete: 3 })]]),
  );
  assert.deepEqual([...value.values()], [{ complete: 3 }]);
  assert.deepEqual([...value.keys()][0], hash);
  const problems = problemsOf(files, bencoded({ short: { complete: "x" } }));
  assert.deepEqual(problems, [
    {
      path: "short",
      expected: "a key that is a byte string of exactly 20 bytes",
      found: "a byte string of 5 bytes",
    },
    { path: "short.complete", expected: "a safe integer", found: "a byte string of 1 bytes" },
  ]);
  const binaryKey = new BencodeDict([[new Uint8Array([0xff, 0x00]), 1]]);
  assert.equal(problemsOf(model.dictOf(model.integer()), binaryKey)[0].path, "[0xff00]");
  assert.deepEqual(
    validate(model.dictOf(model.integer()), bencoded({ a: 1 })),
    new Map([["a", 1]]),
  );
});

Deno.test("oneOf: picks by kind, tries same-kind alternatives in order, reports the closest", () => {
  const peers = model.oneOf(
    model.binary({ multipleOf: 6 }),
    model.list(model.dict({ ip: model.string().required() })),
  );
  assert.equal((validate(peers, new Uint8Array(12)) as Uint8Array).length, 12);
  assert.deepEqual(validate(peers, bencoded([{ ip: "a" }])), [{ ip: "a" }]);
  // Only the list alternative fits a list, so its own problem is reported.
  assert.deepEqual(problemsOf(peers, bencoded([{ ip: 1 }])), [
    { path: "[0].ip", expected: "a UTF-8 string", found: "the integer 1" },
  ]);
  assert.match(problemsOf(peers, 5)[0].expected, /^one of: a byte string .* \| a list$/);
  const twoDicts = model.oneOf(
    model.dict({ a: model.integer().required(), b: model.integer().required() }),
    model.dict({ c: model.integer().required() }),
  );
  assert.deepEqual(validate(twoDicts, bencoded({ c: 1 })), { c: 1 });
  assert.deepEqual(problemsOf(twoDicts, bencoded({ a: 1, b: "x" })), [
    { path: "b", expected: "a safe integer", found: "a byte string of 1 bytes" },
  ]);
});

Deno.test("refine: custom checks on the validated output", () => {
  const even = model.integer().refine((n) => n % 2 === 0, "an even integer");
  assert.equal(validate(even, 4), 4);
  assert.deepEqual(problemsOf(model.list(even), bencoded([2, 3])), [
    { path: "[1]", expected: "an even integer", found: "the integer 3" },
  ]);
  const url = model.string().refine((s) => s.startsWith("http"), "an http(s) URL").required();
  const tracker = model.dict({ announce: url });
  assert.equal(validate(tracker, bencoded({ announce: "http://x" })).announce, "http://x");
});

Deno.test("lazy: recursive models", () => {
  type Tree = { name: string; children?: Tree[] };
  const tree: ReturnType<typeof model.lazy<Tree>> = model.lazy(() =>
    model.dict({ name: model.string().required(), children: model.list(tree) })
  );
  const value = validate(tree, bencoded({ name: "a", children: [{ name: "b", children: [] }] }));
  assert.equal(value.children?.[0].name, "b");
  assert.deepEqual(problemsOf(tree, bencoded({ name: "a", children: [{ children: [] }] })), [
    { path: "children[0].name", expected: "a UTF-8 string (required)", found: "nothing" },
  ]);
  const loop: ReturnType<typeof model.lazy<number>> = model.lazy(() => model.oneOf(loop));
  assert.throws(() => validate(loop, 1), SchemaDefinitionError);
});

Deno.test("every problem is reported, each with its exact path", () => {
  const info = model.dict({
    name: model.string().required(),
    "piece length": model.integer({ min: 1 }).required(),
    files: model.list(model.dict({
      length: model.integer({ min: 0 }).required(),
      path: model.list(model.string(), { minItems: 1 }).required(),
    })),
  });
  const meta = model.dict({ info: info.required() });
  const value = bencoded({
    info: {
      "piece length": 0,
      files: [
        { length: 1, path: ["ok"] },
        { length: 1, path: ["ok"] },
        { length: 1, path: ["ok"] },
        { length: -5, path: [new Uint8Array([0xc3]), "x"] },
      ],
    },
  });
  const error = (() => {
    try {
      validate(meta, value);
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof SchemaError);
  assert.equal(error.name, "SchemaError");
  assert.deepEqual(error.problems.map((p) => p.path), [
    "info.files[3].length",
    "info.files[3].path[0]",
    'info["piece length"]',
    "info.name",
  ]);
  assert.match(error.message, /info\.files\[3\]\.path\[0\]: expected a UTF-8 string/);
});

Deno.test("type inference: the validated value is typed from the model", () => {
  const schema = model.dict({
    name: model.string().required(),
    length: model.integer(),
    pieces: model.binary().required(),
    tiers: model.list(model.list(model.string())).lenient(),
    peers: model.oneOf(
      model.binary(),
      model.list(model.dict({ port: model.integer().required() })),
    ),
    big: model.integer({ big: true }),
    stats: model.dictOf(model.integer()),
  });
  type Value = Infer<typeof schema>;
  const exact: Equal<Value, {
    name: string;
    pieces: Uint8Array;
    length?: number;
    tiers?: string[][];
    peers?: Uint8Array | { port: number }[];
    big?: number | bigint;
    stats?: Map<string, number>;
  }> = true;
  assert.ok(exact);
  const value: { name: string } = validate(schema, bencoded({ name: "n", pieces: "" }));
  assert.equal(value.name, "n");
});

Deno.test("builder rejects impossible options and foreign schemas", () => {
  assert.throws(() => model.binary({ multipleOf: 0 }), SchemaDefinitionError);
  assert.throws(() => model.binary({ length: 2, minLength: 1 }), SchemaDefinitionError);
  assert.throws(() => model.integer({ min: 3, max: 1 }), SchemaDefinitionError);
  assert.throws(() => model.string({ minLength: -1 }), SchemaDefinitionError);
  assert.throws(() => model.list(model.any(), { minItems: 2, maxItems: 1 }), SchemaDefinitionError);
  assert.throws(() => model.oneOf(), SchemaDefinitionError);
  const fake = { expected: "x" } as unknown as Parameters<typeof validate>[0];
  assert.throws(() => validate(fake, 1), SchemaDefinitionError);
  assert.throws(() => validate(model.any(), 1, { maxProblems: 0 }), SchemaDefinitionError);
});

Deno.test("any: passes bencode values through, rejects non-bencode values", () => {
  const dict = bencoded({ a: 1 });
  assert.equal(validate(model.any(), dict), dict);
  assert.deepEqual(problemsOf(model.any(), null), [
    { path: "", expected: "any bencode value", found: "null" },
  ]);
  assert.equal(tryValidate(model.any(), undefined).ok, false);
});
