import type { HandshakeContext, HandshakeHandler } from "./handlers.ts";
import { ReservedBits, setReservedBit } from "./handshake.ts";

/**
 * The fast extension (BEP 6) as a {@linkcode HandshakeHandler}: sets the fast
 * bit (byte 7, `0x04`) in our handshake. The extension is on for a connection
 * when both handshakes carry the bit ({@linkcode PeerWire.supportsFast}); its
 * messages (`have-all`, `have-none`, `suggest-piece`, `reject-request`,
 * `allowed-fast`) are then decoded, and are a `fast-not-negotiated`
 * `ProtocolError` otherwise.
 *
 * @example
 * ```ts
 * import { ExtensionProtocol, FastExtension, PeerWire } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * declare const infoHash: Uint8Array;
 * declare const peerId: Uint8Array;
 * const wire = await PeerWire.connect(conn, {
 *   infoHash,
 *   peerId,
 *   handlers: [new ExtensionProtocol(), new FastExtension()],
 * });
 * console.log(wire.supportsFast);
 * ```
 */
export class FastExtension implements HandshakeHandler {
  /** Handler name. */
  readonly name = "bep6";

  /**
   * Sets the fast bit.
   *
   * @param context The connection's handshake context.
   */
  onLocalHandshake(context: HandshakeContext): void {
    setReservedBit(context.reserved, ReservedBits.fast);
  }
}
