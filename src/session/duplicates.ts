/**
 * One rule for a new connection to a peer we may already know, shared by a torrent's session
 * and a magnet link's metadata phase: ourselves, a second connection to the same peer, or
 * one over the session's limits is closed, and the pool is told why.
 */
import { bytesEqual } from "../util/bytes.ts";
import type { Peer } from "./peer.ts";
import type { PeerPool } from "./pool.ts";

/**
 * Two connections to one peer (each side dialled the other at once): both
 * sides keep the one the lower peer id dialled, as libtorrent does, so they
 * never each close a different one. Whether the new connection is that one
 * and the old one is not.
 */
export function keepsNewConnection(
  ownId: Uint8Array,
  peerId: Uint8Array,
  newIncoming: boolean,
  oldIncoming: boolean,
): boolean {
  let weAreLower = false;
  for (let i = 0; i < ownId.length; i++) {
    if (ownId[i] !== peerId[i]) {
      weAreLower = ownId[i] < peerId[i];
      break;
    }
  }
  // The lower id dialled it: our outgoing connection when we are lower, else our incoming one.
  const kept = (connectionIncoming: boolean) =>
    weAreLower ? !connectionIncoming : connectionIncoming;
  return kept(newIncoming) && !kept(oldIncoming);
}

/** A new connection, as {@linkcode admitConnection} weighs it. */
export interface NewConnection {
  /** Our peer id. */
  readonly ownId: Uint8Array;
  /** The remote's peer id, from its handshake. */
  readonly peerId: Uint8Array;
  /** Whether the remote dialled us. */
  readonly incoming: boolean;
  /** Its `host:port` in the pool. */
  readonly key: string;
}

/**
 * Whether the session takes `connection`: not when it is ourselves (the address is
 * excluded from the pool), a second connection to a connected peer (the older one is
 * closed instead when the new one is the one both sides keep), or refused by `accepts`
 * (limits, bans). A refused outgoing connection is booked in `pool`; the caller closes it.
 */
export function admitConnection(
  connection: NewConnection,
  connected: Iterable<Peer>,
  pool: PeerPool,
  accepts: () => boolean,
): boolean {
  const { ownId, peerId, incoming, key } = connection;
  const selfConnection = bytesEqual(peerId, ownId);
  let duplicate: Peer | undefined;
  for (const other of connected) {
    if (bytesEqual(other.peerId, peerId)) {
      duplicate = other;
      break;
    }
  }
  if (duplicate && keepsNewConnection(ownId, peerId, incoming, duplicate.incoming)) {
    // Both sides dialled at once: each keeps the same one of the two connections.
    duplicate.close("duplicate connection (the one the lower peer id dialled is kept)");
    duplicate = undefined;
  }
  if (!selfConnection && !duplicate && accepts()) return true;
  if (selfConnection) pool.exclude(key);
  // Connected already (the other way): no use redialling it every few seconds.
  else if (duplicate && !incoming) pool.failed(key, "duplicate");
  else if (!incoming) pool.released(key);
  return false;
}
