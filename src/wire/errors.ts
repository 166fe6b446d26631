/**
 * What went wrong on a peer connection, as a stable machine-readable code.
 *
 * - `frame-too-large`: a length prefix above the configured bound for its message id.
 * - `bad-length`: a fixed-size message (have, request, ...) with the wrong length.
 * - `bad-bitfield`: a bitfield of the wrong size for the torrent, or with spare bits set.
 * - `out-of-range`: a have/request/piece/cancel outside the torrent's pieces.
 * - `request-too-large`: a request for more than the configured block length.
 * - `bad-request`: a request or cancel for zero bytes.
 * - `fast-not-negotiated`: a fast extension message (BEP 6: have all/none, suggest, reject,
 *   allowed fast) on a connection where either side did not set the fast bit.
 * - `bad-hash-request`: a BEP 52 `hash request`, `hashes` or `hash reject` whose `length` is
 *   not a power of two, exceeds `WireLimits.maxHashCount`, or does not divide `index`, or with
 *   more than 64 proof layers, or a `hashes` whose size does not match its fields.
 * - `handshake-timeout`: the handshake did not arrive in time.
 * - `bad-handshake`: the handshake is not the BitTorrent protocol, or names another torrent.
 * - `unknown-info-hash`: an incoming handshake for a torrent we do not serve.
 * - `rejected`: a {@linkcode HandshakeHandler} rejected the peer.
 * - `bad-extended-handshake`: the BEP 10 handshake is not a bencoded dictionary.
 * - `bad-extended-message`: a registered extension's decoder rejected a message.
 * - `too-many-extended-handshakes`: more BEP 10 handshakes (first plus updates) than
 *   `WireLimits.maxExtendedHandshakes` on one connection.
 * - `metadata-too-large`: an extended handshake announced a `metadata_size` above
 *   `WireLimits.maxMetadataSize`.
 * - `connection-closed`: the peer closed the connection mid-handshake or mid-frame.
 * - `idle-timeout`: nothing arrived from the peer for too long.
 * - `write-timeout`: the peer took nothing we had queued for it for too long.
 * - `encryption-refused`: the peer hung up on our MSE public key (a plain-only peer).
 * - `bad-encryption-key`: the peer's MSE public key is truncated or out of range.
 * - `no-encryption-sync`: no MSE sync marker within the padding the spec allows.
 * - `bad-encryption-padding`: an MSE padding (or initial payload) length above its bound.
 * - `encryption-mismatch`: a wrong MSE verification constant, or no crypto method in common.
 * - `encryption-policy`: a plain peer where encryption is required, or MSE where it is off.
 *
 * @example
 * ```ts
 * import type { ProtocolErrorCode } from "@bittern/bittern";
 *
 * const banWorthy: ProtocolErrorCode[] = ["bad-bitfield", "out-of-range"];
 * ```
 */
export type ProtocolErrorCode =
  | "frame-too-large"
  | "bad-length"
  | "bad-bitfield"
  | "out-of-range"
  | "request-too-large"
  | "bad-request"
  | "fast-not-negotiated"
  | "bad-hash-request"
  | "handshake-timeout"
  | "bad-handshake"
  | "unknown-info-hash"
  | "rejected"
  | "bad-extended-handshake"
  | "bad-extended-message"
  | "too-many-extended-handshakes"
  | "metadata-too-large"
  | "connection-closed"
  | "idle-timeout"
  | "write-timeout"
  | "encryption-refused"
  | "bad-encryption-key"
  | "no-encryption-sync"
  | "bad-encryption-padding"
  | "encryption-mismatch"
  | "encryption-policy";

/**
 * A peer broke the wire protocol (or a limit). The connection to that peer is
 * closed; nothing else is affected.
 *
 * @example Telling protocol errors apart
 * ```ts
 * import { ProtocolError } from "@bittern/bittern";
 *
 * const error = new ProtocolError("frame-too-large", "frame of 99999999 bytes exceeds 16393");
 * if (error instanceof ProtocolError && error.code === "frame-too-large") {
 *   console.log(error.message);
 * }
 * ```
 */
export class ProtocolError extends Error {
  /** Which rule was broken. */
  readonly code: ProtocolErrorCode;
  /** The offending values (lengths, indices, limits), for logs and tests. */
  readonly detail: Readonly<Record<string, number | string>>;

  /**
   * Creates a protocol error.
   *
   * @param code Which rule was broken.
   * @param message What happened, naming the offending values.
   * @param detail The offending values.
   * @param options The underlying error as `cause`, if any.
   */
  constructor(
    code: ProtocolErrorCode,
    message: string,
    detail: Readonly<Record<string, number | string>> = {},
    options?: ErrorOptions,
  ) {
    super(`wire: ${message}`, options);
    this.name = "ProtocolError";
    this.code = code;
    this.detail = detail;
  }
}

/**
 * An option given to the wire layer is invalid (a programming error, not a peer's fault).
 *
 * @example
 * ```ts
 * import { resolveWireLimits, WireOptionsError } from "@bittern/bittern";
 *
 * try {
 *   resolveWireLimits({ maxBlockLength: -1 });
 * } catch (error) {
 *   console.log(error instanceof WireOptionsError); // true
 * }
 * ```
 */
export class WireOptionsError extends Error {
  /**
   * Creates an options error.
   *
   * @param message Which option is wrong and why.
   */
  constructor(message: string) {
    super(message);
    this.name = "WireOptionsError";
  }
}
