import type { MessagingAgent } from "../agents/agent.ts";
import type { PeerAddress } from "../util/address.ts";
import type { MetainfoFetchers } from "../fetch/registry.ts";
import type { PexOptions } from "../peers/pex.ts";
import type { PeerSource } from "../peers/source.ts";
import type { TrackerPeerSourceOptions } from "../peers/tracker_source.ts";
import type { PieceSelector } from "../picker/selector.ts";
import type { SelectorName } from "../picker/named.ts";
import type { Sha1Hasher } from "../storage/hasher.ts";
import type { Storage } from "../storage/types.ts";
import type { HandshakeHandler } from "../wire/handlers.ts";
import type { WireLimits } from "../wire/limits.ts";
import type { SessionConfig } from "./core.ts";
import type { Transport } from "../transport/types.ts";
import type { EncryptionPolicy } from "../wire/mse/mse.ts";
import type { DhtOptions } from "../dht/peer_source.ts";
import type { BandwidthClock } from "../util/bandwidth.ts";

/**
 * Rate limits in bytes per second (0 or absent: unlimited), for
 * {@linkcode Runtime.setLimits} (all torrents together) and
 * `TorrentSession.setLimits` (one torrent; the runtime's apply too).
 *
 * @example Limiting one torrent's download to 8 MiB/s
 * ```ts
 * import type { RateLimits, TorrentSession } from "@bittern/bittern";
 *
 * declare const session: TorrentSession;
 * const limits: RateLimits = { downloadLimit: 8 * 1024 * 1024 };
 * session.setLimits(limits);
 * ```
 */
export interface RateLimits {
  /** Piece payload received per second; 0 or absent: unlimited. */
  readonly downloadLimit?: number;
  /** Piece payload sent per second; 0 or absent: unlimited. */
  readonly uploadLimit?: number;
}

/** Options for a {@linkcode Runtime}. */
export interface RuntimeOptions {
  /**
   * Where to accept incoming connections, one port for all torrents;
   * `false` to only dial out. Default `{ hostname: "0.0.0.0", port: 6881 }`.
   * Port 0 picks a free port ({@linkcode Runtime.port} tells which).
   */
  readonly listen?: false | { readonly hostname?: string; readonly port?: number };
  /**
   * How peers are reached and accepted (listening and dialling). Default
   * {@linkcode TcpTransport}. Peers are told apart by this transport's addresses.
   */
  readonly transport?: Transport;
  /**
   * MSE/PE for every torrent (a torrent's own `encryption` wins). Default
   * `prefer`: outgoing connections try MSE first and fall back to plain when
   * the peer refuses it; incoming ones may be either (see {@linkcode EncryptionPolicy}).
   */
  readonly encryption?: EncryptionPolicy;
  /**
   * The fast extension (BEP 6) for every torrent (a torrent's own
   * `fastExtension` wins). Default `true`. With `false` our handshake does not
   * set its bit, so it is never negotiated: a peer's five fast messages are
   * then a protocol error that closes it.
   */
  readonly fastExtension?: boolean;
  /** Our 20-byte peer id. Default: a fresh BEP 20 id `-BIxxxx-` + random. */
  readonly peerId?: Uint8Array;
  /** Most connections, all torrents together (dialling included). Default 200. */
  readonly maxConnections?: number;
  /** Most connection attempts in progress at once (half-open), all torrents together. Default 32. */
  readonly maxHalfOpen?: number;
  /**
   * Most connections to or from one IP address. Default 1, as in libtorrent:
   * bans are then keyed by IP address. Loopback swarms, where every peer is
   * 127.0.0.1, raise it; bans are then keyed by IP address and the peer's
   * listen port (the port we dialled, or `p` from its extended handshake;
   * for an incoming peer that sends no `p`, its source port).
   */
  readonly maxConnectionsPerIp?: number;
  /**
   * Bytes of blocks read for uploading that may wait for sockets at once,
   * all torrents together (uploads wait beyond it). Default 8 MiB; below it the
   * bound follows the open connections (64 KiB each, at least 1 MiB).
   */
  readonly maxUploadBufferBytes?: number;
  /** Handshake handlers for every torrent (after the built-in BEP 10 handler). */
  readonly handshakeHandlers?: readonly HandshakeHandler[];
  /** Bounds on what peers may send. */
  readonly limits?: WireLimits;
  /**
   * Close a connection whose socket takes none of the bytes queued for it for
   * this many ms (a peer that stopped reading). Default 120 000; 0: never.
   */
  readonly writeTimeoutMs?: number;
  /** Give up on a connection attempt after this many ms. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Where string sources are fetched from. Default: files and http(s) URLs. */
  readonly fetchers?: MetainfoFetchers;
  /** SHA-1 for every torrent. Default: `node:crypto` on the main thread. */
  readonly hasher?: Sha1Hasher;
  /**
   * The DHT (BEP 5), one node shared by every non-private torrent (private ones never use it,
   * BEP 27): `true`, `false`, or options (bootstrap list, `statePath`, `readOnly`, ...). Its
   * UDP port is the listening port, bound to the listening address; a loopback address talks
   * only to loopback nodes. Default: on when listening, off with `listen: false`.
   */
  readonly dht?: boolean | DhtOptions;
  /** Peer sources consulted for every torrent (not for private ones). */
  readonly peerSources?: readonly PeerSource[];
  /**
   * Piece payload received per second, all torrents together (each torrent's
   * own `downloadLimit` applies too). Default 0: unlimited. Peers share it
   * first come, first served; other messages are never held back. Change it
   * with {@linkcode Runtime.setLimits}.
   */
  readonly downloadLimit?: number;
  /** Piece payload sent per second, all torrents together, like `downloadLimit`. Default 0: unlimited. */
  readonly uploadLimit?: number;
  /** Time and timers of the rate limits. Default: the system's (tests pass a manual one). */
  readonly bandwidthClock?: BandwidthClock;
  /** Closes the runtime when aborted. */
  readonly signal?: AbortSignal;
}

/** Options for one torrent, given to {@linkcode Runtime.add}. */
export interface SessionOptions extends Partial<SessionConfig> {
  /** Data back-end. Default: the filesystem under {@linkcode SessionOptions.out}. */
  readonly storage?: Storage;
  /** Download directory for the default storage. Default `"."`. */
  readonly out?: string;
  /** Piece order. Default `"rarest"`. */
  readonly selector?: PieceSelector | SelectorName;
  /** Extra messaging agents (after the built-in ones). One instance per session. */
  readonly agents?: readonly MessagingAgent[];
  /** MSE/PE for this torrent's connections. Default: the runtime's `encryption`. */
  readonly encryption?: EncryptionPolicy;
  /** The fast extension (BEP 6) for this torrent. Default: the runtime's `fastExtension`. */
  readonly fastExtension?: boolean;
  /** Extra handshake handlers for this torrent. */
  readonly handshakeHandlers?: readonly HandshakeHandler[];
  /** Peers to connect to at once (a static peer source). */
  readonly peers?: readonly PeerAddress[];
  /**
   * More web seeds (BEP 19 URLs, http or https) beside the torrent's `url-list` and
   * `httpseeds` and a magnet link's `ws`. Each needs network permission for its host.
   */
  readonly webSeeds?: readonly string[];
  /** More peer sources for this torrent. */
  readonly peerSources?: readonly PeerSource[];
  /** Announce to the torrent's trackers (with these options). Default `true`. */
  readonly trackers?: boolean | TrackerPeerSourceOptions;
  /** Peer exchange (BEP 11), with these options. Default `true`; always off for private torrents. */
  readonly pex?: boolean | PexOptions;
  /**
   * Consult custom peer sources even for a private torrent (BEP 27 says:
   * trackers only). Default `false`. {@linkcode SessionOptions.peers} given
   * here are always dialled, as libtorrent's `connect_peer` is; PEX stays off.
   */
  readonly allowPrivatePeerSources?: boolean;
  /**
   * Indices of the files to download (default all), counting only the files people see:
   * BEP 47 padding files are never numbered, so index 2 is the third file `bittern info`
   * lists (see `visibleFiles`).
   */
  readonly wantedFiles?: readonly number[];
  /** Resume file path: a restart skips the full recheck when nothing changed. */
  readonly resumePath?: string;
  /** How existing data is found at start: see {@linkcode PieceStore.open}. Default `"auto"`. */
  readonly restore?: "auto" | "recheck" | "none";
  /**
   * Start at once. Default `true`: `runtime.add` then starts the session before it returns,
   * so listeners attached afterwards miss `started` and the first tracker events. Pass
   * `start: false`, attach listeners, then call `session.start()`:
   *
   * ```ts
   * import { Runtime, type Torrent } from "@bittern/bittern";
   *
   * declare const torrent: Torrent;
   * const runtime = new Runtime();
   * const session = await runtime.add(torrent, { start: false });
   * session.events.on("started", () => console.log("started"));
   * session.start();
   * ```
   */
  readonly start?: boolean;
}

/** Defaults for {@linkcode SessionConfig}. */
export const DEFAULT_SESSION_CONFIG: SessionConfig = Object.freeze({
  blockSize: 16384,
  maxPeers: 50,
  uploadSlots: 8,
  seedSlots: 32,
  chokeIntervalMs: 10_000,
  optimisticIntervalMs: 30_000,
  requestTimeoutMs: 20_000,
  maxHashFailures: 2,
  extendedHandshakeTimeoutMs: 5000,
  initialQueueDepth: 32,
  maxQueueDepth: 500,
  maxUploadQueue: 500,
  maxQueuedUploadBytes: 128 * 1024,
  maxUnrequestedBlocks: 16,
  maxPendingWriteBytes: 4 * 1024 * 1024,
  maxMetadataSize: 16 * 1024 * 1024,
  seed: true,
  resumeIntervalMs: 30_000,
  downloadLimit: 0,
  uploadLimit: 0,
  webSeedRetryMs: 30_000,
  maxWebSeedFailures: 5,
});

/** The config of a session: defaults overridden by the options given. */
export function resolveSessionConfig(options: SessionOptions): SessionConfig {
  const config: Record<string, unknown> = { ...DEFAULT_SESSION_CONFIG };
  for (const key of Object.keys(DEFAULT_SESSION_CONFIG)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) config[key] = value;
  }
  // Checked before storage opens: a bad limit fails `add` with nothing to clean up.
  for (const key of ["downloadLimit", "uploadLimit"]) {
    const limit = config[key];
    if (typeof limit !== "number" || !(limit >= 0) || !Number.isFinite(limit)) {
      throw new RangeError(
        `${key} must be a finite number of bytes per second >= 0 (0: unlimited), not ${limit}`,
      );
    }
  }
  return config as unknown as SessionConfig;
}
