/** Text formatting shared by the commands: sizes, durations, file trees, index lists. */
import type { TorrentFile } from "../mod.ts";

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

/** `83` -> `1m23s`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/** `[0, 1, 2, 5, 7, 8]` -> `0-2, 5, 7-8` (sorted input). */
export function formatRanges(indices: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length; i++) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(j === i ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j;
  }
  return parts.join(", ");
}

interface TreeNode {
  children: Map<string, TreeNode>;
  length?: number;
  index?: number;
  note?: string;
}

/** BEP 47 attributes of a file as a suffix, e.g. `  (executable, hidden)` or `  -> a/b`. */
function attributeNote(file: TorrentFile): string {
  const flags = [file.executable && "executable", file.hidden && "hidden"].filter(Boolean);
  const target = file.symlinkTarget ? `  -> ${file.symlinkTarget.join("/")}` : "";
  return `${flags.length > 0 ? `  (${flags.join(", ")})` : ""}${target}`;
}

/**
 * Lines of an indented file tree with sizes, e.g. `  dir/` then `    [0] a.txt  1.0 KiB`;
 * `[n]` is the file's index for `--files` (its position in `files`).
 */
export function fileTreeLines(files: readonly TorrentFile[]): string[] {
  const root: TreeNode = { children: new Map() };
  files.forEach((file, index) => {
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
    node.index = index;
    node.note = attributeNote(file);
  });
  const lines: string[] = [];
  const visit = (node: TreeNode, depth: number) => {
    for (const [name, child] of node.children) {
      const indent = "  ".repeat(depth + 1);
      if (child.length !== undefined && child.children.size === 0) {
        lines.push(
          `${indent}[${child.index}] ${name}  ${formatBytes(child.length)}${child.note ?? ""}`,
        );
      } else {
        lines.push(`${indent}${name}/`);
        visit(child, depth + 1);
      }
    }
  };
  visit(root, 0);
  return lines;
}
