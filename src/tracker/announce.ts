/**
 * One HTTP announce (BEP 3, compact peers per BEP 23).
 */
import { parseTrackerUrl, trackerGet } from "./http_get.ts";
import { percentEncodeBytes } from "./percent.ts";
import { parseAnnounceResponse } from "./response.ts";
import { TrackerError } from "./errors.ts";
import type { AnnounceParams, AnnounceResponse, TrackerRequestOptions } from "./types.ts";

/** Rejects announce parameters no tracker could accept (shared by the HTTP and UDP transports). */
export function checkAnnounceParams(params: AnnounceParams, url: string): void {
  const problem = params.infoHash.length !== 20
    ? "info hash is not 20 bytes"
    : params.peerId.length !== 20
    ? "peer id is not 20 bytes"
    : !Number.isInteger(params.port) || params.port < 0 || params.port > 65535
    ? `port ${params.port} is out of range`
    : [params.uploaded, params.downloaded, params.left].some((n) =>
        !Number.isSafeInteger(n) || n < 0
      )
    ? "uploaded/downloaded/left must be non-negative integers"
    : undefined;
  if (problem) throw new TrackerError("unsupported", url, `cannot announce: ${problem}`);
}

/**
 * Builds the announce URL: the tracker URL (keeping any query it already has, e.g. a passkey)
 * plus the BEP 3 parameters, raw bytes percent-encoded.
 *
 * @param url The tracker's announce URL.
 * @param params What to announce.
 * @returns The full request URL.
 *
 * @example
 * ```ts
 * import { buildAnnounceUrl } from "@bittern/bittern";
 *
 * const url = buildAnnounceUrl("http://127.0.0.1:6969/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 0,
 *   event: "started",
 * });
 * console.log(url.search.includes("event=started")); // true
 * ```
 */
export function buildAnnounceUrl(url: string, params: AnnounceParams): URL {
  const target = parseTrackerUrl(url);
  checkAnnounceParams(params, url);
  const parts = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${params.port}`,
    `uploaded=${params.uploaded}`,
    `downloaded=${params.downloaded}`,
    `left=${params.left}`,
    `compact=${params.compact === false ? 0 : 1}`,
  ];
  if (params.event) parts.push(`event=${params.event}`);
  if (params.numwant !== undefined) {
    parts.push(`numwant=${Math.max(0, Math.floor(params.numwant))}`);
  }
  if (params.key !== undefined) parts.push(`key=${encodeURIComponent(params.key)}`);
  if (params.trackerId !== undefined) {
    parts.push(`trackerid=${percentEncodeBytes(params.trackerId)}`);
  }
  const existing = target.search.length > 1 ? target.search.slice(1) + "&" : "";
  target.search = "?" + existing + parts.join("&");
  target.hash = "";
  return target;
}

/**
 * Announces to one HTTP(S) tracker and returns its parsed answer.
 *
 * @param url The tracker's announce URL.
 * @param params What to announce.
 * @param options Signal, timeout, response size and redirect limits.
 * @returns The tracker's response.
 * @throws {TrackerError} `failure`, `bad-response`, `http-status`, `timeout`, `unreachable`,
 * `redirect` or `unsupported`.
 *
 * @example
 * ```ts
 * import { announce, generatePeerId } from "@bittern/bittern";
 *
 * const response = await announce("http://127.0.0.1:6969/announce", {
 *   infoHash: new Uint8Array(20),
 *   peerId: generatePeerId(),
 *   port: 6881,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 1024,
 *   event: "started",
 * }, { timeout: 5_000 });
 * for (const peer of response.peers) console.log(peer.host, peer.port);
 * ```
 */
export async function announce(
  url: string,
  params: AnnounceParams,
  options: TrackerRequestOptions = {},
): Promise<AnnounceResponse> {
  const target = buildAnnounceUrl(url, params);
  const body = await trackerGet(target, url, options);
  return parseAnnounceResponse(body, url);
}
