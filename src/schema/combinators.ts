/** Nodes that combine others: unions (`oneOf`) and late-bound references (named types, `lazy`). */
import type { Context } from "./context.ts";
import { type Problem, SchemaDefinitionError } from "./errors.ts";
import {
  asNode,
  boundedText,
  type Checked,
  describeValue,
  INVALID,
  kindOf,
  Node,
  RefineNode,
  type Schema,
} from "./node.ts";

/** Kind bit (1, 2, 4, 8) to its slot in a per-kind table. */
const KIND_SLOT: Readonly<Record<number, number>> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/**
 * A value matching one of several nodes; the first that matches wins.
 * Alternatives are picked by bencode kind first, so `binary | list` costs
 * one check; same-kind alternatives are tried in order, quietly.
 */
export class OneOfNode<T> extends Node<T> {
  readonly alternatives: readonly Node[];
  #expected: string | undefined;
  #byKind: (readonly Node[])[] | undefined;

  constructor(alternatives: readonly Node[]) {
    super();
    if (alternatives.length === 0) {
      throw new SchemaDefinitionError("oneOf needs at least one alternative");
    }
    this.alternatives = alternatives;
  }

  get expected(): string {
    this.#expected ??= boundedText(
      `one of: ${this.alternatives.map((node) => node.expected).join(" | ")}`,
    );
    return this.#expected;
  }

  #kinds = -1;

  kinds(): number {
    if (this.#kinds < 0) {
      let kinds = 0;
      for (const node of this.alternatives) kinds |= node.kinds();
      this.#kinds = kinds;
    }
    return this.#kinds;
  }

  #candidates(kind: number): readonly Node[] {
    this.#byKind ??= [1, 2, 4, 8].map((bit) =>
      this.alternatives.filter((node) => (node.kinds() & bit) !== 0)
    );
    const slot = KIND_SLOT[kind];
    return slot === undefined ? [] : this.#byKind[slot];
  }

  check(value: unknown, ctx: Context): Checked<T> {
    const candidates = this.#candidates(kindOf(value));
    if (candidates.length === 0) {
      ctx.report(this.expected, describeValue(value));
      return INVALID;
    }
    if (candidates.length === 1) return candidates[0].check(value, ctx) as Checked<T>;
    ctx.quiet++;
    for (const node of candidates) {
      if (!ctx.attempt()) break;
      const result = node.check(value, ctx);
      if (result !== INVALID) {
        ctx.quiet--;
        return result as Checked<T>;
      }
    }
    ctx.quiet--;
    if (ctx.quiet === 0 && !ctx.full) this.#reportClosest(candidates, value, ctx);
    return INVALID;
  }

  /** Reports the problems of the alternative that came closest (fewest problems). */
  #reportClosest(candidates: readonly Node[], value: unknown, ctx: Context): void {
    if (ctx.retrying > 0 || !ctx.attempt()) {
      // Nested inside another union's report: a summary keeps this linear.
      ctx.report(this.expected, describeValue(value));
      return;
    }
    const start = ctx.problems.length;
    let best: Problem[] | undefined;
    let bestTruncated = false;
    ctx.retrying++;
    for (const node of candidates) {
      node.check(value, ctx);
      const problems = ctx.problems.splice(start);
      if (best === undefined || problems.length < best.length) {
        best = problems;
        bestTruncated = ctx.truncated;
      }
      ctx.full = false;
      ctx.truncated = false;
    }
    ctx.retrying--;
    ctx.problems.push(...(best ?? []));
    ctx.truncated = bestTruncated;
    ctx.full = ctx.problems.length >= ctx.maxProblems;
  }
}

/**
 * A node resolved on first use: a named type of a YAML schema, or
 * `model.lazy(() => ...)` for recursive models.
 */
export class LazyNode<T> extends Node<T> {
  /** The type name, when this is a named type. */
  readonly name: string | undefined;
  #target: Node<T> | undefined;
  #resolve: (() => Schema<T>) | undefined;

  constructor(resolve: (() => Schema<T>) | undefined, name?: string) {
    super();
    this.#resolve = resolve;
    this.name = name;
  }

  /** Binds the target directly (YAML named types, after all are compiled). */
  bind(target: Node<T>): void {
    this.#target = target;
    this.#resolve = undefined;
  }

  get target(): Node<T> {
    if (this.#target === undefined) {
      const resolve = this.#resolve;
      if (resolve === undefined) {
        throw new SchemaDefinitionError(`type ${this.name ?? "(lazy)"} was never defined`);
      }
      this.#resolve = undefined;
      this.#target = asNode(resolve(), "model.lazy");
      const cycle = bareCycle(this);
      if (cycle) throw new SchemaDefinitionError(cycle);
    }
    return this.#target;
  }

  #expected: string | undefined;

  get expected(): string {
    this.#expected ??= this.name === undefined
      ? this.target.expected
      : boundedText(`${this.name} (${this.target.expected})`);
    return this.#expected;
  }

  #kinds = -1;

  kinds(): number {
    if (this.#kinds < 0) this.#kinds = this.target.kinds();
    return this.#kinds;
  }

  check(value: unknown, ctx: Context): Checked<T> {
    return (this.#target ?? this.target).check(value, ctx);
  }
}

/**
 * Finds a reference cycle that passes through no container (`A: B`, `B: A`,
 * or `A: oneOf [A, ...]`), which could never finish checking a value.
 * Returns a description of the cycle, or `undefined`.
 */
export function bareCycle(start: LazyNode<unknown>): string | undefined {
  const trail: string[] = [];
  const visiting = new Set<Node>();
  const walk = (node: Node): boolean => {
    if (node === start && trail.length > 0) return true;
    if (visiting.has(node)) return false;
    visiting.add(node);
    let next: readonly Node[] = [];
    if (node instanceof LazyNode) next = [node.target];
    else if (node instanceof RefineNode) next = [node.inner];
    else if (node instanceof OneOfNode) next = node.alternatives;
    if (node instanceof LazyNode) trail.push(node.name ?? "(lazy)");
    for (const child of next) if (walk(child)) return true;
    if (node instanceof LazyNode) trail.pop();
    return false;
  };
  if (!walk(start)) return undefined;
  return `type ${start.name ?? "(lazy)"} refers to itself without a list or dictionary ` +
    `in between (${[...trail, start.name ?? "(lazy)"].join(" -> ")}), so no value could end it`;
}
