/**
 * Turning tracker response bodies into typed values, refusing anything malformed with a
 * message that says which field is wrong.
 */
import { BencodeDict, BencodeError, decode } from "../bencode/mod.ts";
import type { BencodeValue } from "../bencode/mod.ts";
import { toHex } from "../util/bytes.ts";
import { decodeCompactPeers } from "./compact.ts";
import { TrackerError } from "./errors.ts";
import type { AnnounceResponse, PeerAddress, ScrapeCounts } from "./types.ts";

/** Tracker texts (failure reason, warning) are cut to this many characters. */
const MAX_TEXT_LENGTH = 1024;
/** Tracker responses are shallow; anything deeper is garbage. */
const MAX_RESPONSE_DEPTH = 8;

const utf8 = new TextDecoder();

function text(bytes: Uint8Array): string {
  const decoded = utf8.decode(bytes.subarray(0, MAX_TEXT_LENGTH * 4));
  return decoded.length > MAX_TEXT_LENGTH ? decoded.slice(0, MAX_TEXT_LENGTH) + "…" : decoded;
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
    const reason = failure instanceof Uint8Array ? text(failure) : "(failure reason not a string)";
    throw new TrackerError("failure", label, `tracker refused: ${reason}`, { reason });
  }
  return value;
}

const HOST_PATTERN = /^(\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.:\-]{1,255})$/;

function dictionaryPeers(list: BencodeValue[]): PeerAddress[] | string {
  const peers: PeerAddress[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (!(entry instanceof BencodeDict)) return `peers[${i}] is not a dictionary`;
    const ip = entry.get("ip");
    const port = entry.get("port");
    const peerId = entry.get("peer id");
    if (!(ip instanceof Uint8Array)) return `peers[${i}].ip is not a string`;
    const host = utf8.decode(ip);
    if (!HOST_PATTERN.test(host)) return `peers[${i}].ip is not an address`;
    if (!isCount(port) || port > 65535) return `peers[${i}].port is not a port number`;
    if (peerId !== undefined && !(peerId instanceof Uint8Array && peerId.length === 20)) {
      return `peers[${i}].peer id is not 20 bytes`;
    }
    if (port === 0) continue;
    const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
    peers.push(peerId ? { host: bare, port, peerId } : { host: bare, port });
  }
  return peers;
}

function compactPeers(bytes: Uint8Array, family: 4 | 6, label: string): PeerAddress[] {
  const decoded = decodeCompactPeers(bytes, family);
  if (decoded) return decoded;
  const [field, size] = family === 4 ? ["peers", 6] : ["peers6", 18];
  throw new TrackerError(
    "bad-response",
    label,
    `${field} is ${bytes.length} bytes, not a multiple of ${size}`,
  );
}

/**
 * Checks the shape of a decoded announce response and lists every problem. This is the one
 * place that knows the shape; it stands in until the shipped tracker-response schema lands.
 */
export function checkAnnounceShape(dict: BencodeDict): string[] {
  const problems: string[] = [];
  if (!isCount(dict.get("interval"))) problems.push("interval is missing or not a count");
  for (const key of ["min interval", "complete", "incomplete"]) {
    if (dict.has(key) && !isCount(dict.get(key))) problems.push(`${key} is not a count`);
  }
  for (const key of ["tracker id", "warning message"]) {
    if (dict.has(key) && !(dict.get(key) instanceof Uint8Array)) {
      problems.push(`${key} is not a string`);
    }
  }
  const peers = dict.get("peers");
  if (peers !== undefined && !(peers instanceof Uint8Array) && !Array.isArray(peers)) {
    problems.push("peers is neither a string nor a list");
  }
  if (peers === undefined && !dict.has("peers6")) problems.push("peers is missing");
  if (dict.has("peers6") && !(dict.get("peers6") instanceof Uint8Array)) {
    problems.push("peers6 is not a string");
  }
  return problems;
}

/**
 * Parses an announce response body. Throws {@linkcode TrackerError} of kind `failure` for a
 * `failure reason`, `bad-response` for anything malformed.
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
  const dict = decodeTopDict(bytes, label);
  const problems = checkAnnounceShape(dict);
  if (problems.length > 0) throw new TrackerError("bad-response", label, problems.join("; "));
  const peers: PeerAddress[] = [];
  const peersValue = dict.get("peers");
  if (peersValue instanceof Uint8Array) {
    peers.push(...compactPeers(peersValue, 4, label));
  } else if (Array.isArray(peersValue)) {
    const decoded = dictionaryPeers(peersValue);
    if (typeof decoded === "string") throw new TrackerError("bad-response", label, decoded);
    peers.push(...decoded);
  }
  const peers6 = dict.get("peers6");
  if (peers6 instanceof Uint8Array) peers.push(...compactPeers(peers6, 6, label));
  const response: {
    -readonly [K in keyof AnnounceResponse]: AnnounceResponse[K];
  } = { interval: dict.get("interval") as number, peers };
  const minInterval = dict.get("min interval");
  if (isCount(minInterval)) response.minInterval = minInterval;
  const trackerId = dict.get("tracker id");
  if (trackerId instanceof Uint8Array) response.trackerId = trackerId;
  const complete = dict.get("complete");
  if (isCount(complete)) response.complete = complete;
  const incomplete = dict.get("incomplete");
  if (isCount(incomplete)) response.incomplete = incomplete;
  const warning = dict.get("warning message");
  if (warning instanceof Uint8Array) response.warning = text(warning);
  return response;
}

/**
 * Parses a scrape response body into counts keyed by lowercase hex info hash. Entries with
 * missing counts get 0 (several trackers omit `downloaded`).
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
  const dict = decodeTopDict(bytes, label);
  const files = dict.get("files");
  if (!(files instanceof BencodeDict)) {
    throw new TrackerError("bad-response", label, "files is missing or not a dictionary");
  }
  const counts = new Map<string, ScrapeCounts>();
  const keys = [...files.rawKeys()];
  const values = [...files.values()];
  for (let i = 0; i < keys.length; i++) {
    const hash = toHex(keys[i]);
    const entry = values[i];
    if (keys[i].length !== 20) {
      throw new TrackerError("bad-response", label, `files key ${hash} is not a 20-byte hash`);
    }
    if (!(entry instanceof BencodeDict)) {
      throw new TrackerError("bad-response", label, `files[${hash}] is not a dictionary`);
    }
    const read = (key: string): number => {
      const value = entry.get(key);
      if (value === undefined) return 0;
      if (!isCount(value)) {
        throw new TrackerError("bad-response", label, `files[${hash}].${key} is not a count`);
      }
      return value;
    };
    counts.set(hash, {
      complete: read("complete"),
      incomplete: read("incomplete"),
      downloaded: read("downloaded"),
    });
  }
  return counts;
}
