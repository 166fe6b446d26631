/**
 * What {@linkcode createTorrent} reads: files on disk (a file or a directory
 * tree) or files in memory, listed in a deterministic order.
 */
import { explainPermission } from "../util/permissions.ts";
import { torrentError } from "./errors.ts";

/**
 * One file given in memory to {@linkcode createTorrent}.
 *
 * @example
 * ```ts
 * import { createTorrent, type MemoryFile } from "@bittern/bittern";
 *
 * const file: MemoryFile = { path: ["docs", "a.txt"], data: new TextEncoder().encode("hi") };
 * await createTorrent({ name: "bundle", files: [file] });
 * ```
 */
export interface MemoryFile {
  /** Path segments below the torrent's name. */
  readonly path: readonly string[];
  /** File contents. */
  readonly data: Uint8Array;
  /** Marks the file executable (BEP 47 `attr` `x`) in v2 and hybrid torrents. */
  readonly executable?: boolean;
}

/**
 * What a torrent is made from: a filesystem path (a file makes a single-file
 * torrent, a directory a multi-file one), one file in memory
 * (`{ name, data }`, single-file) or several (`{ name, files }`, multi-file).
 *
 * @example
 * ```ts
 * import { createTorrent, type TorrentSource } from "@bittern/bittern";
 *
 * const sources: TorrentSource[] = ["./movie.mkv", { name: "a.txt", data: new Uint8Array(3) }];
 * for (const source of sources) await createTorrent(source);
 * ```
 */
export type TorrentSource =
  | string
  | { readonly name: string; readonly data: Uint8Array; readonly executable?: boolean }
  | { readonly name: string; readonly files: readonly MemoryFile[] };

/** A file to hash: where it goes in the torrent and how to read it. */
export interface SourceFile {
  /** Segments below the torrent name (empty for a single-file torrent). */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
  /** The contents, for in-memory files. */
  readonly data?: Uint8Array;
  /** The filesystem path, for files on disk. */
  readonly fsPath?: string;
  /** Whether the owner may execute it (written as BEP 47 `attr` `x` in v2 and hybrid torrents). */
  readonly executable?: boolean;
}

/** A listed source: its name, shape and files in torrent order. */
export interface ListedSource {
  /** The torrent name (base name of the path, or the given name). */
  readonly name: string;
  /** Whether the torrent is multi-file. */
  readonly multiFile: boolean;
  /** Files in torrent order. */
  readonly files: readonly SourceFile[];
}

/** Limits for listing a directory. */
export interface ListLimits {
  /** Most files accepted. */
  readonly maxFiles: number;
  /** Deepest directory nesting followed. */
  readonly maxDepth: number;
}

/**
 * Lists the files of a source. Directories are walked in code-unit order of
 * their entry names, so the same tree always gives the same torrent; symbolic
 * links and other non-regular entries are skipped.
 *
 * @example
 * ```ts ignore
 * const listed = await listSource("./data", { maxFiles: 1000, maxDepth: 32 });
 * ```
 *
 * @param source What to list.
 * @param limits File count and depth limits.
 * @returns The name, shape and files.
 */
export async function listSource(source: TorrentSource, limits: ListLimits): Promise<ListedSource> {
  if (typeof source !== "string") return listMemory(source);
  const info = await withReadPermission(source, () => Deno.stat(source));
  const name = baseName(source) ||
    baseName(await withReadPermission(source, () => Deno.realPath(source)));
  if (name === "") throw torrentError("source", `a path with a base name: ${source}`);
  if (info.isFile) {
    const file = { path: [], length: info.size, fsPath: source, executable: executable(info) };
    return { name, multiFile: false, files: [file] };
  }
  if (!info.isDirectory) throw torrentError("source", `a file or a directory: ${source}`);
  const files: SourceFile[] = [];
  await walk(source, [], files, limits);
  if (files.length === 0) throw torrentError("source", `a directory with files: ${source}`);
  return { name, multiFile: true, files };
}

function listMemory(
  source: Exclude<TorrentSource, string>,
): ListedSource {
  checkSegment(source.name, "name");
  if ("data" in source) {
    return {
      name: source.name,
      multiFile: false,
      files: [{
        path: [],
        length: source.data.length,
        data: source.data,
        executable: "executable" in source && source.executable === true,
      }],
    };
  }
  if (source.files.length === 0) throw torrentError("files", "at least one file");
  const files = source.files.map((file, i) => {
    if (file.path.length === 0) throw torrentError(`files[${i}].path`, "at least one segment");
    file.path.forEach((segment, j) => checkSegment(segment, `files[${i}].path[${j}]`));
    return {
      path: file.path,
      length: file.data.length,
      data: file.data,
      executable: file.executable === true,
    };
  });
  return { name: source.name, multiFile: true, files };
}

/**
 * Throws unless `segment` is a plain name: given names must already be safe,
 * as Bittern does not create torrents it would have to sanitise.
 *
 * @example
 * ```ts ignore
 * checkSegment(options.name, "name");
 * ```
 *
 * @param segment The name.
 * @param where The option's path, for the error.
 */
export function checkSegment(segment: string, where: string): void {
  // deno-lint-ignore no-control-regex
  if (segment === "" || segment === "." || segment === ".." || /[/\\\u0000]/.test(segment)) {
    throw torrentError(where, `a plain file name without '/', '\\', NUL, '.' or '..'`);
  }
}

async function walk(
  directory: string,
  prefix: readonly string[],
  files: SourceFile[],
  limits: ListLimits,
): Promise<void> {
  if (prefix.length > limits.maxDepth) {
    throw torrentError("source", `at most ${limits.maxDepth} nested directories: ${directory}`);
  }
  const entries: Deno.DirEntry[] = [];
  await withReadPermission(directory, async () => {
    for await (const entry of Deno.readDir(directory)) entries.push(entry);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const fsPath = `${directory}/${entry.name}`;
    const path = [...prefix, entry.name];
    if (entry.isDirectory) {
      await walk(fsPath, path, files, limits);
    } else if (entry.isFile) {
      if (files.length >= limits.maxFiles) {
        throw torrentError("source", `at most ${limits.maxFiles} files (maxFiles)`);
      }
      const info = await withReadPermission(fsPath, () => Deno.stat(fsPath));
      files.push({ path, length: info.size, fsPath, executable: executable(info) });
    }
  }
}

/**
 * Runs a read, turning a missing `--allow-read` into a PermissionError naming it.
 *
 * @example
 * ```ts ignore
 * const info = await withReadPermission(path, () => Deno.stat(path));
 * ```
 *
 * @param target The path being read.
 * @param run The read.
 * @returns What `run` returns.
 */
export async function withReadPermission<T>(target: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw explainPermission(error, "read", target);
  }
}

/** The owner's execute bit, as libtorrent reads it (never set where there are no modes). */
function executable(info: Deno.FileInfo): boolean {
  return ((info.mode ?? 0) & 0o100) !== 0;
}

function baseName(path: string): string {
  const trimmed = path.replace(/[/\\]+$/, "");
  const name = trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
  return name === "." || name === ".." ? "" : name;
}
