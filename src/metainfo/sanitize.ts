/**
 * Making hostile file names safe. Bittern sanitises rather than rejects (as
 * libtorrent does): a torrent with odd names still downloads, and no name can
 * resolve outside the download directory.
 */

/**
 * Limits for {@linkcode sanitizePathSegment} and {@linkcode sanitizeFilePaths}.
 *
 * @example
 * ```ts
 * import { sanitizePathSegment } from "@bittern/bittern";
 *
 * console.log(sanitizePathSegment("a".repeat(300), { maxSegmentBytes: 100 }).length); // 100
 * ```
 */
export interface SanitizeOptions {
  /** Longest segment kept, in UTF-8 bytes (longer ones are cut, keeping a short extension). Default 240. */
  maxSegmentBytes?: number;
}

/**
 * Default for {@linkcode SanitizeOptions.maxSegmentBytes}: below the common
 * 255-byte limit, leaving room for a `.N` de-duplication suffix.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_SEGMENT_BYTES } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_SEGMENT_BYTES); // 240
 * ```
 */
export const DEFAULT_MAX_SEGMENT_BYTES = 240;

/**
 * Used for a file whose whole path sanitises to nothing.
 *
 * @example
 * ```ts
 * import { FALLBACK_SEGMENT, sanitizePath } from "@bittern/bittern";
 *
 * console.log(sanitizePath([".."])[0] === FALLBACK_SEGMENT); // true
 * ```
 */
export const FALLBACK_SEGMENT = "_";

/** Extensions up to this many bytes survive truncation of a long segment. */
const MAX_KEPT_EXTENSION_BYTES = 16;

// Control characters, path separators, and the characters Windows forbids in names.
// deno-lint-ignore no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f/\\<>:"|?*\ufffd]/g;
const DRIVE_PREFIX = /^[A-Za-z]:/;
const RESERVED_WINDOWS_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;
/** Matches any segment some rule would change; most real names fail it and skip the rules. */
const NEEDS_WORK =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f/\\<>:"|?*\ufffd]|^\.\.?$|^$|[. ]$|^(con|prn|aux|nul|com|lpt)/i;

const utf8 = new TextEncoder();

/**
 * Makes one path segment safe to use as a single file or directory name.
 * Returns `""` when nothing is left, which callers drop.
 *
 * Rules, in order:
 * 1. `.` and `..` become `""` (dropped).
 * 2. A leading Windows drive letter (`C:`) is stripped.
 * 3. NUL, control characters, `/`, `\`, `<>:"|?*` and U+FFFD (from invalid
 *    UTF-8) become `_`.
 * 4. Trailing dots and spaces are trimmed (Windows drops them silently).
 * 5. Windows reserved device names (`CON`, `PRN`, `AUX`, `NUL`, `COM0-9`,
 *    `LPT0-9`, with or without an extension, any case) get a `_` prefix.
 * 6. Segments longer than {@linkcode SanitizeOptions.maxSegmentBytes} UTF-8
 *    bytes are cut on a character boundary, keeping a short extension.
 *
 * @example
 * ```ts
 * import { sanitizePathSegment } from "@bittern/bittern";
 *
 * console.log(sanitizePathSegment("..")); // ""
 * console.log(sanitizePathSegment("C:evil")); // "evil"
 * console.log(sanitizePathSegment("a/b\\c")); // "a_b_c"
 * console.log(sanitizePathSegment("con.txt")); // "_con.txt"
 * ```
 *
 * @param segment A raw name, already decoded from UTF-8.
 * @param options Length limit.
 * @returns The safe segment, or `""` when it should be dropped.
 */
export function sanitizePathSegment(segment: string, options?: SanitizeOptions): string {
  const maxBytes = options?.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short segments need no byte count.
  if (!NEEDS_WORK.test(segment) && segment.length * 3 <= maxBytes) return segment;
  if (segment === "." || segment === "..") return "";
  let safe = segment.replace(DRIVE_PREFIX, "").replace(UNSAFE_CHARACTERS, "_");
  safe = safe.replace(TRAILING_DOTS_AND_SPACES, "");
  if (safe === "" || safe === "." || safe === "..") return "";
  if (RESERVED_WINDOWS_NAME.test(safe)) safe = `_${safe}`;
  return truncateSegment(safe, maxBytes);
}

function truncateSegment(segment: string, maxBytes: number): string {
  if (utf8.encode(segment).length <= maxBytes) return segment;
  const dot = segment.lastIndexOf(".");
  const extension = dot > 0 ? segment.slice(dot) : "";
  const keptExtension = utf8.encode(extension).length <= MAX_KEPT_EXTENSION_BYTES &&
      utf8.encode(extension).length < maxBytes
    ? extension
    : "";
  const stem = keptExtension ? segment.slice(0, dot) : segment;
  const budget = maxBytes - utf8.encode(keptExtension).length;
  let cut = "";
  let used = 0;
  for (const character of stem) {
    const size = utf8.encode(character).length;
    if (used + size > budget) break;
    cut += character;
    used += size;
  }
  const result = (cut + keptExtension).replace(TRAILING_DOTS_AND_SPACES, "");
  return result === "" ? FALLBACK_SEGMENT : result;
}

/**
 * Sanitises a path (a list of raw segments) with {@linkcode sanitizePathSegment},
 * dropping the segments that sanitise to nothing. A path left empty becomes
 * `[FALLBACK_SEGMENT]`.
 *
 * @example
 * ```ts
 * import { sanitizePath } from "@bittern/bittern";
 *
 * console.log(sanitizePath(["..", "etc", "", "passwd"])); // ["etc", "passwd"]
 * console.log(sanitizePath([".."])); // ["_"]
 * ```
 *
 * @param segments Raw path segments.
 * @param options Length limit.
 * @returns Safe, non-empty segments.
 */
export function sanitizePath(segments: readonly string[], options?: SanitizeOptions): string[] {
  const safe: string[] = [];
  for (const segment of segments) {
    const clean = sanitizePathSegment(segment, options);
    if (clean !== "") safe.push(clean);
  }
  if (safe.length === 0) safe.push(FALLBACK_SEGMENT);
  return safe;
}

/**
 * Sanitises every file path of a torrent and resolves collisions, so that the
 * result names distinct files none of which is a directory of another. Paths
 * are compared case-insensitively (as on Windows and macOS). A colliding file
 * is renamed `stem.N.ext` with the smallest free `N`; a file standing where a
 * directory is needed keeps its name and the later files' directory is renamed
 * the same way.
 *
 * @example
 * ```ts
 * import { sanitizeFilePaths } from "@bittern/bittern";
 *
 * console.log(sanitizeFilePaths([["a.txt"], ["A.txt"], ["x"], ["x", "y"]]));
 * // [["a.txt"], ["A.1.txt"], ["x"], ["x.1", "y"]]
 * ```
 *
 * @param paths Raw paths, one per file, in torrent order.
 * @param options Length limit.
 * @returns Safe, distinct paths in the same order.
 */
export function sanitizeFilePaths(
  paths: readonly (readonly string[])[],
  options?: SanitizeOptions,
): string[][] {
  const root = newDirectory();
  const result: string[][] = [];
  for (const raw of paths) {
    const path = sanitizePath(raw, options);
    let directory = root;
    // Directories first: a directory segment that hits an existing file is renamed.
    for (let i = 0; i < path.length - 1; i++) {
      const originalKey = path[i].toLowerCase();
      const renamed = directory.renamed.get(originalKey);
      if (renamed !== undefined) path[i] = renamed;
      const key = renamed === undefined ? originalKey : renamed.toLowerCase();
      let child = directory.entries.get(key);
      if (child === FILE) {
        path[i] = firstFree(directory, path[i]);
        directory.renamed.set(originalKey, path[i]);
        child = undefined;
      }
      if (child === undefined) {
        child = newDirectory();
        directory.entries.set(path[i].toLowerCase(), child);
      }
      directory = child;
    }
    const last = path.length - 1;
    if (directory.entries.has(path[last].toLowerCase())) {
      path[last] = firstFree(directory, path[last]);
    }
    directory.entries.set(path[last].toLowerCase(), FILE);
    result.push(path);
  }
  return result;
}

/** Marks a file in {@linkcode Directory.entries}. */
const FILE = null;

/** A directory of the sanitised tree, keyed by case-folded names. */
interface Directory {
  /** Entries: a sub-directory, or {@linkcode FILE}. */
  readonly entries: Map<string, Directory | typeof FILE>;
  /** Directory names renamed because a file held them: case-folded original -> new name. */
  readonly renamed: Map<string, string>;
}

function newDirectory(): Directory {
  return { entries: new Map(), renamed: new Map() };
}

/**
 * `stem.N.ext` for the smallest `N` free in `directory`. At most
 * `entries.size` names are taken, so one of the first `size + 1` is free.
 */
function firstFree(directory: Directory, segment: string): string {
  const dot = segment.lastIndexOf(".");
  const stem = dot > 0 ? segment.slice(0, dot) : segment;
  const extension = dot > 0 ? segment.slice(dot) : "";
  let candidate = segment;
  for (let n = 1; n <= directory.entries.size + 1; n++) {
    candidate = `${stem}.${n}${extension}`;
    if (!directory.entries.has(candidate.toLowerCase())) break;
  }
  return candidate;
}
