/**
 * Laying out a v1 file list in the torrent's byte stream, and the checks and
 * fields v1, v2 and hybrid torrents share.
 */
import { TorrentError, torrentError } from "./errors.ts";
import type { MetainfoFields } from "./fields.ts";
import { sanitizeFilePaths, type SanitizeOptions, sanitizePath } from "./sanitize.ts";
import type { Torrent, TorrentFile } from "./torrent.ts";
import { readWebSeeds } from "./web_seeds.ts";
import type { BencodeValue } from "../bencode/mod.ts";

/** Lays out a v1 `length` or `files` (hybrids check theirs against the v2 tree). */
export function layoutFiles(
  fields: MetainfoFields,
  name: string,
  options: SanitizeOptions,
): TorrentFile[] {
  if (!fields.files) {
    return [{ path: [name], length: fields.length ?? 0, offset: 0, padding: false }];
  }
  const safePaths = sanitizeFilePaths(fields.files.map((file) => file.path), options);
  checkDuplicateNames(fields.files.map((file) => file.path), safePaths, options, "info.files");
  const files: TorrentFile[] = [];
  let offset = 0;
  for (let i = 0; i < fields.files.length; i++) {
    const entry = fields.files[i];
    const file: { -readonly [K in keyof TorrentFile]: TorrentFile[K] } = {
      path: [name, ...safePaths[i]],
      length: entry.length,
      offset,
      padding: entry.padding,
    };
    if (entry.executable) file.executable = true;
    if (entry.hidden) file.hidden = true;
    if (entry.symlinkPath) file.symlinkTarget = [name, ...sanitizePath(entry.symlinkPath, options)];
    files.push(file);
    offset += entry.length;
    if (!Number.isSafeInteger(offset)) {
      throw torrentError(`info.files[${i}].length`, "a total length within 2^53 bytes");
    }
  }
  return files;
}

/** Checks a v1 layout's total against its `pieces` (hybrids too). */
export function checkPieces(fields: MetainfoFields, length: number, maxPieces: number): void {
  const where = fields.files ? "info.files" : "info.length";
  if (length === 0) throw torrentError(where, "a total length above 0");
  const expected = Math.ceil(length / fields.pieceLength);
  if (expected > maxPieces) {
    throw torrentError(where, `at most ${maxPieces} pieces (maxPieces), found ${expected}`);
  }
  const actual = fields.pieces.length / 20;
  if (actual !== expected) {
    throw new TorrentError([{
      path: "info.pieces",
      expected: `${expected} piece hashes for ${length} bytes in pieces of ` +
        `${fields.pieceLength} (got ${actual})`,
    }]);
  }
}

/** Tracker tiers: `announce-list`, else `announce`. */
export function announceTiers(fields: MetainfoFields): string[][] {
  const tiers = (fields.announceList ?? [])
    .map((tier) => tier.map((url) => url.trim()).filter((url) => url !== ""))
    .filter((tier) => tier.length > 0);
  if (tiers.length > 0) return tiers;
  const single = fields.announce?.trim();
  return single ? [[single]] : [];
}

/** libtorrent's bound on the name clashes it resolves (more fail the torrent as hostile). */
const MAX_NAME_COLLISIONS = 100;

/**
 * Fails a torrent with too many files of the same name, as libtorrent does: renaming the
 * k-th duplicate of a name costs k - 1 failed attempts, and more than 100 attempts fail it.
 *
 * @example
 * ```ts ignore
 * checkDuplicateNames(raw, sanitizeFilePaths(raw), {}, "info.files");
 * ```
 */
export function checkDuplicateNames(
  raw: readonly (readonly string[])[],
  safe: readonly (readonly string[])[],
  options: SanitizeOptions,
  where: string,
): void {
  const renamed = new Map<string, number>();
  let attempts = 0;
  raw.forEach((path, i) => {
    const original = sanitizePath(path, options).join("/");
    if (original === safe[i].join("/")) return;
    const key = original.toLowerCase();
    const count = renamed.get(key) ?? 0;
    attempts += count;
    renamed.set(key, count + 1);
  });
  if (attempts > MAX_NAME_COLLISIONS) {
    throw torrentError(where, "files with distinct names (too many share one name)");
  }
}

/**
 * The parts of a `Torrent` outside its pieces and files, the same for every metainfo version:
 * privacy, trackers, the optional top-level fields, the raw `info` bytes, warnings, web seeds.
 */
export function torrentDetails(
  fields: MetainfoFields,
  root: BencodeValue,
  infoBytes: Uint8Array,
  warnings: readonly string[],
): Pick<
  Torrent,
  | "private"
  | "announce"
  | "creationDate"
  | "createdBy"
  | "comment"
  | "infoBytes"
  | "warnings"
  | "webSeeds"
> {
  return {
    private: fields.private,
    announce: announceTiers(fields),
    creationDate: fields.creationDate === undefined
      ? undefined
      : new Date(fields.creationDate * 1000),
    createdBy: fields.createdBy,
    comment: fields.comment,
    infoBytes,
    warnings,
    webSeeds: readWebSeeds(root),
  };
}
