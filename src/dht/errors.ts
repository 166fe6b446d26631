/**
 * What went wrong in the DHT: a malformed KRPC message (`malformed`), a remote node's KRPC
 * error answer (`remote-error`), a query that got no answer in time (`timeout`), a socket
 * problem (`socket`), bad saved state (`bad-state`), or a closed node (`closed`).
 *
 * @example
 * ```ts
 * import { DhtError } from "@bittern/bittern";
 *
 * const error = new DhtError("timeout", "no answer to ping from 127.0.0.1:6881");
 * console.log(error.code); // "timeout"
 * ```
 */
export type DhtErrorCode =
  | "malformed"
  | "remote-error"
  | "timeout"
  | "socket"
  | "bad-state"
  | "closed"
  | "overloaded";

/**
 * KRPC error codes (BEP 5): 201 generic, 202 server, 203 protocol (malformed packet, invalid
 * arguments, bad token), 204 method unknown.
 *
 * @example
 * ```ts
 * import { KrpcErrorCode } from "@bittern/bittern";
 *
 * console.log(KrpcErrorCode.protocol); // 203
 * ```
 */
export const KrpcErrorCode: {
  /** 201: generic error. */
  readonly generic: 201;
  /** 202: server error. */
  readonly server: 202;
  /** 203: protocol error (malformed packet, invalid arguments, bad token). */
  readonly protocol: 203;
  /** 204: method unknown. */
  readonly methodUnknown: 204;
} = Object.freeze({ generic: 201, server: 202, protocol: 203, methodUnknown: 204 });

/**
 * A typed DHT error naming what and where: `code` says what, the message names the remote
 * address or field, and `krpcCode` carries the KRPC error code to answer with (or the one
 * received).
 *
 * @example
 * ```ts
 * import { DhtError, KrpcErrorCode } from "@bittern/bittern";
 *
 * const error = new DhtError("malformed", "get_peers: info_hash is not 20 bytes", {
 *   krpcCode: KrpcErrorCode.protocol,
 * });
 * console.log(error.message); // "dht: get_peers: info_hash is not 20 bytes"
 * ```
 */
export class DhtError extends Error {
  /** What kind of failure. */
  readonly code: DhtErrorCode;
  /** The KRPC error code to answer with, or the one a remote node sent. */
  readonly krpcCode: number | undefined;
  /** The transaction id of the message at fault, when it could be read. */
  readonly transactionId: Uint8Array | undefined;

  /**
   * Creates the error.
   *
   * @param code What kind of failure.
   * @param message What and where.
   * @param detail KRPC error code and transaction id, and the cause.
   */
  constructor(
    code: DhtErrorCode,
    message: string,
    detail: { krpcCode?: number; transactionId?: Uint8Array; cause?: unknown } = {},
  ) {
    super(`dht: ${message}`, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = "DhtError";
    this.code = code;
    this.krpcCode = detail.krpcCode;
    this.transactionId = detail.transactionId;
  }
}
