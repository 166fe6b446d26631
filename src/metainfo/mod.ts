/**
 * Metainfo (`.torrent`) files: parsing with safe file names, and creation.
 *
 * @example Parsing a torrent
 * ```ts
 * import { parseTorrent } from "@bittern/bittern";
 *
 * const torrent = parseTorrent(await Deno.readFile("x.torrent"));
 * console.log(torrent.infoHashHex);
 * ```
 *
 * @module
 */
export { pieceHashAt, pieceLengthAt, visibleFileIndices, visibleFiles } from "./torrent.ts";
export type { Torrent, TorrentFile, TorrentVersion } from "./torrent.ts";
export { assertDownloadable, MagnetError, TorrentError, torrentError } from "./errors.ts";
export type { TorrentErrorCode, TorrentErrorOptions, TorrentProblem } from "./errors.ts";
export { isWebSeedUrl, readWebSeeds } from "./web_seeds.ts";
export type { WebSeed } from "./web_seeds.ts";
export {
  DEFAULT_MAX_SEGMENT_BYTES,
  FALLBACK_SEGMENT,
  sanitizeFilePaths,
  sanitizePath,
  sanitizePathSegment,
} from "./sanitize.ts";
export type { SanitizeOptions } from "./sanitize.ts";
export {
  DEFAULT_MAX_FILES,
  DEFAULT_MAX_PATH_SEGMENTS,
  DEFAULT_MAX_PIECES,
  parseTorrent,
} from "./parse.ts";
export type { ParseTorrentOptions } from "./parse.ts";
export { createTorrent } from "./create.ts";
export { metainfoFromInfo } from "./from_info.ts";
export type { MetainfoFromInfoOptions } from "./from_info.ts";
export type { CreatedTorrent, CreateTorrentOptions } from "./create.ts";
export { DEFAULT_TORRENT_FORMAT } from "./create_v2.ts";
export type { TorrentFormat } from "./create_v2.ts";
export type { MemoryFile, TorrentSource } from "./create_source.ts";
export {
  choosePieceLength,
  MAX_AUTO_PIECE_LENGTH,
  MIN_AUTO_PIECE_LENGTH,
  TARGET_PIECE_COUNT,
} from "./piece_length.ts";
export { PieceHasher } from "./piece_hasher.ts";
export {
  hashPair,
  MERKLE_BLOCK_SIZE,
  MERKLE_HASH_LENGTH,
  MerkleFileHasher,
  merkleLayers,
  merkleRoot,
  nextPowerOfTwo,
  pieceHeight,
  pieceLayerRoot,
  proofFor,
  sha256,
  verifyProof,
  zeroSubtreeRoot,
} from "./merkle.ts";
export {
  formatMagnet,
  MAX_MAGNET_LENGTH,
  MAX_MAGNET_PARAMETERS,
  MAX_SELECT_ONLY,
  parseMagnet,
} from "./magnet.ts";
export type { Magnet } from "./magnet.ts";
