/** Running a schema over a value: `validate` (throws) and `tryValidate` (returns). */
import { DEFAULT_MAX_DEPTH } from "../bencode/mod.ts";
import { Context } from "./context.ts";
import { SchemaDefinitionError, SchemaError } from "./errors.ts";
import { asNode, INVALID, type Schema } from "./node.ts";

/** Limits for {@linkcode validate}, so hostile input cannot make validation huge or slow. */
export interface ValidateOptions {
  /** Most problems recorded before validation stops. Default 100. */
  readonly maxProblems?: number;
  /** Deepest nesting of lists and dictionaries checked. Default 256 (as the decoder's). */
  readonly maxDepth?: number;
  /** Most union (`oneOf`) alternatives tried in one run. Default 10,000. */
  readonly maxAttempts?: number;
}

/** The outcome of {@linkcode tryValidate}. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SchemaError };

/** Default for {@linkcode ValidateOptions.maxProblems}. */
export const DEFAULT_MAX_PROBLEMS = 100;
/** Default for {@linkcode ValidateOptions.maxAttempts}. */
export const DEFAULT_MAX_ATTEMPTS = 10_000;

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SchemaDefinitionError(`validate: ${name} must be an integer >= 1, not ${value}`);
  }
  return value;
}

/**
 * Checks `value` against `schema` and returns the validated, typed output,
 * or returns a {@linkcode SchemaError} listing every problem (up to
 * `maxProblems`), each with its path. Never throws for bad input.
 *
 * @example
 * ```ts
 * import { decode, model, tryValidate } from "@bittern/bittern";
 *
 * const result = tryValidate(model.integer({ min: 1 }), decode(new TextEncoder().encode("i0e")));
 * if (!result.ok) console.log(result.error.problems[0].expected); // a safe integer >= 1
 * ```
 *
 * @param schema The schema to check against.
 * @param value A decoded bencode value (anything else is reported as a problem).
 * @param options Limits.
 * @returns The output, or the error.
 */
export function tryValidate<T>(
  schema: Schema<T>,
  value: unknown,
  options: ValidateOptions = {},
): ValidationResult<T> {
  const node = asNode(schema, "validate");
  const ctx = new Context(
    limit(options.maxProblems, DEFAULT_MAX_PROBLEMS, "maxProblems"),
    limit(options.maxDepth, DEFAULT_MAX_DEPTH, "maxDepth"),
    limit(options.maxAttempts, DEFAULT_MAX_ATTEMPTS, "maxAttempts"),
  );
  let result;
  try {
    result = node.check(value, ctx);
  } catch (error) {
    if (!(error instanceof RangeError) || !/call stack/i.test(error.message)) throw error;
    const problem = { path: "", expected: "nesting within the call stack (lower maxDepth)" };
    return { ok: false, error: new SchemaError([problem]) };
  }
  if (ctx.exhausted) {
    ctx.problems.push({
      path: "",
      expected: `a value checkable within ${ctx.maxAttempts} union attempts (maxAttempts)`,
    });
  }
  if (result === INVALID || ctx.exhausted) {
    return { ok: false, error: new SchemaError(ctx.problems, ctx.truncated) };
  }
  return { ok: true, value: result };
}

/**
 * Checks `value` against `schema` and returns the validated output, typed
 * by the schema. Throws {@linkcode SchemaError} listing every problem.
 *
 * @example
 * ```ts
 * import { decode, model, validate } from "@bittern/bittern";
 *
 * const tiers = model.list(model.list(model.string()));
 * const value: string[][] = validate(tiers, decode(new TextEncoder().encode("ll1:aee")));
 * console.log(value); // [ [ "a" ] ]
 * ```
 *
 * @param schema The schema to check against.
 * @param value A decoded bencode value.
 * @param options Limits.
 * @returns The validated output.
 */
export function validate<T>(schema: Schema<T>, value: unknown, options?: ValidateOptions): T {
  const result = tryValidate(schema, value, options);
  if (result.ok) return result.value;
  throw result.error;
}
