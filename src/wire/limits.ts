import { WireOptionsError } from "./errors.ts";

/**
 * Bounds the codec enforces on what a peer sends. Every limit is explicit so
 * a hostile peer can cost at most this much memory before it is dropped.
 *
 * @example Accepting 32 KiB blocks
 * ```ts
 * import { FrameDecoder, type WireLimits } from "@bittern/bittern";
 *
 * const limits: WireLimits = { maxBlockLength: 32 * 1024, maxRequestLength: 32 * 1024 };
 * const decoder = new FrameDecoder({ limits });
 * ```
 */
export interface WireLimits {
  /**
   * Largest `piece` block accepted, in bytes. Every frame other than bitfield
   * and extended messages is bounded by this plus the 9-byte piece header.
   * Default 16 KiB.
   */
  readonly maxBlockLength?: number;
  /** Largest `request` a peer may make, in bytes. Default 16 KiB. */
  readonly maxRequestLength?: number;
  /**
   * Largest bitfield accepted while the torrent's piece count is unknown (a
   * magnet link before its metadata). With a known piece count a bitfield must
   * be exactly `ceil(pieceCount / 8)` bytes. Default 256 KiB (2 Mi pieces).
   */
  readonly maxBitfieldLength?: number;
  /**
   * Largest extended (BEP 10) message body, in bytes, the extended handshake
   * included (checked from the length prefix, before the body is buffered).
   * Default 64 KiB.
   */
  readonly maxExtendedLength?: number;
  /**
   * Largest `metadata_size` (BEP 9: the info dictionary's size) a peer may
   * announce in its extended handshake; a larger one closes the connection
   * with `metadata-too-large`. Default 16 MiB.
   */
  readonly maxMetadataSize?: number;
  /**
   * How many BEP 10 extended handshakes a peer may send on one connection: the
   * first plus updates (BEP 10 lets a peer change its `m` later). One more
   * closes the connection with `too-many-extended-handshakes`. Default 5.
   */
  readonly maxExtendedHandshakes?: number;
  /**
   * Most hashes a BEP 52 `hash request`, `hashes` or `hash reject` may name (its `length`);
   * it bounds a `hashes` frame to about 32 bytes times this. Default 8192, libtorrent's
   * limit (512 piece hashes is what libtorrent and Bittern ask for).
   */
  readonly maxHashCount?: number;
  /** Milliseconds to wait for the peer's handshake. Default 10 000. */
  readonly handshakeTimeout?: number;
}

/**
 * {@linkcode WireLimits} with every default filled in.
 *
 * @example
 * ```ts
 * import { resolveWireLimits, type ResolvedWireLimits } from "@bittern/bittern";
 *
 * const limits: ResolvedWireLimits = resolveWireLimits({});
 * console.log(limits.maxExtendedLength); // 65536
 * ```
 */
export type ResolvedWireLimits = Required<WireLimits>;

/**
 * The defaults of {@linkcode WireLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_WIRE_LIMITS } from "@bittern/bittern";
 *
 * console.log(DEFAULT_WIRE_LIMITS.maxBlockLength); // 16384
 * ```
 */
export const DEFAULT_WIRE_LIMITS: ResolvedWireLimits = Object.freeze({
  maxBlockLength: 16 * 1024,
  maxRequestLength: 16 * 1024,
  maxBitfieldLength: 256 * 1024,
  maxExtendedLength: 64 * 1024,
  maxMetadataSize: 16 * 1024 * 1024,
  maxExtendedHandshakes: 5,
  maxHashCount: 8192,
  handshakeTimeout: 10_000,
});

/**
 * Fills in defaults and checks that each given limit is a positive integer.
 *
 * @example
 * ```ts
 * import { resolveWireLimits } from "@bittern/bittern";
 *
 * console.log(resolveWireLimits({ maxRequestLength: 8192 }).maxBlockLength); // 16384
 * ```
 *
 * @param limits The caller's limits, possibly partial.
 * @returns Every limit, with defaults for the missing ones.
 */
export function resolveWireLimits(limits: WireLimits = {}): ResolvedWireLimits {
  const resolved = { ...DEFAULT_WIRE_LIMITS };
  for (const key of Object.keys(DEFAULT_WIRE_LIMITS) as (keyof WireLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new WireOptionsError(`wire limits: ${key} must be a positive integer, got ${value}`);
    }
    resolved[key] = value;
  }
  return resolved;
}

/**
 * What the codec needs to know about the torrent to range-check messages.
 * A parsed `Torrent` satisfies this interface as is.
 *
 * @example Using a torrent as context
 * ```ts
 * import { FrameDecoder, type Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const decoder = new FrameDecoder({ context: torrent });
 * ```
 */
export interface WireContext {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Nominal piece length; the last piece may be shorter. */
  readonly pieceLength: number;
  /** Total length of the torrent's data, in bytes. */
  readonly length: number;
}
