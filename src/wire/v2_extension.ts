import type { HandshakeContext, HandshakeHandler } from "./handlers.ts";
import { ReservedBits, setReservedBit } from "./handshake.ts";

/**
 * BitTorrent v2 (BEP 52) as a {@linkcode HandshakeHandler}: sets the v2 bit
 * (byte 7, `0x10`) in our handshake. Give it only to torrents with a v2 info
 * hash (v2-only and hybrid): libtorrent drops a peer that sets the bit for a
 * v1-only torrent. With the bit in both handshakes
 * ({@linkcode PeerWire.supportsV2}) a connection made under a hybrid torrent's
 * v1 info hash speaks v2 too — hash requests may be exchanged (BEP 52's
 * upgrade); one made under the truncated v2 hash speaks v2 anyway (libtorrent
 * 2.0.8 leaves the bit out there).
 *
 * @example
 * ```ts
 * import { ExtensionProtocol, PeerWire, V2Extension } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * declare const infoHash: Uint8Array;
 * declare const peerId: Uint8Array;
 * const wire = await PeerWire.connect(conn, {
 *   infoHash,
 *   peerId,
 *   handlers: [new ExtensionProtocol(), new V2Extension()],
 * });
 * console.log(wire.supportsV2);
 * ```
 */
export class V2Extension implements HandshakeHandler {
  /** Handler name. */
  readonly name = "bep52";
  readonly #enabled: () => boolean;

  /**
   * Creates the handler.
   *
   * @param enabled Asked at each handshake (default: always): e.g. whether a magnet link's
   * torrent is known to have a v2 info hash yet.
   */
  constructor(enabled: () => boolean = () => true) {
    this.#enabled = enabled;
  }

  /**
   * Sets the v2 bit (when enabled).
   *
   * @param context The connection's handshake context.
   */
  onLocalHandshake(context: HandshakeContext): void {
    if (this.#enabled()) setReservedBit(context.reserved, ReservedBits.v2);
  }
}
