/**
 * Scrape (BEP 48): swarm counts for one or more torrents.
 */
import { toHex } from "../util/bytes.ts";
import { TrackerError } from "./errors.ts";
import { parseTrackerUrl, trackerGet } from "./http_get.ts";
import { percentEncodeBytes } from "./percent.ts";
import { parseScrapeResponse } from "./response.ts";
import type { ScrapeCounts, TrackerRequestOptions } from "./types.ts";

/**
 * Derives the scrape URL from an announce URL by the BEP 48 convention: the last path segment
 * must start with `announce`, which becomes `scrape`. Returns `undefined` when the URL does not
 * allow scraping.
 *
 * @param announceUrl The tracker's announce URL.
 * @returns The scrape URL, or `undefined`.
 *
 * @example
 * ```ts
 * import { scrapeUrlFor } from "@bittern/bittern";
 *
 * console.log(scrapeUrlFor("http://t.example/x/announce.php?k=1")); // "http://t.example/x/scrape.php?k=1"
 * console.log(scrapeUrlFor("http://t.example/a")); // undefined
 * ```
 */
export function scrapeUrlFor(announceUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(announceUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const slash = url.pathname.lastIndexOf("/");
  const segment = url.pathname.slice(slash + 1);
  if (!segment.startsWith("announce")) return undefined;
  url.pathname = url.pathname.slice(0, slash + 1) + "scrape" + segment.slice("announce".length);
  return url.href;
}

/**
 * Scrapes a tracker for the given info hashes. Hashes the tracker does not know are absent
 * from the result.
 *
 * @param announceUrl The tracker's announce URL (the scrape URL is derived from it).
 * @param infoHashes 20-byte info hashes.
 * @param options Signal, timeout, response size and redirect limits.
 * @returns Counts keyed by lowercase hex info hash.
 * @throws {TrackerError} `unsupported` when the URL does not allow scraping, else as
 * {@linkcode announce}.
 *
 * @example
 * ```ts
 * import { scrape } from "@bittern/bittern";
 *
 * const counts = await scrape("http://127.0.0.1:6969/announce", [new Uint8Array(20)]);
 * console.log(counts.get("00".repeat(20))?.complete);
 * ```
 */
export async function scrape(
  announceUrl: string,
  infoHashes: readonly Uint8Array[],
  options: TrackerRequestOptions = {},
): Promise<Map<string, ScrapeCounts>> {
  const scrapeUrl = scrapeUrlFor(announceUrl);
  if (!scrapeUrl) {
    throw new TrackerError("unsupported", announceUrl, "URL does not allow scraping (BEP 48)");
  }
  const target = parseTrackerUrl(scrapeUrl);
  const parts: string[] = [];
  for (const hash of infoHashes) {
    if (hash.length !== 20) {
      throw new TrackerError("unsupported", scrapeUrl, `info hash ${toHex(hash)} is not 20 bytes`);
    }
    parts.push(`info_hash=${percentEncodeBytes(hash)}`);
  }
  const existing = target.search.length > 1 ? target.search.slice(1) : "";
  const query = [existing, ...parts].filter((part) => part !== "").join("&");
  target.search = query ? "?" + query : "";
  const body = await trackerGet(target, scrapeUrl, options);
  return parseScrapeResponse(body, scrapeUrl);
}
