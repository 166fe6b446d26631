/**
 * Tracker transports by URL scheme: `http:`/`https:` (BEP 3) and `udp:` (BEP 15).
 */
import { announce } from "./announce.ts";
import { scrape } from "./scrape.ts";
import type {
  AnnounceParams,
  AnnounceResponse,
  ScrapeCounts,
  TrackerRequestOptions,
} from "./types.ts";
import { udpAnnounce, udpScrape, type UdpTrackerOptions } from "./udp.ts";

/**
 * One way of talking to trackers: announce and scrape for the URLs of one or more schemes.
 *
 * @example
 * ```ts
 * import { type TrackerTransport, udpTrackerTransport } from "@bittern/bittern";
 *
 * const udp: TrackerTransport = udpTrackerTransport({ retryBaseMs: 2_000, maxAttempts: 3 });
 * ```
 */
export interface TrackerTransport {
  /**
   * Announces to the tracker at `url`.
   *
   * @param url The tracker URL.
   * @param params What to announce.
   * @param options Signal and deadline.
   * @returns The tracker's answer.
   */
  announce(
    url: string,
    params: AnnounceParams,
    options?: TrackerRequestOptions,
  ): Promise<AnnounceResponse>;
  /**
   * Scrapes the tracker at `url` for `infoHashes`.
   *
   * @param url The tracker's announce URL.
   * @param infoHashes 20-byte info hashes.
   * @param options Signal and deadline.
   * @returns Counts keyed by lowercase hex info hash.
   */
  scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    options?: TrackerRequestOptions,
  ): Promise<Map<string, ScrapeCounts>>;
}

/**
 * Transports keyed by URL scheme with its colon, lowercase (`"udp:"`).
 *
 * @example
 * ```ts
 * import { defaultTrackerTransports, type TrackerTransports } from "@bittern/bittern";
 *
 * const httpOnly: TrackerTransports = {
 *   "http:": defaultTrackerTransports["http:"],
 *   "https:": defaultTrackerTransports["https:"],
 * };
 * ```
 */
export type TrackerTransports = Readonly<Record<string, TrackerTransport>>;

/**
 * HTTP(S) trackers: {@linkcode announce} and {@linkcode scrape}.
 *
 * @example
 * ```ts
 * import { httpTrackerTransport } from "@bittern/bittern";
 *
 * const counts = await httpTrackerTransport.scrape("http://127.0.0.1:6969/announce", [
 *   new Uint8Array(20),
 * ]);
 * console.log(counts.size);
 * ```
 */
export const httpTrackerTransport: TrackerTransport = Object.freeze({ announce, scrape });

/**
 * UDP trackers ({@linkcode udpAnnounce}, {@linkcode udpScrape}) with default retransmission
 * settings; a call's own options override them.
 *
 * @param defaults Retransmission, deadline and peer-count settings for every call.
 * @returns The transport.
 *
 * @example
 * ```ts
 * import { defaultTrackerTransports, udpTrackerTransport } from "@bittern/bittern";
 *
 * const transports = {
 *   ...defaultTrackerTransports,
 *   "udp:": udpTrackerTransport({ timeout: 20_000, retryBaseMs: 5_000 }),
 * };
 * ```
 */
export function udpTrackerTransport(defaults: UdpTrackerOptions = {}): TrackerTransport {
  return Object.freeze({
    announce: (url: string, params: AnnounceParams, options: TrackerRequestOptions = {}) =>
      udpAnnounce(url, params, { ...defaults, ...definedOnly(options) }),
    scrape: (url: string, infoHashes: readonly Uint8Array[], options: TrackerRequestOptions = {}) =>
      udpScrape(url, infoHashes, { ...defaults, ...definedOnly(options) }),
  });
}

/** `options` without its `undefined` values, so they do not hide the defaults. */
function definedOnly(options: TrackerRequestOptions): TrackerRequestOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/**
 * The built-in transports: `http:` and `https:` over HTTP, `udp:` over BEP 15.
 *
 * @example
 * ```ts
 * import { defaultTrackerTransports } from "@bittern/bittern";
 *
 * console.log(Object.keys(defaultTrackerTransports)); // [ "http:", "https:", "udp:" ]
 * ```
 */
export const defaultTrackerTransports: TrackerTransports = Object.freeze({
  "http:": httpTrackerTransport,
  "https:": httpTrackerTransport,
  "udp:": udpTrackerTransport(),
});

/**
 * The transport for a tracker URL's scheme, or `undefined` when none handles it (or the URL
 * is not valid).
 *
 * @param url A tracker URL.
 * @param transports Transports by scheme (default {@linkcode defaultTrackerTransports}).
 * @returns The transport, or `undefined`.
 *
 * @example
 * ```ts
 * import { trackerTransportFor } from "@bittern/bittern";
 *
 * const transport = trackerTransportFor("udp://127.0.0.1:6969/announce");
 * console.log(transport !== undefined); // true
 * console.log(trackerTransportFor("wss://tracker.example")); // undefined
 * ```
 */
export function trackerTransportFor(
  url: string,
  transports: TrackerTransports = defaultTrackerTransports,
): TrackerTransport | undefined {
  const match = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url);
  if (!match) return undefined;
  const scheme = match[1].toLowerCase();
  return Object.hasOwn(transports, scheme) ? transports[scheme] : undefined;
}
