/**
 * Deterministic test payloads: the same seed gives the same bytes on every run, so a
 * failure can be replayed and leechers can be checked byte for byte.
 */
import { SwarmError } from "./errors.ts";

/**
 * What to generate: total size, how many files, the piece length and the seed.
 *
 * @example
 * ```ts
 * import type { PayloadOptions } from "@bittern/bittern/testing";
 *
 * const options: PayloadOptions = { size: 4 << 20, files: 3, pieceLength: 65536, seed: 42 };
 * ```
 */
export interface PayloadOptions {
  /** Total bytes over all files. Default 256 KiB. */
  readonly size?: number;
  /** Number of files; 1 makes a single-file torrent. Default 1. */
  readonly files?: number;
  /** Piece length of the torrent (a power of two of at least 16 KiB). Default 16 KiB. */
  readonly pieceLength?: number;
  /** Seed of the byte generator. Default 1. */
  readonly seed?: number;
  /**
   * Torrent name: the file name of a single-file torrent, the directory of a multi-file
   * one. Default `"payload.bin"` for one file, `"payload"` for several.
   */
  readonly name?: string;
}

/**
 * One generated file: its path inside the torrent's directory and its bytes.
 *
 * @example
 * ```ts
 * import { createPayload } from "@bittern/bittern/testing";
 *
 * const [first] = createPayload({ size: 1000, files: 2 }).files;
 * console.log(first.path, first.data.length); // ["file-0.bin"] 500
 * ```
 */
export interface PayloadFile {
  /** Path segments below the torrent directory (just the name for a single-file torrent). */
  readonly path: readonly string[];
  /** The file's bytes (a view into {@linkcode Payload.data}). */
  readonly data: Uint8Array;
}

/**
 * A generated payload: every file's bytes, and all of them back to back.
 *
 * @example
 * ```ts
 * import { createPayload } from "@bittern/bittern/testing";
 *
 * const payload = createPayload({ size: 1 << 20, files: 3, seed: 7 });
 * console.log(payload.name, payload.files.length, payload.data.length); // payload 3 1048576
 * ```
 */
export interface Payload {
  /** Torrent name. */
  readonly name: string;
  /** All bytes in torrent order. */
  readonly data: Uint8Array;
  /** The files, in torrent order; their `data` are views into {@linkcode Payload.data}. */
  readonly files: readonly PayloadFile[];
  /** Piece length for the torrent. */
  readonly pieceLength: number;
  /** The seed the bytes came from. */
  readonly seed: number;
}

const DEFAULT_SIZE = 256 * 1024;
const DEFAULT_PIECE_LENGTH = 16 * 1024;
/** More files than this is surely a mistake in a test, and would make huge torrents. */
const MAX_FILES = 10_000;

/**
 * `length` pseudo-random bytes from `seed` (xorshift32 words, little-endian): the same seed
 * always gives the same bytes. Not for cryptography.
 *
 * @example
 * ```ts
 * import { seededBytes } from "@bittern/bittern/testing";
 *
 * const a = seededBytes(16, 42);
 * const b = seededBytes(16, 42);
 * console.log(a.every((byte, i) => byte === b[i])); // true
 * ```
 *
 * @param length How many bytes.
 * @param seed Any integer; different seeds give different bytes.
 * @returns The bytes.
 */
export function seededBytes(length: number, seed: number): Uint8Array {
  checkInteger("length", length, 0);
  checkInteger("seed", seed, Number.MIN_SAFE_INTEGER);
  const words = new Uint32Array(Math.ceil(length / 4));
  // Mix the seed so that nearby seeds (0, 1, 2) start far apart; xorshift must not start at 0.
  let state = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) ^ Math.floor(seed / 2 ** 32);
  if (state === 0) state = 0x6d2b79f5;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/**
 * Generates a payload: `size` seeded bytes split into `files` files of nearly equal size
 * (so file boundaries fall inside pieces, as in real torrents).
 *
 * @example
 * ```ts
 * import { createPayload } from "@bittern/bittern/testing";
 *
 * const payload = createPayload({ size: 4 << 20, files: 3, pieceLength: 65536, seed: 42 });
 * console.log(payload.files.map((file) => file.path.join("/")));
 * // ["file-0.bin", "file-1.bin", "file-2.bin"]
 * ```
 *
 * @param options Size, files, piece length, seed, name.
 * @returns The payload.
 * @throws {SwarmError} When an option is out of range.
 */
export function createPayload(options: PayloadOptions = {}): Payload {
  const size = options.size ?? DEFAULT_SIZE;
  const fileCount = options.files ?? 1;
  const pieceLength = options.pieceLength ?? DEFAULT_PIECE_LENGTH;
  const seed = options.seed ?? 1;
  checkInteger("payload.size", size, 1);
  checkInteger("payload.files", fileCount, 1, Math.min(MAX_FILES, size));
  checkInteger("payload.pieceLength", pieceLength, 16 * 1024);
  if ((pieceLength & (pieceLength - 1)) !== 0) {
    throw new SwarmError(`swarm: payload.pieceLength must be a power of two, got ${pieceLength}`);
  }
  const data = seededBytes(size, seed);
  const single = fileCount === 1;
  const name = options.name ?? (single ? "payload.bin" : "payload");
  const files: PayloadFile[] = [];
  for (let i = 0; i < fileCount; i++) {
    const start = Math.floor(size * i / fileCount);
    const end = Math.floor(size * (i + 1) / fileCount);
    files.push({ path: [single ? name : `file-${i}.bin`], data: data.subarray(start, end) });
  }
  return { name, data, files, pieceLength, seed };
}

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SwarmError(
      `swarm: ${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
}
