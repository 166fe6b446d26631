import type { PeerAddress } from "../util/address.ts";
import type { WireContext } from "../wire/limits.ts";
import type { PeerWire } from "../wire/peer_wire.ts";

/**
 * What the runtime dials for and routes connections to: a torrent's session,
 * or a magnet link's (which has no torrent until its metadata arrives).
 */
export interface HostedSession {
  /** Lowercase hex info hash. */
  readonly infoHash: string;
  /** The 20-byte info hash. */
  readonly infoHashBytes: Uint8Array;
  /**
   * A hybrid torrent's truncated v2 info hash (BEP 52): the session is reachable
   * under it too, and peers found in the v2 swarm are dialled with it.
   */
  readonly infoHashV2Bytes?: Uint8Array;
  /** Whether the torrent has a v2 info hash (v2-only or hybrid): its handshakes set the v2 bit. */
  readonly hasV2?: boolean;
  /** The torrent's shape for the wire's range checks, once known. */
  readonly wireContext: WireContext | undefined;
  /** Whether the session takes one more peer at `key` from `host`. */
  accepts(key: string, host: string, port: number): boolean;
  /** Takes over a connection whose handshake succeeded. */
  attach(wire: PeerWire, host: string, port: number, incoming: boolean): void;
  /** A dial of `address` did not produce a connection. */
  dialFailed(address: PeerAddress, error: unknown): void;
  /** A dial of `address` was called off before connecting (limits, runtime closing). */
  dialCancelled(address: PeerAddress): void;
  /** Stops the session for good. */
  stop(reason?: string): Promise<void>;
}
