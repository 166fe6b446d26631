/**
 * The shipped schemas of HTTP tracker responses: announce (BEP 3, compact
 * peers BEP 23, IPv6 peers BEP 7, `external ip` BEP 24, `retry in` BEP 31)
 * and scrape (BEP 48). YAML text kept in a module, so it works under
 * `deno compile` and without read permission.
 *
 * Every announce field is optional: a response with `failure reason` carries
 * little else, so check that first. Informational fields (`warning message`,
 * `min interval`, counts, `tracker id`, `external ip`, `retry in`) are
 * dropped when malformed; `interval` and `peers` must be right. In a
 * dictionary-model peer list, a malformed peer is skipped rather than
 * failing the response.
 */
import { loadSchemaDocument } from "../schema/mod.ts";
import type { Schema } from "../schema/mod.ts";

/** The tracker response schemas as YAML (see `loadSchema` for the format). */
export const TRACKER_RESPONSE_SCHEMA_YAML = `
description: HTTP tracker announce and scrape responses (BEP 3, 7, 23, 24, 31, 48)
root: AnnounceResponse
types:
  Text: { type: string, lossy: true }
  Count: { type: integer, min: 0 }
  AnnounceResponse:
    type: dictionary
    entries:
      failure reason: Text
      retry in: { type: Count, lenient: true }
      warning message: { type: Text, lenient: true }
      interval: Count
      min interval: { type: Count, lenient: true }
      tracker id: { type: binary, lenient: true }
      complete: { type: Count, lenient: true }
      incomplete: { type: Count, lenient: true }
      external ip: { oneOf: [{ type: binary, length: 4 }, { type: binary, length: 16 }], lenient: true }
      peers: { oneOf: [CompactPeers, PeerList] }
      peers6: { type: binary, multipleOf: 18 }
  CompactPeers:
    description: 4-byte IPv4 address and 2-byte port per peer (BEP 23)
    type: binary
    multipleOf: 6
  PeerList:
    type: list
    skipInvalid: true
    items: Peer
  Peer:
    type: dictionary
    entries:
      peer id: { type: binary, length: 20, lenient: true }
      ip: { type: string, minLength: 1, maxLength: 255, required: true }
      port: { type: integer, min: 1, max: 65535, required: true }
  ScrapeResponse:
    type: dictionary
    entries:
      failure reason: Text
      files:
        type: dictionary
        keys: { type: binary, length: 20 }
        values: ScrapeCounts
  ScrapeCounts:
    type: dictionary
    entries:
      complete: { type: Count, lenient: true }
      downloaded: { type: Count, lenient: true }
      incomplete: { type: Count, lenient: true }
      name: { type: Text, lenient: true }
`;

/** One peer of a dictionary-model peer list. */
export interface TrackerPeerEntry {
  /** The peer's 20-byte id, when given and well-formed. */
  "peer id"?: Uint8Array;
  /** IP address or host name. */
  ip: string;
  /** Port, 1 to 65535. */
  port: number;
}

/** An announce response, validated. */
export interface TrackerAnnounceBody {
  /** Why the tracker refused; when present, the rest is usually absent. */
  "failure reason"?: string;
  /** BEP 31: minutes to wait before retrying after a failure. */
  "retry in"?: number;
  /** A warning to show the user. */
  "warning message"?: string;
  /** Seconds to wait between announces. */
  interval?: number;
  /** Minimum seconds between announces. */
  "min interval"?: number;
  /** Opaque id to send back on the next announce. */
  "tracker id"?: Uint8Array;
  /** Seeders. */
  complete?: number;
  /** Leechers. */
  incomplete?: number;
  /** BEP 24: our address as the tracker sees it (4 or 16 bytes). */
  "external ip"?: Uint8Array;
  /** Compact IPv4 peers (6 bytes each) or a list of peer dictionaries. */
  peers?: Uint8Array | TrackerPeerEntry[];
  /** Compact IPv6 peers (18 bytes each). */
  peers6?: Uint8Array;
}

/** Per-torrent counts of a scrape response. */
export interface TrackerScrapeCounts {
  /** Seeders. */
  complete?: number;
  /** Completed downloads. */
  downloaded?: number;
  /** Leechers. */
  incomplete?: number;
  /** Torrent name, when the tracker tells. */
  name?: string;
}

/** A scrape response, validated. */
export interface TrackerScrapeBody {
  /** Why the tracker refused. */
  "failure reason"?: string;
  /** Counts by 20-byte info hash, in document order. */
  files?: Map<Uint8Array, TrackerScrapeCounts>;
}

const document = loadSchemaDocument(TRACKER_RESPONSE_SCHEMA_YAML);

/** Validates an announce response: `validate(announceResponseSchema, decoded)`. */
export const announceResponseSchema: Schema<TrackerAnnounceBody> = document.root as Schema<
  TrackerAnnounceBody
>;

/** Validates a scrape response: `validate(scrapeResponseSchema, decoded)`. */
export const scrapeResponseSchema: Schema<TrackerScrapeBody> = document.types.get(
  "ScrapeResponse",
) as Schema<TrackerScrapeBody>;
