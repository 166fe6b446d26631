/**
 * YAML schema files: parsed with js-yaml, checked field by field (every
 * mistake names its line and column), compiled to the same nodes the
 * builder makes. {@linkcode compileParsedSchema} compiles a document parsed
 * ahead of time (the shipped schemas), so loading the library runs no YAML
 * parser.
 */
import { bareCycle, LazyNode, OneOfNode } from "./combinators.ts";
import {
  type CompiledEntry,
  DictNode,
  type ExclusiveGroup,
  ListNode,
  MapNode,
} from "./containers.ts";
import { SchemaDefinitionError } from "./errors.ts";
import { type Node, RefineNode, type Schema } from "./node.ts";
import { AnyNode, BinaryNode, IntegerNode, StringNode } from "./scalars.ts";
import { parseYaml, type SourceMap } from "./yaml_source.ts";

/** Where a node of the schema document is: a YAML file's {@linkcode SourceMap}, or nowhere. */
type Locator = Pick<SourceMap, "at">;

/** A document parsed ahead of time has no text: its errors carry no position. */
const NOWHERE: Locator = { at: () => ({ line: 0, column: 0 }) };

/** A named check usable from a YAML schema's `refine` field. */
export interface Refinement {
  /** Returns whether the validated value is acceptable. */
  readonly test: (value: unknown) => boolean;
  /** What an acceptable value is, in words (the problem's `expected`). */
  readonly expected: string;
}

/** Options for {@linkcode loadSchema} and {@linkcode loadSchemaDocument}. */
export interface LoadSchemaOptions {
  /** Checks that `refine: [name]` in the file may use, by name. */
  readonly refinements?: Readonly<Record<string, Refinement>>;
  /** Longest schema text accepted, in characters. Default 1 MiB. */
  readonly maxLength?: number;
}

/** A loaded schema file: its root schema and every named type. */
export interface SchemaDocument {
  /** The schema named by `root`. */
  readonly root: Schema<unknown>;
  /** The named types of `types`, by name. */
  readonly types: ReadonlyMap<string, Schema<unknown>>;
}

/** Default for {@linkcode LoadSchemaOptions.maxLength}. */
const DEFAULT_MAX_SCHEMA_LENGTH = 1024 * 1024;

const BUILT_IN: Readonly<Record<string, readonly string[]>> = {
  string: ["minLength", "maxLength", "enum", "lossy"],
  binary: ["length", "minLength", "maxLength", "multipleOf"],
  integer: ["min", "max", "big"],
  list: ["items", "minItems", "maxItems", "skipInvalid"],
  dictionary: [
    "entries",
    "exclusive",
    "unknownKeys",
    "values",
    "keys",
    "minEntries",
    "maxEntries",
    "skipInvalid",
  ],
  any: [],
};
const COMMON_FIELDS = ["description", "refine"];
const ENTRY_FIELDS = ["required", "lenient"];
const TOP_FIELDS = ["root", "types", "description"];

type YamlMapping = Record<string, unknown>;

function isMapping(value: unknown): value is YamlMapping {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describeYaml(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function quote(names: Iterable<string>): string {
  return [...names].join(", ");
}

/** Compiles the type expressions of one schema file. */
class Compiler {
  readonly #source: Locator;
  readonly #refinements: Readonly<Record<string, Refinement>>;
  readonly #named = new Map<string, LazyNode<unknown>>();
  /** Compiled definitions by YAML object, so aliased (`*anchor`) definitions compile once. */
  readonly #cache = new WeakMap<object, Node>();

  constructor(source: Locator, refinements: Readonly<Record<string, Refinement>>) {
    this.#source = source;
    this.#refinements = refinements;
  }

  fail(reason: string, container: unknown, key?: string | number, part?: "key"): never {
    const { line, column } = this.#source.at(container, key, part);
    throw new SchemaDefinitionError(reason, line, column);
  }

  document(value: unknown): SchemaDocument {
    if (!isMapping(value)) {
      this.fail(
        `a schema file is a mapping with "root" and "types", found ${describeYaml(value)}`,
        value,
      );
    }
    this.#fields(value, TOP_FIELDS, "the top level");
    if (!("root" in value)) this.fail('missing "root" (the type to validate with)', value);
    this.#optionalString(value, "description");
    const types = value.types ?? {};
    if (!isMapping(types)) this.fail(`"types" must be a mapping of names to types`, value, "types");
    for (const name of Object.keys(types)) {
      if (name in BUILT_IN) this.fail(`type name "${name}" is a built-in type`, types, name, "key");
      if (name === "") this.fail("a type name must not be empty", types, name, "key");
      this.#named.set(name, new LazyNode<unknown>(undefined, name));
    }
    for (const [name, lazy] of this.#named) lazy.bind(this.type(types[name], types, name));
    for (const [name, lazy] of this.#named) {
      const cycle = bareCycle(lazy);
      if (cycle) this.fail(cycle, types, name, "key");
    }
    const root = this.type(value.root, value, "root");
    return { root, types: new Map<string, Schema<unknown>>(this.#named) };
  }

  /** A type expression: a type name, or a mapping with `type` or `oneOf`. */
  type(expr: unknown, parent: unknown, key: string | number): Node {
    if (typeof expr === "string") return this.#byName(expr, parent, key);
    if (isMapping(expr)) return this.#definition(expr, parent, key, false);
    return this.fail(
      `a type: a type name or a mapping with "type" or "oneOf", found ${describeYaml(expr)}`,
      parent,
      key,
    );
  }

  /** An entry of `entries`: a type expression, with `required` and `lenient` allowed. */
  #entry(expr: unknown, parent: YamlMapping, key: string): CompiledEntry {
    if (!isMapping(expr)) {
      return { key, node: this.type(expr, parent, key), required: false, lenient: false };
    }
    const required = this.#optionalBoolean(expr, "required") ?? false;
    const lenient = this.#optionalBoolean(expr, "lenient") ?? false;
    if (required && lenient) {
      this.fail("an entry cannot be both required and lenient", expr, "lenient", "key");
    }
    return { key, node: this.#definition(expr, parent, key, true), required, lenient };
  }

  #byName(name: string, parent: unknown, key: string | number): Node {
    const named = this.#named.get(name);
    if (named) return named;
    if (name in BUILT_IN) return this.#built(name, {}, parent, key);
    const names = this.#named.size > 0 ? `; named: ${quote(this.#named.keys())}` : "";
    return this.fail(
      `unknown type "${name}" (built-in: ${quote(Object.keys(BUILT_IN))}${names})`,
      parent,
      key,
    );
  }

  #definition(def: YamlMapping, parent: unknown, key: string | number, inEntry: boolean): Node {
    const entryFields = inEntry ? ENTRY_FIELDS : [];
    if (!inEntry) {
      for (const field of ENTRY_FIELDS) {
        if (field in def) {
          this.fail(`"${field}" is only allowed on a dictionary entry`, def, field, "key");
        }
      }
    }
    const cached = this.#cache.get(def);
    if (cached) return cached;
    let node: Node;
    if ("oneOf" in def) {
      if ("type" in def) this.fail('use either "type" or "oneOf", not both', def, "type", "key");
      this.#fields(def, ["oneOf", ...COMMON_FIELDS, ...entryFields], "a oneOf type");
      const alternatives = def.oneOf;
      if (!Array.isArray(alternatives) || alternatives.length === 0) {
        this.fail(`"oneOf" must be a non-empty list of types`, def, "oneOf");
      }
      node = new OneOfNode(alternatives.map((alt, i) => this.type(alt, alternatives, i)));
    } else {
      if (!("type" in def)) this.fail('a type mapping needs "type" or "oneOf"', parent, key);
      const name = def.type;
      if (typeof name !== "string") {
        this.fail(`"type" must be a type name, found ${describeYaml(name)}`, def, "type");
      }
      const fields = BUILT_IN[name] ?? [];
      const what = name in BUILT_IN ? `type ${name}` : `a reference to type ${name}`;
      this.#fields(def, ["type", ...fields, ...COMMON_FIELDS, ...entryFields], what);
      node = name in BUILT_IN
        ? this.#built(name, def, parent, key)
        : this.#byName(name, def, "type");
    }
    this.#optionalString(def, "description");
    node = this.#refined(node, def);
    this.#cache.set(def, node);
    return node;
  }

  #built(name: string, def: YamlMapping, parent: unknown, key: string | number): Node {
    try {
      switch (name) {
        case "string":
          return new StringNode({
            minLength: this.#optionalInteger(def, "minLength"),
            maxLength: this.#optionalInteger(def, "maxLength"),
            enum: this.#optionalStrings(def, "enum"),
            lossy: this.#optionalBoolean(def, "lossy"),
          });
        case "binary":
          return new BinaryNode({
            length: this.#optionalInteger(def, "length"),
            minLength: this.#optionalInteger(def, "minLength"),
            maxLength: this.#optionalInteger(def, "maxLength"),
            multipleOf: this.#optionalInteger(def, "multipleOf"),
          });
        case "integer":
          return new IntegerNode({
            min: this.#optionalInteger(def, "min"),
            max: this.#optionalInteger(def, "max"),
            big: this.#optionalBoolean(def, "big"),
          });
        case "list":
          return new ListNode("items" in def ? this.type(def.items, def, "items") : new AnyNode(), {
            minItems: this.#optionalInteger(def, "minItems"),
            maxItems: this.#optionalInteger(def, "maxItems"),
            skipInvalid: this.#optionalBoolean(def, "skipInvalid"),
          });
        case "dictionary":
          return this.#dictionary(def);
        default:
          return new AnyNode();
      }
    } catch (error) {
      // Option checks in the node constructors know what, not where: add the position.
      if (error instanceof SchemaDefinitionError && error.line === 0) {
        this.fail(error.reason, parent, key);
      }
      throw error;
    }
  }

  #dictionary(def: YamlMapping): Node {
    if ("values" in def) {
      for (const field of ["entries", "exclusive", "unknownKeys"]) {
        if (field in def) {
          this.fail(
            `"${field}" does not go with "values" (a map-like dictionary)`,
            def,
            field,
            "key",
          );
        }
      }
      const keys = "keys" in def ? this.type(def.keys, def, "keys") : new StringNode();
      return new MapNode(keys, this.type(def.values, def, "values"), {
        minEntries: this.#optionalInteger(def, "minEntries"),
        maxEntries: this.#optionalInteger(def, "maxEntries"),
        skipInvalid: this.#optionalBoolean(def, "skipInvalid"),
      });
    }
    for (const field of ["keys", "minEntries", "maxEntries", "skipInvalid"]) {
      if (field in def) {
        this.fail(`"${field}" needs "values" (a map-like dictionary)`, def, field, "key");
      }
    }
    const entries = def.entries ?? {};
    if (!isMapping(entries)) {
      this.fail(`"entries" must be a mapping of keys to types`, def, "entries");
    }
    const compiled = Object.entries(entries).map(([key, expr]) => this.#entry(expr, entries, key));
    const unknownKeys = def.unknownKeys;
    if (unknownKeys !== undefined && unknownKeys !== "ignore" && unknownKeys !== "reject") {
      this.fail(
        `"unknownKeys" must be ignore or reject, found ${describeYaml(unknownKeys)}`,
        def,
        "unknownKeys",
      );
    }
    return new DictNode(compiled, {
      exclusive: this.#exclusive(def, entries),
      unknownKeys: unknownKeys,
    });
  }

  #exclusive(def: YamlMapping, entries: YamlMapping): ExclusiveGroup[] {
    const groups = def.exclusive ?? [];
    if (!Array.isArray(groups)) {
      this.fail(`"exclusive" must be a list of key groups`, def, "exclusive");
    }
    return groups.map((group: unknown, i: number): ExclusiveGroup => {
      const mapping = isMapping(group);
      if (mapping) this.#fields(group, ["keys", "required"], "an exclusive group");
      const keys = mapping ? group.keys : group;
      const keysHolder = mapping ? group : groups;
      const keysAt = mapping ? "keys" : i;
      if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== "string")) {
        this.fail(
          "an exclusive group is a list of keys, or a mapping with keys (and required)",
          keysHolder,
          keysAt,
        );
      }
      keys.forEach((k: string, j: number) => {
        if (!(k in entries)) this.fail(`exclusive key "${k}" is not in "entries"`, keys, j);
      });
      const required = mapping ? this.#optionalBoolean(group, "required") ?? false : false;
      if (keys.length < 2 && !required) {
        this.fail("an exclusive group needs two or more keys", keysHolder, keysAt);
      }
      return { keys, required };
    });
  }

  #refined(node: Node, def: YamlMapping): Node {
    if (!("refine" in def)) return node;
    const names = typeof def.refine === "string" ? [def.refine] : def.refine;
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
      this.fail(`"refine" must be a refinement name or a list of them`, def, "refine");
    }
    let refined = node;
    names.forEach((name: string, i: number) => {
      const refinement = Object.hasOwn(this.#refinements, name)
        ? this.#refinements[name]
        : undefined;
      if (refinement === undefined) {
        const known = Object.keys(this.#refinements);
        this.fail(
          `unknown refinement "${name}" (given to loadSchema: ${
            known.length ? quote(known) : "none"
          })`,
          typeof def.refine === "string" ? def : names,
          typeof def.refine === "string" ? "refine" : i,
        );
      }
      refined = new RefineNode(refined, refinement.test, refinement.expected);
    });
    return refined;
  }

  #fields(def: YamlMapping, allowed: readonly string[], what: string): void {
    for (const field of Object.keys(def)) {
      if (!allowed.includes(field)) {
        this.fail(
          `unknown field "${field}" for ${what} (allowed: ${quote(allowed)})`,
          def,
          field,
          "key",
        );
      }
    }
  }

  #optionalInteger(def: YamlMapping, field: string): number | undefined {
    const value = def[field];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      this.fail(`"${field}" must be an integer, found ${describeYaml(value)}`, def, field);
    }
    return value;
  }

  #optionalBoolean(def: YamlMapping, field: string): boolean | undefined {
    const value = def[field];
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.fail(`"${field}" must be true or false, found ${describeYaml(value)}`, def, field);
    }
    return value;
  }

  #optionalString(def: YamlMapping, field: string): string | undefined {
    const value = def[field];
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      this.fail(`"${field}" must be a string, found ${describeYaml(value)}`, def, field);
    }
    return value;
  }

  #optionalStrings(def: YamlMapping, field: string): string[] | undefined {
    const value = def[field];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      this.fail(`"${field}" must be a list of strings, found ${describeYaml(value)}`, def, field);
    }
    return value;
  }
}

/**
 * Loads a YAML schema file and returns its root schema and named types.
 * See {@linkcode loadSchema} for the format.
 *
 * @example
 * ```ts
 * import { loadSchemaDocument } from "@bittern/bittern";
 *
 * const doc = loadSchemaDocument("root: Peer\ntypes:\n  Peer: { type: dictionary }\n");
 * console.log([...doc.types.keys()]); // [ "Peer" ]
 * ```
 *
 * @param yamlText The schema file's text.
 * @param options Refinements the file may name; a size limit.
 * @returns The root schema and the named types.
 */
export function loadSchemaDocument(
  yamlText: string,
  options: LoadSchemaOptions = {},
): SchemaDocument {
  if (typeof yamlText !== "string") {
    throw new SchemaDefinitionError("loadSchema: expected the YAML text as a string");
  }
  const maxLength = options.maxLength ?? DEFAULT_MAX_SCHEMA_LENGTH;
  if (yamlText.length > maxLength) {
    throw new SchemaDefinitionError(`schema text of at most ${maxLength} characters (maxLength)`);
  }
  const { value, source } = parseYaml(yamlText);
  return new Compiler(source, options.refinements ?? {}).document(value);
}

/**
 * Compiles a schema document that was parsed ahead of time: the value js-yaml
 * gives for a schema file (plain objects, lists, strings, numbers, booleans),
 * checked and compiled exactly as {@linkcode loadSchemaDocument} does with
 * the file's text, but without parsing YAML. The shipped metainfo and tracker
 * schemas use it with modules generated from their YAML
 * (`tests/schema/parsed_schemas.ts`), which keeps js-yaml off a download's
 * start-up. Mistakes throw {@linkcode SchemaDefinitionError} without a line
 * and column (there is no text to point into).
 *
 * @param parsed The parsed schema document.
 * @param options Refinements the document may name.
 * @returns The root schema and the named types.
 */
export function compileParsedSchema(
  parsed: unknown,
  options: Pick<LoadSchemaOptions, "refinements"> = {},
): SchemaDocument {
  return new Compiler(NOWHERE, options.refinements ?? {}).document(parsed);
}

/**
 * Loads a YAML schema file and returns its root schema, ready for
 * {@linkcode validate}. The output type is `unknown` unless given as `T`
 * (an assertion: nothing checks that `T` matches the file).
 *
 * The file is one mapping: `root` (a type) and optional `types` (named
 * types, usable anywhere by name, including recursively through lists and
 * dictionaries) and `description`. A type is a name (`string`, `binary`,
 * `integer`, `list`, `dictionary`, `any`, or a named type), or a mapping
 * with `type` (plus that type's fields) or `oneOf` (a list of types). Fields:
 *
 * - `string`: `minLength`, `maxLength` (bytes), `enum` (allowed values), `lossy` (bool)
 * - `binary`: `length`, `minLength`, `maxLength`, `multipleOf`
 * - `integer`: `min`, `max`, `big` (accept integers beyond 2^53 as bigint)
 * - `list`: `items` (a type), `minItems`, `maxItems`, `skipInvalid` (drop bad items)
 * - `dictionary`: `entries` (key → type; an entry mapping may add `required`
 *   or `lenient`), `exclusive` (groups: `[a, b]` at most one, or
 *   `{ keys: [a, b], required: true }` exactly one), `unknownKeys`
 *   (`ignore` | `reject`); or, map-like, `values` (a type), `keys` (a type
 *   for the raw key bytes, default `string`), `minEntries`, `maxEntries`, `skipInvalid`
 * - every type: `description` (free text), `refine` (names from `options.refinements`)
 *
 * Validated values: a `dictionary` with `entries` comes back as a plain object; a map-like
 * `dictionary` (with `values`) comes back as a `Map` from key to value (type it as
 * `Map<string, V>`, or with `keys: binary` as `Map<Uint8Array, V>`), so read it with
 * `.get()` and iterate it with `for (const [key, value] of map)`.
 *
 * Any mistake throws {@linkcode SchemaDefinitionError} with the line and
 * column: YAML syntax, unknown fields or type names, wrong field types,
 * missing `root`, exclusive keys that are not entries, and named types that
 * refer to themselves with no list or dictionary in between.
 *
 * @example A schema with a reusable named type
 * ```ts
 * import { decode, encode, loadSchema, validate } from "@bittern/bittern";
 *
 * const schema = loadSchema<{ tiers: string[][] }>(`
 * root: Announce
 * types:
 *   Url: { type: string, minLength: 1 }
 *   Announce:
 *     type: dictionary
 *     entries:
 *       tiers: { type: list, items: { type: list, items: Url }, required: true }
 * `);
 * const value = validate(schema, decode(encode({ tiers: [["http://t/announce"]] })));
 * console.log(value.tiers[0][0]); // http://t/announce
 * ```
 *
 * @example A map-like dictionary comes back as a `Map`
 * ```ts
 * import { decode, encode, loadSchema, validate } from "@bittern/bittern";
 *
 * const schema = loadSchema<Map<string, number>>(`
 * root: Counts
 * types:
 *   Counts: { type: dictionary, values: { type: integer } }
 * `);
 * const counts = validate(schema, decode(encode({ a: 1, b: 2 })));
 * console.log(counts.get("b")); // 2
 * ```
 *
 * @param yamlText The schema file's text.
 * @param options Refinements the file may name; a size limit.
 * @returns The root schema.
 */
export function loadSchema<T = unknown>(yamlText: string, options?: LoadSchemaOptions): Schema<T> {
  return loadSchemaDocument(yamlText, options).root as Schema<T>;
}
