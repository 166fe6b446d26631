/**
 * Trackers: HTTP announce and scrape (BEP 3, 23, 7, 48), UDP announce and scrape (BEP 15, 41),
 * transports chosen by URL scheme, multi-tracker tiers (BEP 12) mixing them, an announce
 * scheduler per torrent, and a small HTTP + UDP tracker server for tests and local swarms.
 *
 * @example A local tracker and one announce
 * ```ts
 * import { announce, generatePeerId, TrackerServer } from "@bittern/bittern";
 *
 * const server = new TrackerServer();
 * await server.start();
 * const response = await announce(server.url, {
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 0,
 *   event: "started",
 * });
 * console.log(response.interval);
 * await server.close();
 * ```
 *
 * @example The same tracker over UDP (BEP 15)
 * ```ts
 * import { generatePeerId, TrackerServer, udpAnnounce, udpScrape } from "@bittern/bittern";
 *
 * const server = new TrackerServer({ udpPort: 0 });
 * await server.start();
 * const infoHash = new Uint8Array(20);
 * const response = await udpAnnounce(server.udpUrl, {
 *   infoHash,
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 0,
 *   event: "started",
 * }, { timeout: 5_000 });
 * const counts = await udpScrape(server.udpUrl, [infoHash], { timeout: 5_000 });
 * console.log(response.interval, counts.get("00".repeat(20))?.complete); // 1800 1
 * await server.close();
 * ```
 *
 * @module
 */
export { announce, buildAnnounceUrl } from "./announce.ts";
export { scrape, scrapeUrlFor } from "./scrape.ts";
export { parseAnnounceResponse, parseScrapeResponse } from "./response.ts";
export { percentDecodeBytes, percentEncodeBytes } from "./percent.ts";
export { decodeCompactPeers, encodeCompactPeer } from "./compact.ts";
export { TrackerError } from "./errors.ts";
export type { TrackerErrorKind } from "./errors.ts";
export type {
  AnnounceEventName,
  AnnounceParams,
  AnnounceResponse,
  PeerAddress,
  ScrapeCounts,
  TrackerRequestOptions,
} from "./types.ts";
export { randomShuffle, TrackerTiers } from "./tiers.ts";
export type { Shuffle } from "./tiers.ts";
export { TrackerClient } from "./client.ts";
export type { TrackerClientEventMap, TrackerClientOptions, TrackerStats } from "./client.ts";
export { udpAnnounce, udpScrape } from "./udp.ts";
export type { UdpTrackerOptions } from "./udp.ts";
export {
  defaultTrackerTransports,
  httpTrackerTransport,
  trackerTransportFor,
  udpTrackerTransport,
} from "./transport.ts";
export type { TrackerTransport, TrackerTransports } from "./transport.ts";
export { TrackerServer } from "./server.ts";
export type { TrackerServerOptions } from "./server.ts";
