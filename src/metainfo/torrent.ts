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
  /** Whether the file is a BEP 47 padding file (`attr` contains `p`). */
  readonly padding: boolean;
}

/**
 * A parsed BitTorrent v1 metainfo file.
 */
export interface Torrent {
  /** SHA-1 of the raw `info` dictionary bytes, exactly as they appear in the file. */
  readonly infoHash: Uint8Array;
  /** {@linkcode Torrent.infoHash} as 40 lowercase hex digits. */
  readonly infoHashHex: string;
  /** Display name (UTF-8, from `name.utf-8` when present), sanitised. */
  readonly name: string;
  /** Nominal piece length in bytes; the last piece may be shorter. */
  readonly pieceLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  /** The concatenated 20-byte SHA-1 piece hashes. */
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
