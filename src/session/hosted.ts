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
