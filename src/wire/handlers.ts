import type { BencodeDict } from "../bencode/dict.ts";
import { ProtocolError } from "./errors.ts";
import type { ExtendedHandshake, ExtensionIds } from "./extensions.ts";
import type { Handshake } from "./handshake.ts";
import type { TransportAddress } from "../transport/types.ts";

/**
 * What a {@linkcode HandshakeHandler} sees and may change about one
 * connection's handshake. One context exists per connection.
 *
 * @example Rejecting a peer from a handler
 * ```ts
 * import type { HandshakeContext } from "@bittern/bittern";
 *
 * declare const context: HandshakeContext;
 * if (context.remote && context.remote.peerId[0] === 0) context.reject("peer id starts with 0");
 * ```
 */
export interface HandshakeContext {
  /** `outgoing` when we connected, `incoming` when the peer did. */
  readonly direction: "outgoing" | "incoming";
  /** The torrent's info hash. */
  readonly infoHash: Uint8Array;
  /** Our peer id. */
  readonly localPeerId: Uint8Array;
  /** Our 8 reserved bytes; set bits here in {@linkcode HandshakeHandler.onLocalHandshake}. */
  readonly reserved: Uint8Array;
  /** The peer's address (its `transport` names the transport, e.g. `tcp`). */
  readonly remoteAddress: TransportAddress | undefined;
  /** The peer's handshake, once read. */
  readonly remote: Handshake | undefined;
  /** The peer's extended handshake, once received (BEP 10). */
  readonly remoteExtendedHandshake: ExtendedHandshake | undefined;
  /**
   * Per-connection BEP 10 ids; set by the extension protocol handler
   * ({@linkcode ExtensionProtocol}) in its `onLocalHandshake`.
   */
  extensions: ExtensionIds | undefined;
  /**
   * Rejects the peer: the connection is closed with a `rejected` {@linkcode ProtocolError}.
   *
   * @param reason Why, for the error message.
   */
  reject(reason: string): never;
}

/**
 * A plug-in that takes part in every handshake, outgoing and incoming. All
 * hooks are optional; throwing (or calling `context.reject`) from any hook
 * rejects the peer. Hooks run in the order the handlers are given.
 *
 * @example A handler that sets the DHT bit and refuses one client
 * ```ts
 * import { type HandshakeHandler, ReservedBits, setReservedBit } from "@bittern/bittern";
 *
 * const handler: HandshakeHandler = {
 *   name: "dht-bit",
 *   onLocalHandshake(context) {
 *     setReservedBit(context.reserved, ReservedBits.dht);
 *   },
 *   onRemoteHandshake(context, remote) {
 *     if (new TextDecoder().decode(remote.peerId.subarray(0, 3)) === "-XX") context.reject("XX");
 *   },
 *   onLocalExtendedHandshake(_context, fields) {
 *     fields.set("x_hello", 1);
 *   },
 * };
 * ```
 */
export interface HandshakeHandler {
  /** Identifies the handler in errors. */
  readonly name: string;
  /**
   * Before our handshake is sent: set reserved bits, prepare per-connection state.
   *
   * @param context The connection's handshake context.
   */
  onLocalHandshake?(context: HandshakeContext): void;
  /**
   * After the peer's handshake is read: inspect its reserved bits and peer id.
   *
   * @param context The connection's handshake context.
   * @param remote The peer's handshake.
   */
  onRemoteHandshake?(context: HandshakeContext, remote: Handshake): void | Promise<void>;
  /**
   * Building our BEP 10 extended handshake (sent only when both sides set the
   * BEP 10 bit): add or change fields.
   *
   * @param context The connection's handshake context.
   * @param fields The dictionary to be sent.
   */
  onLocalExtendedHandshake?(context: HandshakeContext, fields: BencodeDict): void;
  /**
   * The peer's extended handshake arrived (possibly again: peers may update
   * it, up to `WireLimits.maxExtendedHandshakes` times in all per connection).
   * `handshake` is parsed from a copy of the message and stays valid.
   *
   * @param context The connection's handshake context.
   * @param handshake The parsed handshake.
   */
  onRemoteExtendedHandshake?(
    context: HandshakeContext,
    handshake: ExtendedHandshake,
  ): void | Promise<void>;
}

/** Runs `hook` for every handler, turning any failure into a `rejected` ProtocolError. */
export async function runHandlers(
  handlers: readonly HandshakeHandler[],
  hook: (handler: HandshakeHandler) => void | Promise<void>,
): Promise<void> {
  for (const handler of handlers) {
    try {
      await hook(handler);
    } catch (error) {
      if (error instanceof ProtocolError && error.code !== "rejected") throw error;
      throw new ProtocolError(
        "rejected",
        `handshake handler ${handler.name} rejected the peer: ${
          (error as Error)?.message?.replace(/^wire: /, "") ?? error
        }`,
        { ...(error instanceof ProtocolError ? error.detail : {}), handler: handler.name },
        { cause: error },
      );
    }
  }
}
