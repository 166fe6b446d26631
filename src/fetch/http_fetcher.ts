import { explainPermission } from "../util/permissions.ts";
import { FetchError } from "./errors.ts";
import type { MetainfoFetcher } from "./fetcher.ts";
import { DEFAULT_MAX_METAINFO_BYTES, readLimited, tooLarge } from "./limits.ts";

/**
 * Options for {@linkcode HttpFetcher}.
 *
 * @example
 * ```ts
 * import { HttpFetcher } from "@bittern/bittern";
 *
 * const fetcher = new HttpFetcher({ maxBytes: 1 << 20, maxRedirects: 2, timeoutMs: 5000 });
 * ```
 */
export interface HttpFetcherOptions {
  /** Largest body accepted. Default 16 MiB. */
  maxBytes?: number;
  /** Most redirects followed. Default 5. */
  maxRedirects?: number;
  /** Milliseconds allowed for the whole fetch, body included. Default 30,000. */
  timeoutMs?: number;
}

/**
 * Default for {@linkcode HttpFetcherOptions.maxRedirects}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_REDIRECTS } from "@bittern/bittern";
 *
 * console.log(DEFAULT_MAX_REDIRECTS); // 5
 * ```
 */
export const DEFAULT_MAX_REDIRECTS = 5;
/**
 * Default for {@linkcode HttpFetcherOptions.timeoutMs}.
 *
 * @example
 * ```ts
 * import { DEFAULT_FETCH_TIMEOUT_MS } from "@bittern/bittern";
 *
 * console.log(DEFAULT_FETCH_TIMEOUT_MS); // 30000
 * ```
 */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

const HTTP_URL = /^https?:\/\//i;

/**
 * Fetches metainfo from `http:` and `https:` URLs. Needs only `--allow-net`
 * for the host (and each redirect target); without it, fails with a
 * PermissionError naming the flag. Redirects are followed up to a limit,
 * only to http(s) URLs; anything but a final 200 is a {@linkcode FetchError}
 * with the status and URL.
 *
 * @example
 * ```ts
 * import { HttpFetcher } from "@bittern/bittern";
 *
 * const fetcher = new HttpFetcher({ timeoutMs: 10_000, maxRedirects: 2 });
 * const bytes = await fetcher.fetch(
 *   "https://example.org/x.torrent",
 *   new AbortController().signal,
 * );
 * ```
 */
export class HttpFetcher implements MetainfoFetcher {
  /** `http`. */
  readonly name = "http";
  readonly #maxBytes: number;
  readonly #maxRedirects: number;
  readonly #timeoutMs: number;

  /**
   * Creates an HTTP(S) fetcher.
   *
   * @param options Size, redirect and time limits.
   */
  constructor(options: HttpFetcherOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_METAINFO_BYTES;
    this.#maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  }

  /**
   * Whether `source` is an `http://` or `https://` URL.
   *
   * @param source A path or URL.
   * @returns Whether this fetcher handles it.
   */
  canFetch(source: string): boolean {
    return HTTP_URL.test(source);
  }

  /**
   * Fetches the URL, following redirects, within the time and size limits.
   *
   * @param source An http(s) URL.
   * @param signal Aborts the fetch (rejecting with the signal's reason).
   * @returns The response body.
   */
  async fetch(source: string, signal: AbortSignal): Promise<Uint8Array> {
    signal.throwIfAborted();
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new FetchError(source, `timed out after ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
    const combined = AbortSignal.any([signal, timeout.signal]);
    try {
      return await this.#fetchFollowing(source, combined);
    } catch (error) {
      // A fetch aborted by our timer rejects with the timer's FetchError, or a DOMException.
      if (timeout.signal.aborted && !signal.aborted) throw timeout.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #fetchFollowing(source: string, signal: AbortSignal): Promise<Uint8Array> {
    let url = source;
    for (let redirects = 0; redirects <= this.#maxRedirects; redirects++) {
      const response = await request(url, signal);
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        await response.body?.cancel();
        url = redirectTarget(url, response.headers.get("location")!);
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        const status = `${response.status} ${response.statusText}`.trim();
        throw new FetchError(url, `answered ${status}, not 200`, { status: response.status });
      }
      const declared = Number(response.headers.get("content-length") ?? "0");
      if (declared > this.#maxBytes) {
        await response.body?.cancel();
        throw tooLarge(url, this.#maxBytes);
      }
      if (!response.body) return new Uint8Array();
      return await readLimited(response.body, url, this.#maxBytes);
    }
    throw new FetchError(source, `more than ${this.#maxRedirects} redirects (maxRedirects)`);
  }
}

async function request(url: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { redirect: "manual", signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const explained = explainPermission(error, "net", new URL(url).host);
    if (explained !== error) throw explained;
    const reason = error instanceof Error ? error.message : String(error);
    throw new FetchError(url, `request failed: ${reason}`, { cause: error });
  }
}

function redirectTarget(from: string, location: string): string {
  let target: URL;
  try {
    target = new URL(location, from);
  } catch (error) {
    throw new FetchError(from, `a redirect to an invalid URL: ${location}`, { cause: error });
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new FetchError(from, `a redirect to a non-http(s) URL: ${target.href}`);
  }
  return target.href;
}
