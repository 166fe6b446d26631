/** The typed errors of the schema module. */

/** One way a value failed to match its schema. */
export interface Problem {
  /**
   * Where, like `info.files[3].path[0]`: dictionary entries as `.key` (or
   * `["piece length"]` when the key is not a plain word), list items as
   * `[index]`. The root value is `""`.
   */
  readonly path: string;
  /** What the schema expected there, e.g. `an integer >= 1`. */
  readonly expected: string;
  /** What was found instead, e.g. `a list of 2 items`, when that helps. */
  readonly found?: string;
}

/** Most problems spelled out in a {@linkcode SchemaError} message; all stay in `problems`. */
const MESSAGE_PROBLEM_LINES = 20;

/**
 * Formats one problem as a line: `path: expected X, found Y`.
 *
 * @example
 * ```ts
 * import { formatProblem } from "@bittern/bittern";
 *
 * console.log(formatProblem({ path: "info.name", expected: "a string", found: "the integer 3" }));
 * // info.name: expected a string, found the integer 3
 * ```
 *
 * @param problem The problem to format.
 * @returns One line of text.
 */
export function formatProblem(problem: Problem): string {
  const where = problem.path === "" ? "(root)" : problem.path;
  const found = problem.found === undefined ? "" : `, found ${problem.found}`;
  return `${where}: expected ${problem.expected}${found}`;
}

/**
 * Thrown by {@linkcode validate} when a value does not match its schema. Lists
 * every problem found (up to `maxProblems`), not just the first.
 *
 * @example Listing what is wrong
 * ```ts
 * import { decode, model, SchemaError, validate } from "@bittern/bittern";
 *
 * const schema = model.dict({ name: model.string().required() });
 * try {
 *   validate(schema, decode(new TextEncoder().encode("d4:namei3ee")));
 * } catch (error) {
 *   if (error instanceof SchemaError) console.log(error.problems[0].path); // name
 * }
 * ```
 */
export class SchemaError extends Error {
  /** Every problem recorded, in document order. */
  readonly problems: readonly Problem[];
  /** Whether checking stopped at `maxProblems`, so more problems may exist. */
  readonly truncated: boolean;

  /**
   * Creates an error listing `problems`.
   *
   * @param problems The problems, at least one.
   * @param truncated Whether recording stopped at the problem limit.
   */
  constructor(problems: readonly Problem[], truncated = false) {
    const count = problems.length;
    const lines = problems.slice(0, MESSAGE_PROBLEM_LINES).map((p) => `  ${formatProblem(p)}`);
    if (count > MESSAGE_PROBLEM_LINES) lines.push(`  … and ${count - MESSAGE_PROBLEM_LINES} more`);
    if (truncated) lines.push("  (stopped at the problem limit; there may be more)");
    const heading = count === 1 ? "1 problem" : `${count}${truncated ? "+" : ""} problems`;
    super(`schema: value does not match (${heading}):\n${lines.join("\n")}`);
    this.name = "SchemaError";
    this.problems = problems;
    this.truncated = truncated;
  }
}

/**
 * Thrown when a schema itself is wrong: a YAML schema file that does not
 * parse or breaks the schema format (with its line and column), or a
 * builder call with impossible options.
 *
 * @example Reporting a bad schema file
 * ```ts
 * import { loadSchema, SchemaDefinitionError } from "@bittern/bittern";
 *
 * try {
 *   loadSchema("root: Missing\n");
 * } catch (error) {
 *   if (error instanceof SchemaDefinitionError) console.log(error.line, error.reason);
 * }
 * ```
 */
export class SchemaDefinitionError extends Error {
  /** 1-based line of the offending YAML node, or 0 when not from a file. */
  readonly line: number;
  /** 1-based column of the offending YAML node, or 0 when not from a file. */
  readonly column: number;
  /** What is wrong, without the position. */
  readonly reason: string;

  /**
   * Creates an error for `reason` at `line`:`column`.
   *
   * @param reason What is wrong.
   * @param line 1-based line, or 0 when there is no file.
   * @param column 1-based column, or 0 when there is no file.
   * @param options Standard error options (`cause`).
   */
  constructor(reason: string, line = 0, column = 0, options?: ErrorOptions) {
    const where = line > 0 ? ` at line ${line}, column ${column}` : "";
    super(`schema definition${where}: ${reason}`, options);
    this.name = "SchemaDefinitionError";
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
