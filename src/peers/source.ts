import type { Torrent } from "../metainfo/torrent.ts";
import type { PeerAddress } from "../util/address.ts";

/** What a {@linkcode PeerSource} knows of the session it feeds. */
export interface PeerSourceContext {
  /**
   * The torrent. A session started from a magnet link has none until its
   * metadata arrives, and reading it earlier throws: sources that only need
   * the info hash and trackers read {@linkcode PeerSourceContext.infoHash} and
   * {@linkcode PeerSourceContext.trackers}, which are always there.
   */
  readonly torrent: Torrent;
  /** The torrent's 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /** The info hash as 40 lowercase hex digits. */
  readonly infoHashHex: string;
  /**
   * A hybrid torrent's truncated v2 info hash (BEP 52): its second swarm, which
   * trackers and the DHT announce and look up too (peers found there carry
   * `swarm: "v2"`). Absent for v1-only and v2-only torrents (a v2-only
   * torrent's `infoHash` is its truncated v2 hash).
   */
  readonly infoHashV2?: Uint8Array;
  /** Tracker tiers (BEP 12): the torrent's, or a magnet link's `tr` (one tier each). */
  readonly trackers: readonly (readonly string[])[];
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** Our listening port (0 when not listening). */
  readonly port: number;
  /** Transfer totals, for trackers. */
  stats(): { readonly uploaded: number; readonly downloaded: number; readonly left: number };
  /** Reports a tracker exchange (shown by the CLI, emitted as a `tracker` event). */
  report(event: { url: string; event: string; peers?: number; error?: string }): void;
  /** Reports a problem that does not stop the source (a `warning` event). */
  warn(message: string): void;
}

/**
 * Where peer addresses come from: trackers, a static list, anything else.
 * The session iterates {@linkcode PeerSource.peers} while it runs and
 * aborts `signal` when it stops; a source ends its iteration then.
 *
 * @example A source that offers one fixed peer
 * ```ts
 * import type { PeerSource } from "@bittern/bittern";
 *
 * const one: PeerSource = {
 *   name: "one",
 *   async *peers() {
 *     yield [{ host: "127.0.0.1", port: 6881 }];
 *   },
 * };
 * ```
 */
export interface PeerSource {
  /** A short name for events and logs, e.g. `"tracker"`. */
  readonly name: string;
  /**
   * Batches of addresses as they are learned, until `signal` aborts.
   *
   * @param context The session's torrent, peer id, port and stats.
   * @param signal Aborted when the session stops.
   */
  peers(context: PeerSourceContext, signal: AbortSignal): AsyncIterable<readonly PeerAddress[]>;
  /** The download completed (trackers announce `completed`). */
  completed?(): void;
}

/**
 * A fixed list of addresses (the CLI's `--peer host:port`).
 *
 * @example
 * ```ts
 * import { StaticPeerSource } from "@bittern/bittern";
 *
 * const source = new StaticPeerSource([{ host: "127.0.0.1", port: 6881 }]);
 * ```
 */
export class StaticPeerSource implements PeerSource {
  /** `"static"`. */
  readonly name = "static";
  readonly #addresses: readonly PeerAddress[];

  /**
   * Creates the source.
   *
   * @param addresses The peers.
   */
  constructor(addresses: readonly PeerAddress[]) {
    this.#addresses = addresses;
  }

  /** Yields the list once. */
  async *peers(): AsyncIterable<readonly PeerAddress[]> {
    if (this.#addresses.length) yield this.#addresses;
  }
}

/**
 * Parses `host:port` or `[v6]:port`.
 *
 * @example
 * ```ts
 * import { parsePeerAddress } from "@bittern/bittern";
 *
 * console.log(parsePeerAddress("[::1]:6881")); // { host: "::1", port: 6881 }
 * ```
 *
 * @param text The address.
 * @returns The address, or `undefined` when malformed.
 */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const match = text.match(/^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/) ??
    text.match(/^([^:\[\]\s]+):(\d{1,5})$/);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1], port };
}
