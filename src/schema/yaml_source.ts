/**
 * Parsing YAML with js-yaml while remembering where every mapping key,
 * mapping value and sequence item starts, so schema-file errors can name a
 * line and column. js-yaml's `listener` reports each node's open and close;
 * the nesting of those events mirrors the document.
 */
// Deferred: the library's own schemas are parsed ahead of time, so js-yaml is evaluated only on a
// user's first loadSchema, not by every program (a download) importing mod.ts.
// deno-lint-ignore no-import-prefix -- a full specifier, so mod.ts imported by path from another project resolves it
import defer * as jsYaml from "npm:js-yaml@4";
import { SchemaDefinitionError } from "./errors.ts";

/** The parts of js-yaml used here, typed (the package ships no types). */
interface YamlModule {
  load(text: string, options: {
    schema: unknown;
    maxDepth: number;
    listener: (event: string, state: { position: number; result: unknown }) => void;
  }): unknown;
  readonly CORE_SCHEMA: unknown;
}

/** The shape of js-yaml's `YAMLException`. */
interface YamlException {
  readonly reason?: string;
  readonly mark?: { readonly line: number; readonly column: number };
}

/** Reading a property of the deferred namespace, not naming it, evaluates js-yaml. */
const yaml: YamlModule = jsYaml;

/** Deepest YAML nesting accepted in a schema file. */
const MAX_YAML_DEPTH = 64;

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

interface Frame {
  start: number;
  result: unknown;
  children: Frame[];
}

interface Located {
  /** Where the container itself starts. */
  readonly start: number;
  /** For mappings: key text -> [key offset, value offset or -1 when the value is empty]. */
  readonly entries?: Map<string, [number, number]>;
  /** For sequences: item offsets. */
  readonly items?: number[];
}

/** Positions of the nodes of one parsed YAML document. */
export class SourceMap {
  readonly #text: string;
  readonly #lineStarts: number[] = [0];
  readonly #located = new WeakMap<object, Located>();

  constructor(text: string, root: Frame) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.#lineStarts.push(i + 1);
    this.#record(root);
  }

  #record(root: Frame): void {
    // Iterative walk: schema files are small, but nesting must not recurse unbounded.
    const pending: Frame[] = [root];
    while (pending.length > 0) {
      const frame = unwrap(pending.pop() as Frame);
      const { result } = frame;
      if (result === null || typeof result !== "object" || this.#located.has(result)) continue;
      const children = frame.children.map(unwrap);
      if (Array.isArray(result)) {
        this.#located.set(result, { start: frame.start, items: children.map((c) => c.start) });
      } else {
        const entries = new Map<string, [number, number]>();
        for (let i = 0; i + 1 < children.length; i += 2) {
          const value = children[i + 1];
          const empty = value.result === null || value.result === undefined;
          entries.set(String(children[i].result), [children[i].start, empty ? -1 : value.start]);
        }
        this.#located.set(result, { start: frame.start, entries });
      }
      pending.push(...children);
    }
  }

  /**
   * Where `container[key]` is: its value (or, with `part: "key"`, its key);
   * the key when the value is empty; the container when the key is absent.
   */
  at(container: unknown, key?: string | number, part: "key" | "value" = "value"): Position {
    const located = container !== null && typeof container === "object"
      ? this.#located.get(container)
      : undefined;
    if (located === undefined) return { line: 1, column: 1 };
    let offset = located.start;
    if (typeof key === "number" && located.items?.[key] !== undefined) {
      offset = located.items[key];
    } else if (typeof key === "string") {
      const entry = located.entries?.get(key);
      if (entry) offset = part === "key" || entry[1] < 0 ? entry[0] : entry[1];
    }
    return this.#position(offset);
  }

  #position(offset: number): Position {
    const text = this.#text;
    let pos = offset;
    // Node starts may sit before the separating blanks and comments; skip them.
    while (pos < text.length) {
      const c = text[pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") pos++;
      else if (c === "#") { while (pos < text.length && text[pos] !== "\n") pos++; }
      else break;
    }
    if (pos >= text.length) pos = offset;
    const starts = this.#lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= pos) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: pos - starts[low] + 1 };
  }
}

/** js-yaml wraps some nodes (sequence items, explicit keys) in a frame with the same result. */
function unwrap(frame: Frame): Frame {
  let current = frame;
  while (current.children.length === 1 && current.children[0].result === current.result) {
    current = current.children[0];
  }
  return current;
}

/**
 * Parses one YAML document (core schema: no custom tags, no merge keys)
 * and maps its nodes to positions. Syntax errors become
 * {@linkcode SchemaDefinitionError}s with js-yaml's line and column.
 */
export function parseYaml(text: string): { value: unknown; source: SourceMap } {
  const root: Frame = { start: 0, result: undefined, children: [] };
  const stack: Frame[] = [root];
  let value: unknown;
  try {
    value = yaml.load(text, {
      schema: yaml.CORE_SCHEMA,
      maxDepth: MAX_YAML_DEPTH,
      listener(event, state) {
        if (event === "open") {
          stack.push({ start: state.position, result: undefined, children: [] });
        } else if (event === "close" && stack.length > 1) {
          const frame = stack.pop() as Frame;
          frame.result = state.result;
          stack[stack.length - 1].children.push(frame);
        }
      },
    });
  } catch (error) {
    const { reason, mark } = error as YamlException;
    if (mark === undefined) throw error;
    const message = `YAML syntax: ${reason ?? String(error)}`;
    throw new SchemaDefinitionError(message, mark.line + 1, mark.column + 1, { cause: error });
  }
  const top = root.children.length === 1 ? root.children[0] : root;
  return { value, source: new SourceMap(text, top) };
}
