/**
 * Bencode, the serialisation format of BitTorrent: a strict, fast decoder
 * that reports byte offsets on every error, and a canonical encoder.
 *
 * @example Round trip
 * ```ts
 * import { decode, encode } from "@bittern/bittern";
 *
 * const bytes = new TextEncoder().encode("d3:bar4:spam3:fooi42ee");
 * console.log(encode(decode(bytes)).length === bytes.length); // true
 * ```
 *
 * @module
 */
export { decode, decodePrefix, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, locate } from "./decode.ts";
export type { DecodeOptions, Span } from "./decode.ts";
export { encode } from "./encode.ts";
export { BencodeDict } from "./dict.ts";
export { BencodeError } from "./errors.ts";
export type { BencodeValue, Encodable } from "./types.ts";
