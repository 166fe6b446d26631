import assert from "node:assert/strict";
import { decode, type Encodable, encode } from "../../src/bencode/mod.ts";
import {
  loadSchema,
  loadSchemaDocument,
  SchemaDefinitionError,
  tryValidate,
  validate,
} from "../../src/schema/mod.ts";
import { compileParsedSchema } from "../../src/schema/yaml_loader.ts";
import { parseYaml } from "../../src/schema/yaml_source.ts";

const bencoded = (value: Encodable) => decode(encode(value));

const TORRENTISH = `
root: Metainfo
types:
  Text: { type: string, minLength: 1 }
  Path: { type: list, minItems: 1, items: Text }
  Metainfo:
    type: dictionary
    entries:
      announce: Text
      info: { type: Info, required: true }
  Info:
    type: dictionary
    exclusive:
      - { keys: [length, files], required: true }
    entries:
      name: { type: Text, required: true }
      piece length: { type: integer, min: 1, required: true }
      pieces: { type: binary, multipleOf: 20, required: true }
      length: { type: integer, min: 0 }
      files: { type: list, items: File }
      backup paths: { type: list, items: Path }
  File:
    type: dictionary
    entries:
      length: { type: integer, min: 0, required: true }
      path: { type: Path, required: true }
`;

Deno.test("YAML: named types are reusable from several places", () => {
  const schema = loadSchema(TORRENTISH);
  const doc = bencoded({
    announce: "http://t",
    info: {
      name: "dir",
      "piece length": 16384,
      pieces: new Uint8Array(20),
      files: [{ length: 1, path: ["a", "b"] }],
      "backup paths": [["x"]],
    },
  });
  assert.deepEqual(validate(schema, doc), {
    announce: "http://t",
    info: {
      name: "dir",
      "piece length": 16384,
      pieces: new Uint8Array(20),
      files: [{ length: 1, path: ["a", "b"] }],
      "backup paths": [["x"]],
    },
  });
  const bad = bencoded({
    info: {
      name: "",
      "piece length": 1,
      pieces: "",
      files: [{ length: 1, path: [] }],
      "backup paths": [[""]],
      length: 3,
    },
  });
  const result = tryValidate(schema, bad);
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => [p.path, p.expected]), [
    ['info["backup paths"][0][0]', "a UTF-8 string of at least 1 byte"],
    ["info.files[0].path", "a list of at least 1 item"],
    ["info.name", "a UTF-8 string of at least 1 byte"],
    ["info", 'exactly one of "length", "files"'],
  ]);
});

Deno.test("YAML: recursive types through containers, oneOf, enum, refine, map-like dictionaries", () => {
  const doc = loadSchemaDocument(
    `
root: Node
types:
  Node:
    type: dictionary
    entries:
      kind: { type: string, enum: [leaf, branch], required: true }
      children: { type: list, items: Node }
      weight: { type: integer, refine: [even] }
      tag: { oneOf: [string, { type: list, items: string }] }
      counts: { type: dictionary, keys: { type: binary, length: 2 }, values: integer }
`,
    { refinements: { even: { test: (n) => (n as number) % 2 === 0, expected: "an even number" } } },
  );
  assert.deepEqual([...doc.types.keys()], ["Node"]);
  const value = validate(
    doc.root,
    bencoded({
      kind: "branch",
      tag: ["x"],
      counts: { ab: 1 },
      children: [{ kind: "leaf", weight: 2, tag: "t" }],
    }),
  );
  assert.deepEqual(value, {
    kind: "branch",
    tag: ["x"],
    counts: new Map([[new TextEncoder().encode("ab"), 1]]),
    children: [{ kind: "leaf", weight: 2, tag: "t" }],
  });
  const result = tryValidate(
    doc.root,
    bencoded({ kind: "tree", children: [{ kind: "leaf", weight: 3 }] }),
  );
  assert.ok(!result.ok);
  assert.deepEqual(result.error.problems.map((p) => [p.path, p.expected]), [
    ["children[0].weight", "an even number"],
    ["kind", 'a UTF-8 string (one of "leaf", "branch")'],
  ]);
});

Deno.test("YAML: shorthand type names, lenient entries, skipInvalid, unknownKeys", () => {
  const schema = loadSchema(`
root:
  type: dictionary
  unknownKeys: reject
  entries:
    date: { type: integer, lenient: true }
    urls: { type: list, skipInvalid: true, items: string }
    blob: binary
    anything: any
`);
  assert.deepEqual(validate(schema, bencoded({ date: "x", urls: ["a", 1, "b"], anything: [1] })), {
    urls: ["a", "b"],
    anything: [1],
  });
  const result = tryValidate(schema, bencoded({ other: 1 }));
  assert.ok(!result.ok);
  assert.equal(result.error.problems[0].path, "other");
});

/** Loads `text` expecting a SchemaDefinitionError; returns [line, column, reason]. */
function definitionError(text: string): [number, number, string] {
  try {
    loadSchema(text);
  } catch (error) {
    assert.ok(error instanceof SchemaDefinitionError, `unexpected ${error}`);
    assert.equal(error.name, "SchemaDefinitionError");
    assert.match(error.message, new RegExp(`line ${error.line}, column ${error.column}`));
    return [error.line, error.column, error.reason];
  }
  assert.fail(`schema loaded but should not have:\n${text}`);
}

Deno.test("YAML: invalid schema files name the line, column and what is wrong", () => {
  const cases: [string, number, number, RegExp][] = [
    ["root: [unclosed\n", 2, 1, /YAML syntax/],
    ["root: a\nroot: b\n", 2, 1, /YAML syntax: duplicated mapping key/],
    ["- just\n- a list\n", 1, 1, /a schema file is a mapping/],
    ["types:\n  A: string\n", 1, 1, /missing "root"/],
    ["root: A\nextra: 1\n", 2, 1, /unknown field "extra" for the top level/],
    ["root: Foo\n", 1, 7, /unknown type "Foo" \(built-in: .*\)/],
    ["root: A\ntypes:\n  A:\n    type: integer\n    minn: 3\n", 5, 5, /unknown field "minn"/],
    ["root: A\ntypes:\n  A:\n    type: integer\n    min: x\n", 5, 10, /"min" must be an integer/],
    ["root: A\ntypes:\n  A:\n    type: string\n    lossy: 1\n", 5, 12, /true or false/],
    ["root: A\ntypes:\n  A: { type: 5 }\n", 3, 14, /"type" must be a type name/],
    ["root: A\ntypes:\n  A: { min: 1 }\n", 3, 6, /needs "type" or "oneOf"/],
    ["root: A\ntypes:\n  A: { type: list, oneOf: [string] }\n", 3, 8, /either "type" or "oneOf"/],
    ["root: A\ntypes:\n  A: { oneOf: [] }\n", 3, 15, /non-empty list/],
    ["root: A\ntypes:\n  string: { type: integer }\n", 3, 3, /is a built-in type/],
    ["root: A\ntypes:\n  A: B\n  B: A\n", 3, 3, /refers to itself .* \(A -> B -> A\)/],
    ["root: A\ntypes:\n  A: { oneOf: [A, string] }\n", 3, 3, /refers to itself/],
    ["root: 42\n", 1, 7, /a type: a type name or a mapping/],
    ["root: { type: string, required: true }\n", 1, 23, /only allowed on a dictionary entry/],
    [
      "root:\n  type: dictionary\n  entries:\n    a: { type: integer, required: true, lenient: true }\n",
      4,
      41,
      /both required and lenient/,
    ],
    [
      "root:\n  type: dictionary\n  exclusive: [[a, zz]]\n  entries:\n    a: string\n",
      3,
      19,
      /exclusive key "zz" is not in "entries"/,
    ],
    [
      "root:\n  type: dictionary\n  exclusive: [[a]]\n  entries: { a: string }\n",
      3,
      15,
      /two or more/,
    ],
    [
      "root:\n  type: dictionary\n  values: string\n  entries: {}\n",
      4,
      3,
      /does not go with "values"/,
    ],
    ["root:\n  type: dictionary\n  keys: string\n", 3, 3, /needs "values"/],
    ["root:\n  type: dictionary\n  unknownKeys: maybe\n", 3, 16, /ignore or reject/],
    ["root:\n  type: binary\n  multipleOf: 0\n", 2, 3, /multipleOf must be an integer >= 1/],
    ["root: { type: integer, min: 5, max: 1 }\n", 1, 7, /min 5 is greater than max 1/],
    ["root: { type: string, refine: nope }\n", 1, 31, /unknown refinement "nope"/],
    ["root:\n  type: list\n  items: { type: Missing }\n", 3, 18, /unknown type "Missing"/],
    ["root: A\ntypes: [1]\n", 2, 8, /"types" must be a mapping/],
  ];
  for (const [text, line, column, reason] of cases) {
    const [gotLine, gotColumn, gotReason] = definitionError(text);
    assert.match(gotReason, reason, text);
    assert.deepEqual([gotLine, gotColumn], [line, column], `${gotReason}\n${text}`);
  }
});

Deno.test("YAML: oversized schema text and non-string input are definition errors", () => {
  assert.throws(() => loadSchema("root: string\n", { maxLength: 4 }), SchemaDefinitionError);
  assert.throws(() => loadSchema(5 as unknown as string), SchemaDefinitionError);
});

Deno.test("YAML: aliases share one compiled definition (no blow-up)", () => {
  // Each level references the previous one ten times: 10^8 paths if expanded.
  let text = "root: L8\ntypes:\n  L0: &l0 { type: integer }\n";
  for (let level = 1; level <= 8; level++) {
    const alternatives = Array.from({ length: 10 }, () => `*l${level - 1}`).join(", ");
    text += `  L${level}: &l${level} { oneOf: [${alternatives}] }\n`;
  }
  const schema = loadSchema(text);
  assert.equal(validate(schema, 5), 5);
  assert.ok(!tryValidate(schema, bencoded("x")).ok);
});

Deno.test("YAML: a document parsed ahead of time compiles to the same schema, errors without a position", () => {
  const schema = compileParsedSchema(parseYaml(TORRENTISH).value).root;
  const bad = bencoded({ info: { name: "", "piece length": 0, pieces: "", length: 1, files: [] } });
  const fromText = tryValidate(loadSchema(TORRENTISH), bad);
  const fromParsed = tryValidate(schema, bad);
  assert.ok(!fromText.ok && !fromParsed.ok);
  assert.deepEqual(fromParsed.error.problems, fromText.error.problems);
  const refinements = { even: { test: (v: unknown) => v === 0, expected: "zero" } };
  assert.equal(
    validate(
      compileParsedSchema({ root: { type: "integer", refine: "even" } }, { refinements }).root,
      0,
    ),
    0,
  );
  assert.throws(() => compileParsedSchema({ root: "Missing" }), (error) => {
    assert.ok(error instanceof SchemaDefinitionError);
    assert.equal(error.line, 0);
    assert.match(error.message, /^schema definition: unknown type "Missing"/);
    return true;
  });
  assert.throws(() => compileParsedSchema("root: string"), SchemaDefinitionError);
});
