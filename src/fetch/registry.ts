import { BencodeError } from "../bencode/mod.ts";
import { parseTorrent, type ParseTorrentOptions } from "../metainfo/parse.ts";
import { TorrentError } from "../metainfo/errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { FetchError } from "./errors.ts";
import type { MetainfoFetcher } from "./fetcher.ts";
import { FileFetcher } from "./file_fetcher.ts";
import { HttpFetcher } from "./http_fetcher.ts";

/**
 * The fetchers consulted for a source, in order: custom fetchers first, in
 * the order registered, then the built-ins (http(s), then file paths).
 *
 * @example Registering a custom fetcher
 * ```ts
 * import { fetchTorrent, MetainfoFetchers } from "@bittern/bittern";
 *
 * const fetchers = new MetainfoFetchers().register({
 *   name: "env",
 *   canFetch: (source) => source.startsWith("env:"),
 *   fetch: (source) => Promise.resolve(new TextEncoder().encode(Deno.env.get(source.slice(4)))),
 * });
 * const torrent = await fetchTorrent("env:MY_TORRENT", { fetchers });
 * ```
 */
export class MetainfoFetchers {
  readonly #custom: MetainfoFetcher[] = [];
  readonly #builtIn: MetainfoFetcher[];

  /**
   * Creates a registry.
   *
   * @param builtIn The fallback fetchers (default: {@linkcode HttpFetcher} and {@linkcode FileFetcher} with default limits).
   */
  constructor(builtIn: readonly MetainfoFetcher[] = [new HttpFetcher(), new FileFetcher()]) {
    this.#builtIn = [...builtIn];
  }

  /**
   * Adds a fetcher, consulted after earlier custom ones and before the built-ins.
   *
   * @param fetcher The fetcher.
   * @returns This registry, for chaining.
   */
  register(fetcher: MetainfoFetcher): this {
    this.#custom.push(fetcher);
    return this;
  }

  /**
   * The fetchers in the order they are consulted.
   *
   * @returns Custom fetchers, then built-ins.
   */
  list(): readonly MetainfoFetcher[] {
    return [...this.#custom, ...this.#builtIn];
  }

  /**
   * The first fetcher that can fetch `source`, if any.
   *
   * @param source A path, URL or other identifier.
   * @returns The fetcher, or `undefined`.
   */
  find(source: string): MetainfoFetcher | undefined {
    return this.list().find((fetcher) => fetcher.canFetch(source));
  }

  /**
   * Fetches the bytes of `source` with the first fetcher that can.
   *
   * @param source A path, URL or other identifier.
   * @param signal Aborts the fetch.
   * @returns The metainfo bytes.
   * @throws {FetchError} when no fetcher handles the source.
   */
  fetch(source: string, signal: AbortSignal = new AbortController().signal): Promise<Uint8Array> {
    const fetcher = this.find(source);
    if (!fetcher) {
      const names = this.list().map((f) => f.name).join(", ");
      return Promise.reject(new FetchError(source, `no fetcher handles it (tried ${names})`));
    }
    return fetcher.fetch(source, signal);
  }
}

/**
 * Options for {@linkcode fetchTorrent}.
 *
 * @example
 * ```ts
 * import { fetchTorrent, type FetchTorrentOptions } from "@bittern/bittern";
 *
 * const options: FetchTorrentOptions = { signal: AbortSignal.timeout(5000), maxFiles: 1000 };
 * await fetchTorrent("./x.torrent", options);
 * ```
 */
export interface FetchTorrentOptions extends ParseTorrentOptions {
  /** Aborts the fetch. */
  signal?: AbortSignal;
  /** The fetchers to consult (default: a registry with only the built-ins). */
  fetchers?: MetainfoFetchers;
}

/**
 * Fetches a torrent from a path, URL or custom source and parses it.
 *
 * @example
 * ```ts
 * import { fetchTorrent } from "@bittern/bittern";
 *
 * const torrent = await fetchTorrent("https://example.org/x.torrent", {
 *   signal: AbortSignal.timeout(10_000),
 * });
 * console.log(torrent.name);
 * ```
 *
 * @param source A path, `file:` or `http(s):` URL, or a source a custom fetcher handles.
 * @param options Signal, fetchers and parse limits.
 * @returns The parsed torrent.
 * @throws {FetchError} when fetching fails or the body is not a torrent (the parse error is the `cause`).
 */
export async function fetchTorrent(
  source: string,
  options: FetchTorrentOptions = {},
): Promise<Torrent> {
  const fetchers = options.fetchers ?? new MetainfoFetchers();
  const bytes = await fetchers.fetch(source, options.signal);
  try {
    return parseTorrent(bytes, options);
  } catch (error) {
    if (error instanceof TorrentError || error instanceof BencodeError) {
      throw new FetchError(source, `not a torrent (${error.message})`, { cause: error });
    }
    throw error;
  }
}
