/**
 * Object models for bencoded documents: describe a shape in TypeScript
 * ({@linkcode model}) or in a YAML schema file ({@linkcode loadSchema}), then
 * {@linkcode validate} decoded values against it. The output is plain, typed
 * JS; a mismatch throws a {@linkcode SchemaError} listing every problem with
 * its path, like `info.files[3].path[0]`.
 *
 * @example TypeScript model
 * ```ts
 * import { decode, encode, model, validate } from "@bittern/bittern";
 *
 * const file = model.dict({
 *   length: model.integer({ min: 0 }).required(),
 *   path: model.list(model.string(), { minItems: 1 }).required(),
 * });
 * const value = validate(file, decode(encode({ length: 3, path: ["a", "b.txt"] })));
 * console.log(value.path.join("/")); // a/b.txt
 * ```
 *
 * @example YAML schema
 * ```ts
 * import { decode, encode, loadSchema, validate } from "@bittern/bittern";
 *
 * const schema = loadSchema("root: { type: list, items: { type: integer, min: 0 } }\n");
 * console.log(validate(schema, decode(encode([1, 2])))); // [ 1, 2 ]
 * ```
 *
 * @module
 */
export { model } from "./builder.ts";
export type {
  DictOutput,
  DictShape,
  EntryOutput,
  Flatten,
  Infer,
  ModelBuilder,
  RequiredKeys,
} from "./builder.ts";
export type { Entry, Schema } from "./node.ts";
export type { BinaryOptions, IntegerOptions, StringOptions } from "./scalars.ts";
export type { DictOfOptions, DictOptions, ExclusiveGroup, ListOptions } from "./containers.ts";
export { formatProblem, SchemaDefinitionError, SchemaError } from "./errors.ts";
export type { Problem } from "./errors.ts";
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_PROBLEMS, tryValidate, validate } from "./validate.ts";
export type { ValidateOptions, ValidationResult } from "./validate.ts";
export { loadSchema, loadSchemaDocument } from "./yaml_loader.ts";
export type { LoadSchemaOptions, Refinement, SchemaDocument } from "./yaml_loader.ts";
