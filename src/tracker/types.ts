import type { PeerAddress } from "../util/address.ts";

export type { PeerAddress };

/**
 * The announce `event`: `started` first, `completed` once on finishing, `stopped` on leaving.
 *
 * @example
 * ```ts
 * import type { AnnounceEventName } from "@bittern/bittern";
 *
 * const event: AnnounceEventName = "started";
 * ```
 */
export type AnnounceEventName = "started" | "completed" | "stopped";

/**
 * What a client tells the tracker in one announce.
 *
 * @example
 * ```ts
 * import { type AnnounceParams, generatePeerId } from "@bittern/bittern";
 *
 * const params: AnnounceParams = {
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 1024,
 *   event: "started",
 * };
 * ```
 */
export interface AnnounceParams {
  /** The torrent's 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /** This client's 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** The port this client accepts peer connections on. */
  readonly port: number;
  /** Bytes uploaded since `started`. */
  readonly uploaded: number;
  /** Bytes downloaded since `started`. */
  readonly downloaded: number;
  /** Bytes still needed. */
  readonly left: number;
  /** Omitted for regular re-announces. */
  readonly event?: AnnounceEventName;
  /** How many peers to ask for. */
  readonly numwant?: number;
  /** A per-session random key that lets the tracker recognise this client across IP changes. */
  readonly key?: string;
  /** The `tracker id` a tracker sent earlier, echoed back. */
  readonly trackerId?: Uint8Array;
  /** Ask for compact peer lists (default true). */
  readonly compact?: boolean;
}

/**
 * A tracker's answer to an announce.
 *
 * @example
 * ```ts
 * import { announce } from "@bittern/bittern";
 *
 * const response = await announce("http://127.0.0.1:6969/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 0,
 * });
 * console.log(response.interval, response.peers.length);
 * ```
 */
export interface AnnounceResponse {
  /** Seconds the tracker wants between regular announces. */
  readonly interval: number;
  /** Seconds the client must wait at least between announces, when given. */
  readonly minInterval?: number;
  /** Opaque id to echo as `trackerid` in later announces. */
  readonly trackerId?: Uint8Array;
  /** Seeders, when given. */
  readonly complete?: number;
  /** Leechers, when given. */
  readonly incomplete?: number;
  /** The tracker's `warning message`, when given. */
  readonly warning?: string;
  /** BEP 24 `external ip`: this client's address as the tracker sees it, when given. */
  readonly externalIp?: string;
  /** IPv4 and IPv6 peers from `peers` and `peers6`, in the tracker's order. */
  readonly peers: PeerAddress[];
}

/**
 * Swarm counts for one torrent from a scrape.
 *
 * @example
 * ```ts
 * import type { ScrapeCounts } from "@bittern/bittern";
 *
 * const counts: ScrapeCounts = { complete: 3, incomplete: 1, downloaded: 10 };
 * ```
 */
export interface ScrapeCounts {
  /** Seeders. */
  readonly complete: number;
  /** Leechers. */
  readonly incomplete: number;
  /** Completed downloads the tracker has seen. */
  readonly downloaded: number;
}

/**
 * Limits and cancellation for one tracker HTTP request.
 *
 * @example
 * ```ts
 * import type { TrackerRequestOptions } from "@bittern/bittern";
 *
 * const options: TrackerRequestOptions = { timeout: 5_000, maxResponseBytes: 64 * 1024 };
 * ```
 */
export interface TrackerRequestOptions {
  /** Cancels the request; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Milliseconds for the whole request, body included (default 15 000). */
  readonly timeout?: number;
  /** Largest body accepted, in bytes (default 2 MiB). */
  readonly maxResponseBytes?: number;
  /** Redirects followed before giving up (default 5). */
  readonly maxRedirects?: number;
}
