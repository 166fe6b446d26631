/**
 * Storage: the seam between the wire and where bytes live. `Storage` / `TorrentStorage`
 * are the interfaces a custom back-end implements; `FileSystemStorage` (default) and
 * `MemoryStorage` are the built-ins; `PieceStore` is the per-session piece layer with
 * SHA-1 verification, recheck, file selection and resume files.
 *
 * @example Download into memory, one block at a time
 * ```ts
 * import { MemoryStorage, PieceStore, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * declare function receive(piece: number, offset: number, length: number): Promise<Uint8Array>;
 * const store = await PieceStore.open(torrent, new MemoryStorage());
 * for (let piece = 0; piece < torrent.pieceCount; piece++) {
 *   for (const { offset, length } of store.missingBlocks(piece)) {
 *     await store.writeBlock(piece, offset, await receive(piece, offset, length));
 *   }
 * }
 * await store.close();
 * ```
 *
 * @module
 */
export { StorageError, toStorageError } from "./errors.ts";
export type { StorageErrorKind } from "./errors.ts";
export type { Storage, StorageOpenOptions, StoredFileStat, TorrentStorage } from "./types.ts";
export { checkPieceRange, filePieceRange, fileSpans } from "./layout.ts";
export type { FileSpan } from "./layout.ts";
export { MemoryStorage } from "./memory.ts";
export type { MemoryStorageOptions } from "./memory.ts";
export { FileSystemStorage } from "./filesystem.ts";
export type { FileSystemStorageOptions, FileSystemTorrentStorage } from "./filesystem.ts";
export { HasherError, NodeCryptoHasher, SubtleCryptoHasher, WorkerPoolHasher } from "./hasher.ts";
export type { IncrementalSha1, Sha1Hasher } from "./hasher.ts";
export { DEFAULT_BLOCK_SIZE, PieceStore } from "./piece_store.ts";
export type {
  BlockWriteResult,
  PieceStoreOptions,
  RecheckProgress,
  RestoreSource,
} from "./piece_store.ts";
export { loadResume, saveResume } from "./resume.ts";
export type { ResumeLoadResult, ResumeState } from "./resume.ts";
