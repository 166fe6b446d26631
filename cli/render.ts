// deno-lint-ignore-file no-console -- command-line output is this file's job
/** Shared rendering for the metainfo commands. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { TorrentFile } from "../src/metainfo/mod.ts";
import { explain } from "./session_command.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

interface TreeNode {
  children: Map<string, TreeNode>;
  length?: number;
}

/** Lines of an indented file tree with sizes, e.g. `  dir/` then `    a.txt  1.0 KiB`. */
export function fileTreeLines(files: readonly TorrentFile[]): string[] {
  const root: TreeNode = { children: new Map() };
  for (const file of files) {
    let node = root;
    for (const segment of file.path) {
      let child = node.children.get(segment);
      if (!child) {
        child = { children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.length = file.length;
  }
  const lines: string[] = [];
  const visit = (node: TreeNode, depth: number) => {
    for (const [name, child] of node.children) {
      const indent = "  ".repeat(depth + 1);
      if (child.length !== undefined && child.children.size === 0) {
        lines.push(`${indent}${name}  ${formatBytes(child.length)}`);
      } else {
        lines.push(`${indent}${name}/`);
        visit(child, depth + 1);
      }
    }
  };
  visit(root, 0);
  return lines;
}

/**
 * Prints `error` as one line on stderr, prefixed by the command (a missing
 * permission as just the flag to add); returns exit code 1.
 */
export function reportError(command: string, error: unknown): number {
  console.error(explain(command, error));
  return 1;
}

/** Prints a flag problem and the usage on stderr; returns exit code 2. */
export function usageError(command: string, problem: string, usage: string): number {
  console.error(`bittern ${command}: ${problem}\n\n${usage}`);
  return 2;
}

/**
 * Parses a command's flags; prints the usage for `--help` (exit 0) or a bad
 * flag (exit 2) and returns the exit code instead of the flags.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(command, (error as Error).message, usage);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}
