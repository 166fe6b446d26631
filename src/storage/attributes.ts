/**
 * BEP 47 file attributes on disk: symlink entries become relative symlinks inside the
 * download directory, executable (`x`) files get execute bits.
 */
import type { FileHandle } from "node:fs/promises";
import { PermissionError } from "../util/permissions.ts";

/**
 * The text of a symlink at `linkPath` pointing at `target`, both safe segments under the
 * same root: relative, so it climbs no higher than the root (no segment is `..`, so the
 * climb is exactly the link's depth) and moving the download directory keeps it working.
 */
export function relativeLinkTarget(
  linkPath: readonly string[],
  target: readonly string[],
): string {
  const linkDir = linkPath.slice(0, -1);
  let common = 0;
  while (
    common < linkDir.length && common < target.length - 1 && linkDir[common] === target[common]
  ) {
    common++;
  }
  const up = linkDir.slice(common).map(() => "..");
  return [...up, ...target.slice(common)].join("/");
}

/**
 * Why a symlink cannot be made here, or `undefined` when it can: Deno creates
 * symlinks only with unscoped `--allow-read` and `--allow-write` (a link's
 * target is resolved only when followed, so path-scoped grants cannot cover it).
 */
export function symlinkPermissionProblem(path: string): PermissionError | undefined {
  const granted = (name: "read" | "write") => Deno.permissions.querySync({ name }).state;
  if (granted("read") === "granted" && granted("write") === "granted") return undefined;
  return new PermissionError(
    `creating the symlink ${path} (Deno allows symlinks only without a path scope)`,
    "--allow-read --allow-write",
  );
}

/**
 * Adds execute bits where the file has read bits (`644` becomes `755`), as `chmod +x`
 * does under the usual umask; through the open handle, so no permission beyond
 * the one that opened it is needed.
 */
export async function addExecuteBits(handle: FileHandle): Promise<void> {
  const mode = (await handle.stat()).mode & 0o7777;
  const executable = mode | ((mode & 0o444) >> 2);
  if (executable !== mode) await handle.chmod(executable);
}
