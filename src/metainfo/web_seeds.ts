import { BencodeDict, type BencodeValue } from "../bencode/mod.ts";

/**
 * One web seed: an HTTP(S) server holding the torrent's data.
 *
 * - `getright` (BEP 19, the metainfo's `url-list`, magnets' `ws`): an ordinary web
 *   server answering `Range` requests for the torrent's files.
 * - `hoffman` (BEP 17, the metainfo's `httpseeds`): a script answering
 *   `?info_hash=..&piece=N&ranges=a-b`.
 *
 * @example
 * ```ts
 * import { parseTorrent } from "@bittern/bittern";
 *
 * const torrent = parseTorrent(await Deno.readFile("x.torrent"));
 * for (const seed of torrent.webSeeds ?? []) console.log(seed.kind, seed.url);
 * ```
 */
export interface WebSeed {
  /** The http: or https: URL, as given. */
  readonly url: string;
  /** Which protocol the server speaks. */
  readonly kind: "getright" | "hoffman";
}

/** Most web seeds kept from one metainfo (hostile files may list millions). */
const MAX_WEB_SEEDS = 64;
const MAX_URL_LENGTH = 4096;

/**
 * Whether `url` is an absolute http: or https: URL: the only web seeds used.
 *
 * @example
 * ```ts
 * import { isWebSeedUrl } from "@bittern/bittern";
 *
 * console.log(isWebSeedUrl("https://example.com/f.iso"), isWebSeedUrl("ftp://x/f")); // true false
 * ```
 *
 * @param url Any text.
 * @returns `true` for an http(s) URL with a host.
 */
export function isWebSeedUrl(url: string): boolean {
  if (url.length > MAX_URL_LENGTH) return false;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.host !== "";
  } catch {
    return false;
  }
}

/**
 * Reads the web seeds of a decoded metainfo root: `url-list` (BEP 19; a string or a
 * list of strings) then `httpseeds` (BEP 17). Anything that is not an http(s) URL
 * (ftp, garbage, invalid UTF-8) is skipped, as are duplicates; at most 64 are kept.
 *
 * @example
 * ```ts
 * import { BencodeDict, readWebSeeds } from "@bittern/bittern";
 *
 * const root = new BencodeDict([["url-list", new TextEncoder().encode("http://m.example/")]]);
 * console.log(readWebSeeds(root)); // [ { url: "http://m.example/", kind: "getright" } ]
 * ```
 *
 * @param root The metainfo's top-level dictionary.
 * @returns The web seeds, `url-list` ones first.
 */
export function readWebSeeds(root: BencodeValue): WebSeed[] {
  if (!(root instanceof BencodeDict)) return [];
  const seeds: WebSeed[] = [];
  const seen = new Set<string>();
  const take = (value: BencodeValue | undefined, kind: WebSeed["kind"]) => {
    const entries = value instanceof Uint8Array ? [value] : Array.isArray(value) ? value : [];
    for (const entry of entries) {
      if (seeds.length >= MAX_WEB_SEEDS) return;
      if (!(entry instanceof Uint8Array)) continue;
      const url = utf8(entry)?.trim();
      if (!url || !isWebSeedUrl(url) || seen.has(`${kind} ${url}`)) continue;
      seen.add(`${kind} ${url}`);
      seeds.push({ url, kind });
    }
  };
  take(root.get("url-list"), "getright");
  take(root.get("httpseeds"), "hoffman");
  return seeds;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
