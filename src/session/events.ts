import type { Torrent } from "../metainfo/torrent.ts";

/** Transfer figures of a session at one moment. */
export interface SessionStats {
  /** Bytes of verified pieces we hold. */
  readonly verifiedBytes: number;
  /** Bytes wanted in all (the selected files' pieces). */
  readonly wantedBytes: number;
  /** Verified pieces. */
  readonly verifiedPieces: number;
  /** Pieces in the torrent. */
  readonly pieceCount: number;
  /** Payload bytes received this session (including discarded ones). */
  readonly downloaded: number;
  /**
   * Bytes of pieces that failed their hash check, thrown away to be fetched again: the whole
   * piece, or for a v2 piece repaired by its leaf hashes (BEP 52) only its bad blocks.
   */
  readonly wastedBytes: number;
  /** Payload bytes sent this session. */
  readonly uploaded: number;
  /** Receive rate, bytes per second. */
  readonly downloadRate: number;
  /** Send rate, bytes per second. */
  readonly uploadRate: number;
  /** Connected peers. */
  readonly peers: number;
  /**
   * Bytes the connected peers' connections hold: read buffers, write buffers and bytes
   * queued for the peers (`PeerWire.bufferedBytes`, summed).
   */
  readonly bufferedBytes: number;
  /** Seconds left at the current rate, or `undefined` when unknown. */
  readonly eta: number | undefined;
  /** Fraction of wanted bytes verified, 0..1. */
  readonly progress: number;
}

/** A peer as events describe it. */
export interface PeerInfo {
  /** `host:port`. */
  readonly address: string;
  /** Client name from the peer id. */
  readonly client: string;
  /** Whether it connected to us. */
  readonly incoming: boolean;
}

/** Events of a torrent session, by name. */
export interface SessionEvents {
  /**
   * A session added from a magnet link is fetching the metadata (about once a
   * second until it arrives): `peers` connected; `stage` `"piece layers"` once the info
   * dictionary is in and a `btmh` link's v2 piece layers are being fetched (BEP 52).
   */
  "metadata-progress": { readonly peers: number; readonly stage?: "info" | "piece layers" };
  /** The metadata of a session added from a magnet link arrived and checked out. */
  metadata: { readonly torrent: Torrent };
  /**
   * The session started (storage open, existing data checked); for a magnet
   * link, once its metadata is known.
   */
  started: { readonly infoHash: string; readonly name: string; readonly verifiedPieces: number };
  /** A peer completed its handshakes. */
  "peer-connected": PeerInfo;
  /** A peer left or was dropped. */
  "peer-disconnected": PeerInfo & { readonly reason: string };
  /**
   * Connecting to a peer failed before it joined: refused, timed out, or its
   * handshake was rejected (by the peer or by a handshake handler).
   */
  "peer-failed": { readonly address: string; readonly reason: string };
  /**
   * A web seed failed (a wrong answer, an error status, no answer, or data that failed a
   * piece's hash): it backs off for `retryInMs`, or is given up when that is `undefined`.
   */
  "web-seed-failed": {
    readonly url: string;
    readonly error: Error;
    readonly retryInMs: number | undefined;
  };
  /** A peer was banned for the rest of the session. */
  "peer-banned": PeerInfo & { readonly reason: string };
  /** A piece passed its hash check (SHA-1, v2 merkle root, or both for a hybrid). */
  "piece-verified": { readonly index: number };
  /** A piece failed its hash check; these peers sent its blocks. */
  "piece-failed": { readonly index: number; readonly peers: readonly string[] };
  /**
   * No peer is connected or being dialled and none is ready to try (all
   * failed, backing off or banned). The session keeps asking its sources and
   * retrying with back-off; `peer-connected` ends the stall.
   */
  stalled: { readonly reason: string };
  /** About once a second while running. */
  progress: SessionStats;
  /** Every wanted piece is verified. */
  completed: SessionStats;
  /** A tracker or peer source reported a problem; the session goes on. */
  warning: { readonly source: string; readonly message: string };
  /** Something a tracker said or did (announce results). */
  tracker: {
    readonly url: string;
    readonly event: string;
    readonly peers?: number;
    readonly error?: string;
  };
  /** The session failed and stopped (e.g. a disk error). */
  error: { readonly error: Error };
  /** The session stopped. */
  stopped: { readonly reason: string };
}

/**
 * Events of a `Runtime` (not of one torrent), by name.
 *
 * @example
 * ```ts
 * import { Runtime } from "@bittern/bittern";
 *
 * const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
 * runtime.events.on("incoming-failed", ({ address, reason }) => console.log(address, reason));
 * ```
 */
export interface RuntimeEvents {
  /**
   * A connection a peer made failed before it joined a torrent and was closed: its MSE or
   * BitTorrent handshake was malformed, named a torrent we do not serve (or whose encryption
   * policy refuses it), or did not finish in time. The runtime goes on.
   */
  "incoming-failed": {
    /** The peer's `host:port`. */
    readonly address: string;
    /** One line: what went wrong. */
    readonly reason: string;
    /** The error (a `ProtocolError` for a bad handshake, with its `code`). */
    readonly error: Error;
  };
}
