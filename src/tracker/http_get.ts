/**
 * One tracker GET with the limits every tracker request needs: a deadline covering the body,
 * a body size cap, and a counted redirect chain.
 */
import { concatBytes } from "../util/bytes.ts";
import { explainPermission } from "../util/permissions.ts";
import { TrackerError } from "./errors.ts";
import type { TrackerRequestOptions } from "./types.ts";

/** Default deadline for a whole tracker request, in milliseconds. */
export const DEFAULT_TRACKER_TIMEOUT_MS = 15_000;
/** Default cap on a tracker response body, in bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Default number of redirects followed. */
export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Parses `url` and insists on http(s), naming the tracker when it is not. */
export function parseTrackerUrl(url: string, label = url): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackerError("unsupported", label, "not a valid URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TrackerError("unsupported", label, `unsupported scheme ${parsed.protocol}`);
  }
  return parsed;
}

async function readLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
  label: string,
): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        throw new TrackerError("bad-response", label, `response larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks);
}

/**
 * GETs `url` and returns the body of a 200 answer, following redirects by hand so they can be
 * counted. Failures become {@linkcode TrackerError}s named after `label` (the tracker URL as the
 * torrent gives it); aborting `options.signal` rejects with the signal's reason.
 */
export async function trackerGet(
  url: URL,
  label: string,
  options: TrackerRequestOptions = {},
): Promise<Uint8Array> {
  const timeout = options.timeout ?? DEFAULT_TRACKER_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  options.signal?.throwIfAborted();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeout);
  const signal = options.signal
    ? AbortSignal.any([options.signal, deadline.signal])
    : deadline.signal;
  // Dedicated client so no pooled keep-alive connection outlives the request.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    let current = url;
    for (let redirects = 0;; redirects++) {
      const response = await fetch(current, {
        redirect: "manual",
        signal,
        client,
        headers: { "accept-encoding": "identity" },
      });
      if (REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel();
        const location = response.headers.get("location");
        if (redirects >= maxRedirects) {
          throw new TrackerError("redirect", label, `more than ${maxRedirects} redirects`);
        }
        if (!location) {
          throw new TrackerError("redirect", label, `redirect ${response.status} without Location`);
        }
        current = parseTrackerUrl(new URL(location, current).href, label);
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new TrackerError("http-status", label, `HTTP status ${response.status}`, {
          status: response.status,
        });
      }
      if (!response.body) return new Uint8Array(0);
      return await readLimited(response.body, maxBytes, label);
    }
  } catch (error) {
    if (error instanceof TrackerError) throw error;
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.signal.aborted) {
      throw new TrackerError("timeout", label, `no complete answer within ${timeout} ms`, {
        cause: error,
      });
    }
    const explained = explainPermission(error, "net", url.host);
    if (explained !== error) throw explained;
    const detail = error instanceof Error ? error.message : String(error);
    throw new TrackerError("unreachable", label, detail, { cause: error });
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
