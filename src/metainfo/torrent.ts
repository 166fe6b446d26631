import type { WebSeed } from "./web_seeds.ts";

/**
 * One file of a torrent, laid out in the torrent's byte stream.
 */
export interface TorrentFile {
  /**
   * Safe path segments relative to the download directory. For a single-file
   * torrent this is `[name]`; for a multi-file torrent `[name, ...path]`.
   * Every segment has been sanitised (see {@linkcode parseTorrent}) so that
   * joining them never leaves the download directory.
   */
  readonly path: readonly string[];
  /** Length in bytes. */
  readonly length: number;
  /** Offset of the file's first byte within the torrent's concatenated data. */
  readonly offset: number;
  /**
   * Whether the file is a BEP 47 padding file (`attr` contains `p`). In a v2-only
   * torrent, the pad files are implied (each file starts on a piece boundary) and listed
   * here as libtorrent lists them.
   */
  readonly padding: boolean;
  /** BEP 47 `x`: the file is executable. Absent means no. */
  readonly executable?: boolean;
  /** BEP 47 `h`: the file is hidden. Absent means no. */
  readonly hidden?: boolean;
  /**
   * BEP 47 `l`: the entry is a symlink (its length is 0) to this target, given as safe
   * path segments relative to the download directory like {@linkcode TorrentFile.path}
   * (sanitised the same way, so it cannot point outside). Absent for other files.
   */
  readonly symlinkTarget?: readonly string[];
  /**
   * v2 and hybrid torrents: the root of the file's SHA-256 merkle tree (BEP 52 `pieces
   * root`, 32 bytes; all zeros for an empty file). Absent in v1 torrents, for pad files and
   * for symlinks.
   */
  readonly piecesRoot?: Uint8Array;
  /**
   * v2 and hybrid torrents: the file's piece layer from `piece layers` (one 32-byte SHA-256
   * hash per piece, checked against {@linkcode TorrentFile.piecesRoot}). Present only for
   * files of more than one piece whose layer the metainfo carries; a file of one piece
   * needs none (its root is its piece hash).
   */
  readonly pieceLayer?: Uint8Array;
}

/**
 * Which BitTorrent metainfo version a torrent is: `1` (BEP 3), `2` (BEP 52 only) or
 * `"hybrid"` (both, describing the same files).
 *
 * @example
 * ```ts
 * import type { Torrent, TorrentVersion } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const version: TorrentVersion = torrent.version;
 * console.log(version === 2 ? "v2 only" : "has a v1 info hash");
 * ```
 */
export type TorrentVersion = 1 | 2 | "hybrid";

/**
 * A parsed BitTorrent metainfo file: v1, v2 (BEP 52) or hybrid.
 *
 * Every v1 field keeps its meaning for v1 and hybrid torrents. A v2-only torrent
 * has no SHA-1 piece hashes: {@linkcode Torrent.pieceHashes} is empty and
 * {@linkcode Torrent.infoHash} is the truncated v2 info hash (what the wire and
 * trackers use); its pieces are verified by their SHA-256 merkle trees alone.
 */
export interface Torrent {
  /**
   * The info hash peers and trackers know the torrent by: SHA-1 of the raw `info` bytes,
   * exactly as they appear in the file (v1 and hybrid), or for a v2-only torrent the first
   * 20 bytes of {@linkcode Torrent.infoHashV2}.
   */
  readonly infoHash: Uint8Array;
  /** {@linkcode Torrent.infoHash} as 40 lowercase hex digits. */
  readonly infoHashHex: string;
  /** The metainfo version: `1`, `2` or `"hybrid"`. */
  readonly version: TorrentVersion;
  /** v2 and hybrid: SHA-256 of the raw `info` bytes (32 bytes). */
  readonly infoHashV2?: Uint8Array;
  /** {@linkcode Torrent.infoHashV2} as 64 lowercase hex digits. */
  readonly infoHashV2Hex?: string;
  /** {@linkcode Torrent.infoHashV2} truncated to 20 bytes, as the wire, trackers and the DHT use it. */
  readonly infoHashV2Truncated?: Uint8Array;
  /** Display name (UTF-8, from `name.utf-8` when present), sanitised. */
  readonly name: string;
  /** Nominal piece length in bytes; the last piece may be shorter. */
  readonly pieceLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** The concatenated 20-byte SHA-1 piece hashes; empty for a v2-only torrent. */
  readonly pieceHashes: Uint8Array;
  /**
   * Files in torrent order, BEP 47 padding files included. File indices elsewhere
   * (`wantedFiles`, `bittern info`, `--files`) count only the files people see: see
   * {@linkcode visibleFiles}.
   */
  readonly files: readonly TorrentFile[];
  /** Whether the torrent has a `files` list (a directory) rather than one file. */
  readonly multiFile: boolean;
  /** Total length of all files, in bytes. */
  readonly length: number;
  /** BEP 27 private flag. */
  readonly private: boolean;
  /** Announce URL tiers (BEP 12 `announce-list`, else `[[announce]]`, else `[]`). */
  readonly announce: readonly (readonly string[])[];
  /** `creation date`, when present. */
  readonly creationDate?: Date;
  /** `created by`, when present. */
  readonly createdBy?: string;
  /** `comment`, when present. */
  readonly comment?: string;
  /** The raw `info` dictionary bytes (for BEP 9 metadata exchange). */
  readonly infoBytes: Uint8Array;
  /**
   * Things the parser accepted but a careful reader should know, e.g. bytes after the root
   * dictionary (libtorrent accepts them too). Empty for a clean file.
   */
  readonly warnings: readonly string[];
  /** Web seeds (BEP 19 `url-list`, BEP 17 `httpseeds`); `parseTorrent` always sets it. */
  readonly webSeeds?: readonly WebSeed[];
}

/**
 * Length of piece `index`: the nominal piece length, except for the last piece.
 *
 * @example
 * ```ts
 * import { pieceLengthAt, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const last = pieceLengthAt(torrent, torrent.pieceCount - 1);
 * ```
 */
export function pieceLengthAt(torrent: Torrent, index: number): number {
  if (index < torrent.pieceCount - 1) return torrent.pieceLength;
  return torrent.length - torrent.pieceLength * (torrent.pieceCount - 1);
}

/**
 * The expected SHA-1 of piece `index` (a 20-byte view into {@linkcode Torrent.pieceHashes}).
 *
 * @example
 * ```ts
 * import { pieceHashAt, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * console.log(pieceHashAt(torrent, 0).length); // 20
 * ```
 */
export function pieceHashAt(torrent: Torrent, index: number): Uint8Array {
  return torrent.pieceHashes.subarray(index * 20, index * 20 + 20);
}

/**
 * The files people see, in torrent order: {@linkcode Torrent.files} without BEP 47 padding
 * files. A file's position here is its index everywhere indices are used: the
 * `wantedFiles` option of a session or `PieceStore`, `bittern info` and `--files`.
 *
 * @example
 * ```ts
 * import { type Torrent, visibleFiles } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * visibleFiles(torrent).forEach((file, index) => console.log(index, file.path.join("/")));
 * ```
 *
 * @param torrent The torrent.
 * @returns Its files without padding files.
 */
export function visibleFiles(torrent: Torrent): TorrentFile[] {
  return torrent.files.filter((file) => !file.padding);
}

/**
 * Positions in {@linkcode Torrent.files} of the visible files (see
 * {@linkcode visibleFiles}): `visibleFileIndices(torrent)[i]` is where visible file `i` is.
 *
 * @example
 * ```ts
 * import { type Torrent, visibleFileIndices } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const third = torrent.files[visibleFileIndices(torrent)[2]];
 * ```
 *
 * @param torrent The torrent.
 * @returns Indices into `torrent.files`, one per visible file.
 */
export function visibleFileIndices(torrent: Torrent): number[] {
  const indices: number[] = [];
  torrent.files.forEach((file, index) => {
    if (!file.padding) indices.push(index);
  });
  return indices;
}
