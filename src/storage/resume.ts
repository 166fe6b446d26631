/**
 * Resume files: the verified-piece bitfield plus each file's size and mtime, so a restart
 * can skip a full recheck when nothing changed. They name the torrent's metainfo version
 * and, for v2 and hybrid torrents, its v2 info hash, since pieces were verified against
 * those hashes. Written atomically (temp file + rename); on load every field is checked and
 * anything odd is rejected with a reason.
 */
import { decode } from "../bencode/decode.ts";
import { BencodeDict } from "../bencode/dict.ts";
import { encode } from "../bencode/encode.ts";
import type { Torrent, TorrentVersion } from "../metainfo/torrent.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bytesEqual } from "../util/bytes.ts";
import { explainPermission } from "../util/permissions.ts";
import { toStorageError } from "./errors.ts";
import type { StoredFileStat } from "./types.ts";

const FORMAT_VERSION = 1;

/** What a resume file records. */
export interface ResumeState {
  /** Verified pieces. */
  readonly verified: Bitfield;
  /** Per torrent file: size and mtime when saved, `undefined` if it did not exist. */
  readonly files: readonly (StoredFileStat | undefined)[];
}

/** The outcome of {@linkcode loadResume}: usable state, or why it was ignored. */
export type ResumeLoadResult =
  | { readonly ok: true; readonly state: ResumeState }
  | { readonly ok: false; readonly reason: string };

/**
 * Writes a resume file atomically: a temp file next to it, then a rename.
 *
 * @example
 * ```ts
 * import { Bitfield, saveResume, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * await saveResume("./dl/.resume", torrent, { verified: new Bitfield(torrent.pieceCount), files: [] });
 * ```
 *
 * @param path Where the resume file goes.
 * @param torrent The torrent it describes.
 * @param state Verified pieces and file stats.
 */
export async function saveResume(
  path: string,
  torrent: Torrent,
  state: ResumeState,
): Promise<void> {
  const bytes = encode({
    "bittern-resume": FORMAT_VERSION,
    "info-hash": torrent.infoHash,
    ...(torrent.infoHashV2 ? { "info-hash-v2": torrent.infoHashV2 } : {}),
    "version": torrent.version === "hybrid" ? "hybrid" : torrent.version,
    "piece-count": torrent.pieceCount,
    "pieces": state.verified.toBytes(),
    "files": state.files.map((stat) => stat ? [stat.length, Math.trunc(stat.mtimeMs)] : []),
  });
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => undefined);
    const explained = explainPermission(error, "write", path);
    throw explained === error ? toStorageError(error, "save resume", path) : explained;
  }
}

/**
 * Reads and checks a resume file against `torrent` and the current file stats. Never
 * throws for bad content: a missing, tampered, stale or foreign file gives `ok: false`
 * with a reason.
 *
 * @example
 * ```ts
 * import { loadResume, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const result = await loadResume("./dl/.resume", torrent, []);
 * if (!result.ok) console.log(result.reason);
 * ```
 *
 * @param path The resume file.
 * @param torrent The torrent it must describe.
 * @param current The files' stats now, to compare with the recorded ones.
 * @returns The state, or why it was ignored.
 */
export async function loadResume(
  path: string,
  torrent: Torrent,
  current: readonly (StoredFileStat | undefined)[],
): Promise<ResumeLoadResult> {
  const maxBytes = 4096 + Math.ceil(torrent.pieceCount / 8) + torrent.files.length * 48;
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (info.size > maxBytes) {
      return fail(`resume file is ${info.size} bytes, more than ${maxBytes}`);
    }
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return fail("no resume file");
    const explained = explainPermission(error, "read", path);
    if (explained !== error) throw explained;
    return fail(`resume file unreadable: ${error instanceof Error ? error.message : error}`);
  }
  let root: unknown;
  try {
    root = decode(bytes, { maxDepth: 4, maxLength: maxBytes });
  } catch (error) {
    return fail(
      `resume file is not valid bencode: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!(root instanceof BencodeDict)) return fail("resume file is not a dictionary");
  if (root.get("bittern-resume") !== FORMAT_VERSION) return fail("unknown resume file version");
  const infoHash = root.get("info-hash");
  if (!(infoHash instanceof Uint8Array) || !bytesEqual(infoHash, torrent.infoHash)) {
    return fail("resume file is for another torrent");
  }
  // Files written before versions were recorded are v1's.
  const version = readVersion(root.get("version") ?? 1);
  if (version !== torrent.version) {
    return fail(
      `resume file is for a ${describeVersion(version)} torrent, this one is ` +
        describeVersion(torrent.version),
    );
  }
  const infoHashV2 = root.get("info-hash-v2");
  if (
    torrent.infoHashV2 &&
    (!(infoHashV2 instanceof Uint8Array) || !bytesEqual(infoHashV2, torrent.infoHashV2))
  ) {
    return fail("resume file is for another torrent (its v2 info hash differs)");
  }
  if (root.get("piece-count") !== torrent.pieceCount) return fail("piece count differs");
  const pieces = root.get("pieces");
  if (!(pieces instanceof Uint8Array)) return fail("pieces field missing");
  let verified: Bitfield;
  try {
    verified = Bitfield.fromBytes(pieces, torrent.pieceCount);
  } catch (error) {
    return fail(`bad piece bitfield: ${error instanceof Error ? error.message : error}`);
  }
  const files = root.get("files");
  if (!Array.isArray(files) || files.length !== torrent.files.length) {
    return fail("file list differs from the torrent");
  }
  const recorded: (StoredFileStat | undefined)[] = [];
  for (const [index, entry] of files.entries()) {
    const stat = parseStat(entry);
    if (stat === null) return fail(`file ${index} entry is malformed`);
    const now = current[index];
    if (
      stat?.length !== now?.length || stat?.mtimeMs !== (now ? Math.trunc(now.mtimeMs) : undefined)
    ) {
      return fail(
        `file ${torrent.files[index].path.join("/")} changed since the resume file was written`,
      );
    }
    recorded.push(stat);
  }
  return { ok: true, state: { verified, files: recorded } };
}

/** The recorded version, `undefined` when it is none of the known ones. */
function readVersion(value: unknown): TorrentVersion | undefined {
  if (value === 1 || value === 2) return value;
  if (value instanceof Uint8Array && new TextDecoder().decode(value) === "hybrid") return "hybrid";
  return undefined;
}

function describeVersion(version: TorrentVersion | undefined): string {
  return version === undefined
    ? "unknown-version"
    : version === "hybrid"
    ? "hybrid"
    : `v${version}`;
}

/** `undefined` for a recorded missing file, `null` when malformed. */
function parseStat(entry: unknown): StoredFileStat | undefined | null {
  if (!Array.isArray(entry)) return null;
  if (entry.length === 0) return undefined;
  const [length, mtimeMs] = entry;
  if (entry.length !== 2 || !Number.isSafeInteger(length) || !Number.isSafeInteger(mtimeMs)) {
    return null;
  }
  if (length < 0) return null;
  return { length, mtimeMs };
}

function fail(reason: string): ResumeLoadResult {
  return { ok: false, reason };
}
