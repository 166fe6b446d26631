/**
 * Making hostile file names safe. Bittern sanitises rather than rejects (as
 * libtorrent does): a torrent with odd names still downloads, and no name can
 * resolve outside the download directory.
 */

/** Limits for {@linkcode sanitizePathSegment} and {@linkcode sanitizeFilePaths}. */
export interface SanitizeOptions {
  /** Longest segment kept, in UTF-8 bytes (longer ones are cut, keeping a short extension). Default 240. */
  maxSegmentBytes?: number;
}

/** Default for {@linkcode SanitizeOptions.maxSegmentBytes}: below the common 255-byte limit, leaving room for a `.N` de-duplication suffix. */
export const DEFAULT_MAX_SEGMENT_BYTES = 240;

/** Used for a file whose whole path sanitises to nothing. */
export const FALLBACK_SEGMENT = "_";

/** Extensions up to this many bytes survive truncation of a long segment. */
const MAX_KEPT_EXTENSION_BYTES = 16;

// Control characters, path separators, and the characters Windows forbids in names.
// deno-lint-ignore no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f/\\<>:"|?*\ufffd]/g;
const DRIVE_PREFIX = /^[A-Za-z]:/;
const RESERVED_WINDOWS_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;

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
  if (segment === "." || segment === "..") return "";
  let safe = segment.replace(DRIVE_PREFIX, "").replace(UNSAFE_CHARACTERS, "_");
  safe = safe.replace(TRAILING_DOTS_AND_SPACES, "");
  if (safe === "" || safe === "." || safe === "..") return "";
  if (RESERVED_WINDOWS_NAME.test(safe)) safe = `_${safe}`;
  return truncateSegment(safe, options?.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES);
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
  const files = new Set<string>();
  const directories = new Set<string>();
  /** Renamed directory prefixes: case-folded original prefix key -> its new last segment. */
  const renamedDirectories = new Map<string, string>();
  const isTaken = (key: string) => files.has(key) || directories.has(key);
  const result: string[][] = [];
  for (const raw of paths) {
    const path = sanitizePath(raw, options);
    // Directories first: a directory segment that hits an existing file is renamed.
    let prefixKey = "";
    for (let i = 0; i < path.length - 1; i++) {
      const originalKey = `${prefixKey}/${path[i].toLowerCase()}`;
      const renamed = renamedDirectories.get(originalKey);
      if (renamed !== undefined) {
        path[i] = renamed;
      } else if (files.has(keyOf(prefixKey, path[i]))) {
        path[i] = firstFree(prefixKey, path[i], isTaken, files.size + directories.size);
        renamedDirectories.set(originalKey, path[i]);
      }
      prefixKey = keyOf(prefixKey, path[i]);
      directories.add(prefixKey);
    }
    const last = path.length - 1;
    if (isTaken(keyOf(prefixKey, path[last]))) {
      path[last] = firstFree(prefixKey, path[last], isTaken, files.size + directories.size);
    }
    files.add(keyOf(prefixKey, path[last]));
    result.push(path);
  }
  return result;
}

function keyOf(prefixKey: string, segment: string): string {
  return `${prefixKey}/${segment.toLowerCase()}`;
}

/**
 * `stem.N.ext` for the smallest `N` whose key is not taken. At most `takenCount`
 * keys are taken, so one of the first `takenCount + 1` candidates is free.
 */
function firstFree(
  prefixKey: string,
  segment: string,
  taken: (key: string) => boolean,
  takenCount: number,
): string {
  const dot = segment.lastIndexOf(".");
  const stem = dot > 0 ? segment.slice(0, dot) : segment;
  const extension = dot > 0 ? segment.slice(dot) : "";
  let candidate = segment;
  for (let n = 1; n <= takenCount + 1; n++) {
    candidate = `${stem}.${n}${extension}`;
    if (!taken(keyOf(prefixKey, candidate))) break;
  }
  return candidate;
}
