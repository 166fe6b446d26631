/**
 * The v2 and hybrid parts of {@linkcode createTorrent}: file order, the
 * one-pass hashing of SHA-1 pieces and SHA-256 merkle trees, pad files, and
 * the `file tree` and `piece layers` fields (BEP 52, BEP 47).
 */
import type { Encodable } from "../bencode/mod.ts";
import type { SourceFile } from "./create_source.ts";
import { compareBytes } from "../util/bytes.ts";
import { torrentError } from "./errors.ts";
import { MerkleFileHasher } from "./merkle.ts";
import { PieceHasher } from "./piece_hasher.ts";

/**
 * Which metainfo {@linkcode createTorrent} writes: `v1` (BEP 3, SHA-1
 * pieces), `v2` (BEP 52, per-file SHA-256 merkle trees), or `hybrid` (both,
 * files aligned to pieces with BEP 47 pad files, as libtorrent makes them).
 *
 * @example
 * ```ts
 * import { createTorrent, type TorrentFormat } from "@bittern/bittern";
 *
 * const format: TorrentFormat = "v1";
 * await createTorrent({ name: "a.txt", data: new Uint8Array(3) }, { format });
 * ```
 */
export type TorrentFormat = "v1" | "v2" | "hybrid";

/**
 * The format {@linkcode createTorrent} writes when none is given: `v1`, so
 * existing callers keep byte-identical torrents and contiguous file layouts
 * (no pad files). `bittern create` defaults to `hybrid` instead, as libtorrent
 * and qBittorrent do.
 *
 * @example
 * ```ts
 * import { DEFAULT_TORRENT_FORMAT } from "@bittern/bittern";
 *
 * console.log(DEFAULT_TORRENT_FORMAT); // v1
 * ```
 */
export const DEFAULT_TORRENT_FORMAT: TorrentFormat = "v1";

/** The formats by name, for checking an option. */
export const TORRENT_FORMATS: readonly TorrentFormat[] = ["v1", "v2", "hybrid"];

const utf8 = new TextEncoder();

/**
 * Files in the order of a v2 `file tree`: depth first, each directory's
 * entries by the raw UTF-8 bytes of their names (bencode's key order), which
 * is also the order of a hybrid's v1 `files`. Two files at one path, or a file
 * where another file's directory is, is an error naming the option.
 */
export function v2Order(files: readonly SourceFile[]): SourceFile[] {
  const keyed = files.map((file) => ({ file, path: file.path.map((s) => utf8.encode(s)) }));
  keyed.sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < keyed.length; i++) {
    const previous = keyed[i - 1].path;
    const current = keyed[i].path;
    if (
      previous.length <= current.length &&
      previous.every((s, j) => compareBytes(s, current[j]) === 0)
    ) {
      throw torrentError(
        "files",
        `paths that are neither equal nor one inside the other: ${
          keyed[i - 1].file.path.join("/")
        } and ${keyed[i].file.path.join("/")}`,
      );
    }
  }
  return keyed.map((k) => k.file);
}

function comparePaths(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareBytes(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** One file's v2 hashes: no root for an empty file, a layer only beyond one piece. */
export interface V2FileHashes {
  /** `pieces root`, absent for an empty file. */
  readonly root?: Uint8Array;
  /** The piece layer, concatenated, for files longer than one piece. */
  readonly layer?: Uint8Array;
}

/**
 * Hashes the files of a torrent in one pass: SHA-1 over the v1 piece stream
 * (pad files as zeros) and a SHA-256 merkle tree per file, whichever the
 * format needs. Call {@linkcode CreationHasher.startFile}, feed the file's
 * bytes, then {@linkcode CreationHasher.endFile}, for each file in order.
 */
export class CreationHasher {
  readonly #pieceLength: number;
  readonly #padded: boolean;
  readonly #v1: PieceHasher | undefined;
  readonly #files: V2FileHashes[] = [];
  readonly #wantsV2: boolean;
  #merkle: MerkleFileHasher | undefined;
  #dataBytes = 0;

  /**
   * @param format Which hashes to compute.
   * @param pieceLength Bytes per piece.
   * @param padded Whether pad files follow files not ending on a piece boundary (hybrid).
   */
  constructor(format: TorrentFormat, pieceLength: number, padded: boolean) {
    this.#pieceLength = pieceLength;
    this.#padded = padded;
    this.#v1 = format === "v2" ? undefined : new PieceHasher(pieceLength);
    this.#wantsV2 = format !== "v1";
  }

  /** Data bytes hashed so far (pad files not counted). */
  get hashedBytes(): number {
    return this.#dataBytes;
  }

  /** Begins the next file. */
  startFile(): void {
    this.#merkle = this.#wantsV2 ? new MerkleFileHasher(this.#pieceLength) : undefined;
  }

  /**
   * Feeds the current file's next bytes to every hash in one pass.
   *
   * @param chunk The bytes.
   */
  update(chunk: Uint8Array): void {
    this.#v1?.update(chunk);
    this.#merkle?.update(chunk);
    this.#dataBytes += chunk.length;
  }

  /**
   * Ends the current file: records its merkle root and piece layer, and for a
   * hybrid feeds the zeros of its pad file to the v1 pieces.
   *
   * @returns The pad file's length that follows the file (0 for none).
   */
  endFile(): number {
    const merkle = this.#merkle;
    if (merkle) {
      const root = merkle.root;
      const layer = merkle.length > this.#pieceLength
        ? concat(merkle.pieceLayer(this.#pieceLength))
        : undefined;
      this.#files.push(root ? { root, layer } : {});
    }
    const pad = this.#padded ? padLength(this.#v1?.length ?? 0, this.#pieceLength) : 0;
    if (pad > 0) feedZeros(this.#v1!, pad);
    return pad;
  }

  /** The v1 `pieces` (undefined for v2-only). */
  pieces(): Uint8Array | undefined {
    return this.#v1?.digest();
  }

  /** Each file's v2 hashes, in order (empty for v1-only). */
  get files(): readonly V2FileHashes[] {
    return this.#files;
  }
}

/** Bytes of padding that bring `offset` to the next piece boundary. */
function padLength(offset: number, pieceLength: number): number {
  const over = offset % pieceLength;
  return over === 0 ? 0 : pieceLength - over;
}

const ZEROS = new Uint8Array(64 * 1024);

function feedZeros(hasher: PieceHasher, count: number): void {
  for (let left = count; left > 0; left -= ZEROS.length) {
    hasher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length)));
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A directory of a `file tree` being built: subdirectories, or a file's `{"": ...}`. */
class TreeDirectory {
  readonly entries = new Map<string, TreeDirectory | Map<string, Encodable>>();

  directory(name: string): TreeDirectory {
    const found = this.entries.get(name);
    if (found instanceof TreeDirectory) return found;
    const created = new TreeDirectory();
    this.entries.set(name, created);
    return created;
  }

  encodable(): Map<string, Encodable> {
    const out = new Map<string, Encodable>();
    for (const [name, entry] of this.entries) {
      out.set(name, entry instanceof TreeDirectory ? entry.encodable() : entry);
    }
    return out;
  }
}

/**
 * The `file tree` of files in {@linkcode v2Order}: a single-file torrent's
 * tree holds the torrent name; a multi-file one the paths below it.
 */
export function fileTree(
  name: string,
  multiFile: boolean,
  files: readonly SourceFile[],
  hashes: readonly V2FileHashes[],
): Map<string, Encodable> {
  const tree = new TreeDirectory();
  files.forEach((file, i) => {
    const path = multiFile ? file.path : [name];
    let directory = tree;
    for (const segment of path.slice(0, -1)) directory = directory.directory(segment);
    const leaf: Record<string, Encodable> = { length: file.length };
    if (file.executable) leaf.attr = "x";
    const root = hashes[i].root;
    if (root) leaf["pieces root"] = root;
    directory.entries.set(path[path.length - 1], new Map([["", leaf]]));
  });
  return tree.encodable();
}

/**
 * The top-level `piece layers`: each file longer than one piece, by its root
 * (files with equal contents share one entry).
 */
export function pieceLayers(hashes: readonly V2FileHashes[]): Map<Uint8Array, Encodable> {
  const layers = new Map<Uint8Array, Encodable>();
  const seen = new Set<string>();
  for (const { root, layer } of hashes) {
    if (!root || !layer) continue;
    const key = root.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    layers.set(root, layer);
  }
  return layers;
}
