import { toHex } from "../util/bytes.ts";
import { ProtocolError } from "./errors.ts";
import type { ByteSource } from "./message_reader.ts";
import type { ByteSink } from "./message_writer.ts";

const PROTOCOL = new TextEncoder().encode("BitTorrent protocol");
/**
 * Length of a BitTorrent handshake: 1 + 19 + 8 + 20 + 20.
 *
 * @example
 * ```ts
 * import { HANDSHAKE_LENGTH } from "@bittern/bittern";
 *
 * console.log(HANDSHAKE_LENGTH); // 68
 * ```
 */
export const HANDSHAKE_LENGTH = 68;
/** Bytes up to and including the info hash: what a receiver needs before answering. */
const HANDSHAKE_PREFIX_LENGTH = 48;

/**
 * A BitTorrent handshake.
 *
 * @example
 * ```ts
 * import { encodeHandshake, type Handshake } from "@bittern/bittern";
 *
 * const handshake: Handshake = {
 *   reserved: new Uint8Array(8),
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 * };
 * console.log(encodeHandshake(handshake).length); // 68
 * ```
 */
export interface Handshake {
  /** The 8 reserved bytes (feature bits), exactly as sent. */
  readonly reserved: Uint8Array;
  /** The 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /** The 20-byte peer id. */
  readonly peerId: Uint8Array;
}

/**
 * One feature bit in the 8 reserved handshake bytes.
 *
 * @example
 * ```ts
 * import { hasReservedBit, type ReservedBit } from "@bittern/bittern";
 *
 * const azureusMessaging: ReservedBit = { byte: 0, mask: 0x80 };
 * console.log(hasReservedBit(new Uint8Array(8), azureusMessaging)); // false
 * ```
 */
export interface ReservedBit {
  /** Byte index, 0-7. */
  readonly byte: number;
  /** Bit mask within that byte. */
  readonly mask: number;
}

/**
 * Well-known reserved bits.
 *
 * @example
 * ```ts
 * import { hasReservedBit, ReservedBits } from "@bittern/bittern";
 *
 * const reserved = new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0]);
 * console.log(hasReservedBit(reserved, ReservedBits.extensionProtocol)); // true
 * ```
 */
export const ReservedBits: {
  /** BEP 10 extension protocol. */
  readonly extensionProtocol: ReservedBit;
  /** BEP 5 DHT. */
  readonly dht: ReservedBit;
  /** BEP 6 fast extension. */
  readonly fast: ReservedBit;
  /** BEP 52 v2 support (the hybrid-torrent upgrade). */
  readonly v2: ReservedBit;
} = Object.freeze({
  extensionProtocol: Object.freeze({ byte: 5, mask: 0x10 }),
  dht: Object.freeze({ byte: 7, mask: 0x01 }),
  fast: Object.freeze({ byte: 7, mask: 0x04 }),
  v2: Object.freeze({ byte: 7, mask: 0x10 }),
});

/**
 * Whether `bit` is set in `reserved`.
 *
 * @example
 * ```ts
 * import { hasReservedBit, ReservedBits } from "@bittern/bittern";
 *
 * console.log(hasReservedBit(new Uint8Array(8), ReservedBits.fast)); // false
 * ```
 *
 * @param reserved The 8 reserved bytes.
 * @param bit The bit to test.
 * @returns Whether it is set.
 */
export function hasReservedBit(reserved: Uint8Array, bit: ReservedBit): boolean {
  return (reserved[bit.byte] & bit.mask) !== 0;
}

/**
 * Sets (or clears) `bit` in `reserved`, in place.
 *
 * @example
 * ```ts
 * import { ReservedBits, setReservedBit } from "@bittern/bittern";
 *
 * const reserved = new Uint8Array(8);
 * setReservedBit(reserved, ReservedBits.extensionProtocol);
 * console.log(reserved[5]); // 16
 * ```
 *
 * @param reserved The 8 reserved bytes.
 * @param bit The bit to change.
 * @param on `true` to set, `false` to clear.
 */
export function setReservedBit(reserved: Uint8Array, bit: ReservedBit, on = true): void {
  if (on) reserved[bit.byte] |= bit.mask;
  else reserved[bit.byte] &= ~bit.mask;
}

/**
 * Encodes a handshake (68 bytes).
 *
 * @example
 * ```ts
 * import { encodeHandshake } from "@bittern/bittern";
 *
 * const bytes = encodeHandshake({
 *   reserved: new Uint8Array(8),
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 * });
 * console.log(bytes[0]); // 19
 * ```
 *
 * @param handshake Reserved bytes, info hash and peer id.
 * @returns The handshake bytes.
 */
export function encodeHandshake(handshake: Handshake): Uint8Array {
  checkLength(handshake.reserved, 8, "reserved bytes");
  checkLength(handshake.infoHash, 20, "info hash");
  checkLength(handshake.peerId, 20, "peer id");
  const bytes = new Uint8Array(HANDSHAKE_LENGTH);
  bytes[0] = PROTOCOL.length;
  bytes.set(PROTOCOL, 1);
  bytes.set(handshake.reserved, 20);
  bytes.set(handshake.infoHash, 28);
  bytes.set(handshake.peerId, 48);
  return bytes;
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) {
    throw new ProtocolError(
      "bad-handshake",
      `${what} must be ${length} bytes, got ${bytes.length}`,
    );
  }
}

/**
 * Options for {@linkcode readHandshake}.
 *
 * @example
 * ```ts
 * import { readHandshake, type ReadHandshakeOptions } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const options: ReadHandshakeOptions = { timeout: 5000, signal: AbortSignal.timeout(10_000) };
 * const remote = await readHandshake(conn, options);
 * ```
 */
export interface ReadHandshakeOptions {
  /** Milliseconds allowed for the whole handshake to arrive. Default 10 000. */
  readonly timeout?: number;
  /** Aborts the wait (the caller then closes the connection). */
  readonly signal?: AbortSignal;
  /**
   * For outgoing connections: the info hash the peer must answer with, or the
   * hashes it may answer with (a hybrid torrent's v1 and v2, BEP 52).
   */
  readonly expectedInfoHash?: Uint8Array | readonly Uint8Array[];
  /**
   * For incoming connections: called with the info hash before the peer id is
   * read, so the receiver can find the torrent and send its own handshake
   * (as BEP 3 allows). Throw (e.g. `unknown-info-hash`) to stop.
   */
  readonly onInfoHash?: (infoHash: Uint8Array, reserved: Uint8Array) => void | Promise<void>;
}

/**
 * Reads a peer's handshake, exactly 68 bytes and not one more (so messages
 * that follow stay in the socket for the message reader). Throws
 * {@linkcode ProtocolError}: `handshake-timeout`, `bad-handshake`,
 * `connection-closed`, or whatever `onInfoHash` throws. After a timeout or
 * abort a read may still be pending: close the connection.
 *
 * @example
 * ```ts
 * import { readHandshake } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const remote = await readHandshake(conn, { timeout: 5000 });
 * console.log(remote.peerId.length); // 20
 * ```
 *
 * @param source The connection.
 * @param options Timeout, expected info hash, incoming hook.
 * @returns The peer's handshake.
 */
export async function readHandshake(
  source: ByteSource,
  options: ReadHandshakeOptions = {},
): Promise<Handshake> {
  const timeout = options.timeout ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new ProtocolError("handshake-timeout", `no handshake within ${timeout} ms`, { timeout }),
      );
    }, timeout);
    const signal = options.signal;
    if (signal) {
      onAbort = () => reject(new ProtocolError("connection-closed", "handshake aborted"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  stop.catch(() => {});
  try {
    const prefix = await readExactly(source, HANDSHAKE_PREFIX_LENGTH, stop);
    if (prefix[0] !== PROTOCOL.length || !startsWithProtocol(prefix)) {
      throw new ProtocolError(
        "bad-handshake",
        `not a BitTorrent handshake (starts with ${toHex(prefix.subarray(0, 20))})`,
      );
    }
    const reserved = prefix.slice(20, 28);
    const infoHash = prefix.slice(28, 48);
    const expected = options.expectedInfoHash === undefined
      ? []
      : options.expectedInfoHash instanceof Uint8Array
      ? [toHex(options.expectedInfoHash)]
      : options.expectedInfoHash.map(toHex);
    if (expected.length && !expected.includes(toHex(infoHash))) {
      throw new ProtocolError(
        "bad-handshake",
        `peer answered for info hash ${toHex(infoHash)}, expected ${expected.join(" or ")}`,
        { infoHash: toHex(infoHash), expected: expected.join(",") },
      );
    }
    if (options.onInfoHash) await Promise.race([options.onInfoHash(infoHash, reserved), stop]);
    const peerId = await readExactly(source, 20, stop);
    return { reserved, infoHash, peerId };
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

function startsWithProtocol(prefix: Uint8Array): boolean {
  for (let i = 0; i < PROTOCOL.length; i++) if (prefix[i + 1] !== PROTOCOL[i]) return false;
  return true;
}

/** Reads exactly `length` bytes, or throws when `stop` rejects or the stream ends. */
async function readExactly(source: ByteSource, length: number, stop: Promise<never>) {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const reading = source.read(bytes.subarray(filled));
    // If `stop` wins, this read stays pending until the connection is closed.
    reading.catch(() => {});
    let count: number | null;
    try {
      count = await Promise.race([reading, stop]);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError("connection-closed", "connection failed during the handshake", {}, {
        cause: error,
      });
    }
    if (count === null) {
      throw new ProtocolError(
        "connection-closed",
        `connection closed after ${filled} of ${length} handshake bytes`,
        { received: filled },
      );
    }
    filled += count;
  }
  return bytes;
}

/**
 * Writes all of `bytes` to `sink` (a handshake before any {@linkcode MessageWriter} exists).
 *
 * @example
 * ```ts
 * import { writeHandshake } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * await writeHandshake(conn, {
 *   reserved: new Uint8Array(8),
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 * });
 * ```
 *
 * @param sink The connection.
 * @param handshake What to send.
 */
export async function writeHandshake(sink: ByteSink, handshake: Handshake): Promise<void> {
  const bytes = encodeHandshake(handshake);
  try {
    for (let written = 0; written < bytes.length;) {
      written += await sink.write(bytes.subarray(written));
    }
  } catch (error) {
    throw new ProtocolError("connection-closed", "writing the handshake failed", {}, {
      cause: error,
    });
  }
}
