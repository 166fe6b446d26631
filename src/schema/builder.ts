/** The TypeScript builder: `model.dict({...})` and friends, with output types inferred. */
import type { BencodeValue } from "../bencode/mod.ts";
import { LazyNode, OneOfNode } from "./combinators.ts";
import {
  type CompiledEntry,
  DictNode,
  type DictOfOptions,
  type DictOptions,
  ListNode,
  type ListOptions,
  MapNode,
} from "./containers.ts";
import { SchemaDefinitionError } from "./errors.ts";
import { asNode, type Entry, EntryImpl, type Schema } from "./node.ts";
import {
  AnyNode,
  BinaryNode,
  type BinaryOptions,
  IntegerNode,
  type IntegerOptions,
  StringNode,
  type StringOptions,
} from "./scalars.ts";

/**
 * The validated output type of a schema.
 *
 * @example
 * ```ts
 * import { type Infer, model } from "@bittern/bittern";
 *
 * const file = model.dict({ length: model.integer().required(), md5sum: model.string() });
 * type File = Infer<typeof file>; // { length: number; md5sum?: string }
 * ```
 */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/**
 * The entries of a {@linkcode ModelBuilder.dict} model: a schema (an optional
 * entry) or an {@linkcode Entry} (required or lenient) per key.
 *
 * @example
 * ```ts
 * import { type DictShape, model } from "@bittern/bittern";
 *
 * const shape: DictShape = { name: model.string().required(), comment: model.string() };
 * ```
 */
export type DictShape = { readonly [key: string]: Schema<unknown> | Entry<unknown, boolean> };

/**
 * The output type of one dictionary entry.
 *
 * @example
 * ```ts
 * import { type EntryOutput, model } from "@bittern/bittern";
 *
 * const entry = model.integer().required();
 * const length: EntryOutput<typeof entry> = 3;
 * ```
 */
export type EntryOutput<E> = E extends Entry<infer T, boolean> ? T
  : E extends Schema<infer T> ? T
  : never;

/**
 * The keys of a {@linkcode DictShape} that are required entries.
 *
 * @example
 * ```ts
 * import { model, type RequiredKeys } from "@bittern/bittern";
 *
 * const shape = { name: model.string().required(), comment: model.string() };
 * const key: RequiredKeys<typeof shape> = "name";
 * ```
 */
export type RequiredKeys<S> = {
  [K in keyof S]-?: S[K] extends Entry<unknown, true> ? K : never;
}[keyof S];

/**
 * Flattens an intersection of object types into one object type (for readable hovers).
 *
 * @example
 * ```ts
 * import type { Flatten } from "@bittern/bittern";
 *
 * const value: Flatten<{ a: number } & { b?: string }> = { a: 1 };
 * ```
 */
export type Flatten<T> = { [K in keyof T]: T[K] } & unknown;

/**
 * The output type of a dictionary model: required entries as required
 * properties, the others as optional properties.
 *
 * @example
 * ```ts
 * import { type DictOutput, model } from "@bittern/bittern";
 *
 * const shape = { name: model.string().required(), comment: model.string() };
 * const value: DictOutput<typeof shape> = { name: "x" };
 * ```
 */
export type DictOutput<S extends DictShape> = Flatten<
  & { -readonly [K in RequiredKeys<S>]: EntryOutput<S[K]> }
  & { -readonly [K in Exclude<keyof S, RequiredKeys<S>>]?: EntryOutput<S[K]> }
>;

/**
 * Builds schemas in TypeScript. Every schema's output type is inferred, so
 * {@linkcode validate} returns a typed value.
 *
 * Input values are decoded bencode. Outputs are plain JS: text strings as
 * `string`, binary strings as `Uint8Array` (views into the input, not
 * copies), integers as `number` (or `bigint` with `big`), lists as arrays,
 * modelled dictionaries as plain objects holding only the declared keys
 * (absent optional entries are omitted), `dictOf` dictionaries as `Map`s.
 *
 * @example A small metainfo model
 * ```ts
 * import { decode, encode, model, validate } from "@bittern/bittern";
 *
 * const info = model.dict({
 *   name: model.string().required(),
 *   "piece length": model.integer({ min: 1 }).required(),
 *   pieces: model.binary({ multipleOf: 20 }).required(),
 *   length: model.integer({ min: 0 }),
 *   files: model.list(model.dict({
 *     length: model.integer({ min: 0 }).required(),
 *     path: model.list(model.string(), { minItems: 1 }).required(),
 *   })),
 * }, { exclusive: [{ keys: ["length", "files"], required: true }] });
 *
 * const bytes = encode({ name: "a", "piece length": 16384, pieces: new Uint8Array(20), length: 5 });
 * const value = validate(info, decode(bytes));
 * console.log(value.name, value["piece length"]); // a 16384
 * ```
 */
export interface ModelBuilder {
  /**
   * A byte string holding UTF-8 text, output as a JS string.
   *
   * @param options Length limits (in bytes), allowed values, lossy decoding.
   * @returns The schema.
   */
  string<E extends string = string>(options?: StringOptions<E>): Schema<E>;
  /**
   * A byte string of any content, output as a `Uint8Array` view.
   *
   * @param options Length limits and a required multiple.
   * @returns The schema.
   */
  binary(options?: BinaryOptions): Schema<Uint8Array>;
  /**
   * A safe integer, output as a `number`.
   *
   * @param options Range limits.
   * @returns The schema.
   */
  integer(options?: IntegerOptions & { readonly big?: false }): Schema<number>;
  /**
   * Any integer, output as a `number` when safe and a `bigint` otherwise.
   *
   * @param options Range limits, with `big: true`.
   * @returns The schema.
   */
  integer(options: IntegerOptions & { readonly big: true }): Schema<number | bigint>;
  /**
   * A list whose items all match `items`, output as an array.
   *
   * @param items The schema of every item.
   * @param options Item count limits; whether to drop invalid items.
   * @returns The schema.
   */
  list<T>(items: Schema<T>, options?: ListOptions): Schema<T[]>;
  /**
   * A dictionary with declared entries, output as a plain object with only
   * those keys. Entries are optional unless marked `.required()`; keys not
   * declared are ignored (or rejected with `unknownKeys: "reject"`).
   *
   * @param entries The entries, by key.
   * @param options Exclusive key groups; handling of unknown keys.
   * @returns The schema.
   */
  dict<S extends DictShape>(
    entries: S,
    options?: DictOptions<keyof S & string>,
  ): Schema<DictOutput<S>>;
  /**
   * A dictionary used as a map: any keys (checked by `options.keys`), every
   * value matching `values`; output as a `Map` in document order.
   *
   * @param values The schema of every value.
   * @param options The key schema (default UTF-8 text); entry count limits.
   * @returns The schema.
   */
  dictOf<V, K = string>(values: Schema<V>, options?: DictOfOptions<K>): Schema<Map<K, V>>;
  /**
   * A value matching one of `alternatives` (the first that matches).
   *
   * @param alternatives The schemas, in order of preference.
   * @returns The schema.
   */
  oneOf<A extends readonly Schema<unknown>[]>(...alternatives: A): Schema<Infer<A[number]>>;
  /**
   * A schema resolved on first use, for recursive models.
   *
   * @param resolve Returns the schema.
   * @returns The schema.
   */
  lazy<T>(resolve: () => Schema<T>): Schema<T>;
  /**
   * Any bencode value, passed through unchanged (not checked inside).
   *
   * @returns The schema.
   */
  any(): Schema<BencodeValue>;
}

function compileEntries(entries: DictShape): CompiledEntry[] {
  if (entries === null || typeof entries !== "object") {
    throw new SchemaDefinitionError("model.dict: entries must be an object of schemas");
  }
  return Object.entries(entries).map(([key, entry]) => {
    if (entry instanceof EntryImpl) {
      const node = asNode(entry.schema, `model.dict entry ${JSON.stringify(key)}`);
      return { key, node, required: entry.isRequired, lenient: entry.isLenient };
    }
    const node = asNode(entry as Schema<unknown>, `model.dict entry ${JSON.stringify(key)}`);
    return { key, node, required: false, lenient: false };
  });
}

/**
 * The schema builder. See {@linkcode ModelBuilder} for each function.
 *
 * @example
 * ```ts
 * import { decode, model, validate } from "@bittern/bittern";
 *
 * const peer = model.dict({ ip: model.string().required(), port: model.integer().required() });
 * const value = validate(peer, decode(new TextEncoder().encode("d2:ip9:127.0.0.14:porti6881ee")));
 * console.log(value.port); // 6881
 * ```
 */
export const model: ModelBuilder = {
  string: <E extends string = string>(options?: StringOptions<E>): Schema<E> =>
    new StringNode<E>(options),
  binary: (options?: BinaryOptions): Schema<Uint8Array> => new BinaryNode(options),
  integer: ((options?: IntegerOptions) => new IntegerNode(options)) as ModelBuilder["integer"],
  list: <T>(items: Schema<T>, options?: ListOptions): Schema<T[]> =>
    new ListNode(asNode(items, "model.list"), options),
  dict: <S extends DictShape>(
    entries: S,
    options?: DictOptions<keyof S & string>,
  ): Schema<DictOutput<S>> => new DictNode<DictOutput<S>>(compileEntries(entries), options),
  dictOf: <V, K = string>(values: Schema<V>, options?: DictOfOptions<K>): Schema<Map<K, V>> => {
    const keys = options?.keys === undefined
      ? new StringNode() as unknown as Schema<K>
      : options.keys;
    return new MapNode(asNode(keys, "model.dictOf keys"), asNode(values, "model.dictOf"), options);
  },
  oneOf: <A extends readonly Schema<unknown>[]>(...alternatives: A): Schema<Infer<A[number]>> =>
    new OneOfNode(alternatives.map((schema) => asNode(schema, "model.oneOf"))),
  lazy: <T>(resolve: () => Schema<T>): Schema<T> => {
    if (typeof resolve !== "function") {
      throw new SchemaDefinitionError("model.lazy: expected a function returning a schema");
    }
    return new LazyNode(resolve);
  },
  any: (): Schema<BencodeValue> => new AnyNode(),
};
