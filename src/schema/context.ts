/**
 * The state of one validation run: where we are (a path stack of primitives,
 * formatted only when a problem is recorded) and what went wrong so far.
 */
import type { Problem } from "./errors.ts";

/** Path segments are list indices (numbers) or pre-formatted entry segments (".name"). */
type Segment = string | number;

/** Mutable state threaded through every node's `check`. */
export class Context {
  readonly problems: Problem[] = [];
  readonly maxProblems: number;
  readonly maxDepth: number;
  readonly maxAttempts: number;
  /** Union alternatives tried so far (bounded by `maxAttempts`). */
  attempts = 0;
  /** Whether `maxAttempts` ran out: the value is then rejected whatever else happened. */
  exhausted = false;
  /** > 0 while a union re-checks its alternatives to report the closest one. */
  retrying = 0;
  /** Container nesting depth right now. */
  depth = 0;
  /** > 0 while trying alternatives or lenient entries: failures are signalled, not recorded. */
  quiet = 0;
  /** Set once `maxProblems` is reached: containers stop scanning. */
  full = false;
  /** Whether checking stopped at `maxProblems` (so there may be more). */
  truncated = false;
  #segments: Segment[] = [];

  constructor(maxProblems: number, maxDepth: number, maxAttempts: number) {
    this.maxProblems = maxProblems;
    this.maxDepth = maxDepth;
    this.maxAttempts = maxAttempts;
  }

  /**
   * Counts one union alternative about to be tried. Returns false once the
   * budget is spent, so ambiguous unions nested in hostile input cannot take
   * exponential time.
   */
  attempt(): boolean {
    if (this.attempts >= this.maxAttempts) {
      this.exhausted = true;
      return false;
    }
    this.attempts++;
    return true;
  }

  /** Whether a failing container should stop looking at further children. */
  get stopping(): boolean {
    return this.quiet > 0 || this.full;
  }

  push(segment: Segment): void {
    this.#segments.push(segment);
  }

  pop(): void {
    this.#segments.pop();
  }

  /** Replaces the innermost segment (a list walks its indices in one pushed slot). */
  replace(segment: Segment): void {
    this.#segments[this.#segments.length - 1] = segment;
  }

  /** Records a problem at the current path (unless quiet or full). */
  report(expected: string, found?: string): void {
    if (this.quiet > 0) return;
    if (this.problems.length >= this.maxProblems) {
      this.truncated = true;
      this.full = true;
      return;
    }
    this.problems.push(
      found === undefined
        ? { path: this.path(), expected }
        : { path: this.path(), expected, found },
    );
    if (this.problems.length >= this.maxProblems) this.full = this.truncated = true;
  }

  /** The current path, e.g. `info.files[3].path[0]`. */
  path(): string {
    let text = "";
    for (const segment of this.#segments) {
      text += typeof segment === "number" ? `[${segment}]` : segment;
    }
    return text.startsWith(".") ? text.slice(1) : text;
  }

  /**
   * Enters a container. Returns false (after recording why) when that would
   * nest deeper than `maxDepth`; the caller must then not descend.
   */
  enter(): boolean {
    if (this.depth >= this.maxDepth) {
      this.report(`nesting of at most ${this.maxDepth} levels (maxDepth)`);
      return false;
    }
    this.depth++;
    return true;
  }

  leave(): void {
    this.depth--;
  }
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** The path segment for dictionary key `key`: `.key`, or `["key"]` when not a plain word. */
export function keySegment(key: string): string {
  return PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
