/**
 * Turning tracker response bodies into typed values, refusing anything malformed with a
 * message that says which field is wrong.
 */
import { BencodeDict, BencodeError, decode } from "../bencode/mod.ts";
import type { BencodeValue } from "../bencode/mod.ts";
import { formatProblem, type Schema, tryValidate } from "../schema/mod.ts";
import { toHex } from "../util/bytes.ts";
import { decodeCompactPeers, formatAddress } from "./compact.ts";
import { TrackerError } from "./errors.ts";
import {
  announceResponseSchema,
  scrapeResponseSchema,
  type TrackerPeerEntry,
} from "./response_schema.ts";
import type { AnnounceResponse, PeerAddress, ScrapeCounts } from "./types.ts";

/** Tracker texts (failure reason, warning) are cut to this many characters. */
const MAX_TEXT_LENGTH = 1024;
/** Tracker responses are shallow; anything deeper is garbage. */
const MAX_RESPONSE_DEPTH = 8;

const utf8 = new TextDecoder();

function clip(text: string): string {
  return text.length > MAX_TEXT_LENGTH ? text.slice(0, MAX_TEXT_LENGTH) + "…" : text;
}

function isCount(value: BencodeValue | undefined): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function decodeTopDict(bytes: Uint8Array, label: string): BencodeDict {
  let value: BencodeValue;
  try {
    // Many trackers emit unsorted keys; that is harmless in a response.
    value = decode(bytes, { allowUnsortedKeys: true, maxDepth: MAX_RESPONSE_DEPTH });
  } catch (error) {
    if (!(error instanceof BencodeError)) throw error;
    throw new TrackerError("bad-response", label, `body is not bencode: ${error.message}`, {
      cause: error,
    });
  }
  if (!(value instanceof BencodeDict)) {
    throw new TrackerError("bad-response", label, "body is not a bencode dictionary");
  }
  const failure = value.get("failure reason");
  if (failure !== undefined) {
    const reason = failure instanceof Uint8Array
      ? clip(utf8.decode(failure.subarray(0, MAX_TEXT_LENGTH * 4)))
      : "(failure reason not a string)";
    // BEP 31: `retry in` is minutes (or "never", which needs no number).
    const retryIn = value.get("retry in");
    const retryInSeconds = isCount(retryIn) ? retryIn * 60 : undefined;
    throw new TrackerError("failure", label, `tracker refused: ${reason}`, {
      reason,
      retryInSeconds,
    });
  }
  return value;
}

const HOST_PATTERN = /^(\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.:\-]{1,255})$/;

/** Dictionary peers the schema accepted; entries whose `ip` is not an address are skipped too. */
function dictionaryPeers(entries: readonly TrackerPeerEntry[]): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const entry of entries) {
    if (!HOST_PATTERN.test(entry.ip)) continue;
    const host = entry.ip.startsWith("[") ? entry.ip.slice(1, -1) : entry.ip;
    const peerId = entry["peer id"];
    peers.push(peerId ? { host, port: entry.port, peerId } : { host, port: entry.port });
  }
  return peers;
}

function schemaCheck<T>(schema: Schema<T>, value: BencodeDict, label: string): T {
  const result = tryValidate(schema, value, { maxProblems: 10 });
  if (result.ok) return result.value;
  const problems = result.error.problems.map(formatProblem).join("; ");
  throw new TrackerError("bad-response", label, problems, { cause: result.error });
}

function compactPeers(bytes: Uint8Array, family: 4 | 6): PeerAddress[] {
  // The schema already checked the length is a whole number of entries.
  return decodeCompactPeers(bytes, family) ?? [];
}

/**
 * Parses an announce response body, validated by the shipped tracker-response schema
 * (`response_schema.ts`): malformed informational fields are dropped, malformed dictionary
 * peers skipped. Throws {@linkcode TrackerError} of kind `failure` for a `failure reason`,
 * `bad-response` when `interval` or the peer lists are missing or malformed.
 *
 * @param bytes The response body.
 * @param label The tracker URL, for error messages.
 * @returns The typed response.
 *
 * @example
 * ```ts
 * import { parseAnnounceResponse } from "@bittern/bittern";
 *
 * const body = new TextEncoder().encode("d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e");
 * console.log(parseAnnounceResponse(body, "http://t/announce").peers);
 * ```
 */
export function parseAnnounceResponse(bytes: Uint8Array, label: string): AnnounceResponse {
  const body = schemaCheck(announceResponseSchema, decodeTopDict(bytes, label), label);
  if (body.interval === undefined) {
    throw new TrackerError("bad-response", label, "interval is missing");
  }
  if (body.peers === undefined && body.peers6 === undefined) {
    throw new TrackerError("bad-response", label, "peers is missing");
  }
  const peers = body.peers instanceof Uint8Array
    ? compactPeers(body.peers, 4)
    : dictionaryPeers(body.peers ?? []);
  if (body.peers6) peers.push(...compactPeers(body.peers6, 6));
  const response: {
    -readonly [K in keyof AnnounceResponse]: AnnounceResponse[K];
  } = { interval: body.interval, peers };
  if (body["min interval"] !== undefined) response.minInterval = body["min interval"];
  if (body["tracker id"] !== undefined) response.trackerId = body["tracker id"];
  if (body.complete !== undefined) response.complete = body.complete;
  if (body.incomplete !== undefined) response.incomplete = body.incomplete;
  if (body["warning message"] !== undefined) response.warning = clip(body["warning message"]);
  const externalIp = body["external ip"];
  if (externalIp) response.externalIp = formatAddress(externalIp);
  return response;
}

/**
 * Parses a scrape response body (validated by the shipped schema) into counts keyed by
 * lowercase hex info hash. Missing or malformed counts read 0 (several trackers omit
 * `downloaded`).
 *
 * @param bytes The response body.
 * @param label The scrape URL, for error messages.
 * @returns Counts per info hash (hex).
 *
 * @example
 * ```ts
 * import { parseScrapeResponse } from "@bittern/bittern";
 *
 * const body = new TextEncoder().encode("d5:filesdee");
 * console.log(parseScrapeResponse(body, "http://t/scrape").size); // 0
 * ```
 */
export function parseScrapeResponse(bytes: Uint8Array, label: string): Map<string, ScrapeCounts> {
  const body = schemaCheck(scrapeResponseSchema, decodeTopDict(bytes, label), label);
  if (!body.files) throw new TrackerError("bad-response", label, "files is missing");
  const counts = new Map<string, ScrapeCounts>();
  for (const [hash, entry] of body.files) {
    counts.set(toHex(hash), {
      complete: entry.complete ?? 0,
      incomplete: entry.incomplete ?? 0,
      downloaded: entry.downloaded ?? 0,
    });
  }
  return counts;
}
