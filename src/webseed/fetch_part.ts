import { explainPermission, PermissionError } from "../util/permissions.ts";
import { WebSeedError } from "./errors.ts";
import type { WebSeedPart } from "./layout.ts";

/** Longest wait a server's `Retry-After` may ask for (longer is clamped). */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Most bytes of a BEP 17 `503` body read (an ASCII number of seconds). */
const MAX_RETRY_BODY = 32;

/**
 * Fetches one part of a span from a web seed and hands its bytes, in order, to
 * `receive` (awaited: the caller's back-pressure and accounting). Checks everything
 * a hostile server could get wrong: the status (`206` for a partial range; `200`
 * only for the whole file or a BEP 17 script), `Content-Range` and `Content-Length`,
 * and the body's exact length.
 *
 * @param part What to fetch.
 * @param signal Aborts the request (failure, shutdown, idle timeout).
 * @param receive Takes each chunk of the body; the view is valid only during the call.
 * @throws {WebSeedError} for anything but exactly the bytes asked for.
 * @throws {PermissionError} when the process may not reach the host.
 */
export async function fetchPart(
  part: WebSeedPart & { kind: "range" | "pieces" },
  signal: AbortSignal,
  receive: (chunk: Uint8Array) => void | Promise<void>,
): Promise<void> {
  const url = part.url;
  const headers = part.kind === "range" ? { range: `bytes=${part.first}-${part.last}` } : undefined;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: "follow" });
  } catch (error) {
    throw failure(error, url, signal);
  }
  try {
    checkResponse(part, response);
  } catch (error) {
    if (response.status === 503) {
      throw new WebSeedError("status", url, "HTTP 503 (busy)", {
        retryAfterMs: part.kind === "pieces"
          ? await retryBody(response)
          : retryAfterHeader(response.headers.get("retry-after")),
      });
    }
    await response.body?.cancel().catch(() => {});
    throw error;
  }
  const body = response.body;
  if (!body) throw new WebSeedError("short-body", url, `no body (expected ${part.length} bytes)`);
  const reader = body.getReader();
  let received = 0;
  try {
    while (received < part.length) {
      const { done, value } = await reader.read();
      if (done) {
        throw new WebSeedError(
          "short-body",
          url,
          `the body ended after ${received} of ${part.length} bytes`,
        );
      }
      const take = Math.min(value.length, part.length - received);
      received += take;
      await receive(take === value.length ? value : value.subarray(0, take));
      if (take < value.length) {
        throw new WebSeedError("long-body", url, `the body is longer than ${part.length} bytes`);
      }
    }
    const { done } = await reader.read();
    if (!done) {
      throw new WebSeedError("long-body", url, `the body is longer than ${part.length} bytes`);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw failure(error, url, signal);
  }
}

function checkResponse(part: WebSeedPart & { kind: "range" | "pieces" }, response: Response) {
  const url = part.url;
  const status = response.status;
  if (part.kind === "pieces") {
    if (status !== 200) throw new WebSeedError("status", url, `HTTP ${status}`);
  } else if (status === 200) {
    if (part.first !== 0 || part.last !== part.fileLength - 1) {
      throw new WebSeedError(
        "ignored-range",
        url,
        `HTTP 200 (the whole file) for bytes ${part.first}-${part.last}`,
      );
    }
  } else if (status !== 206) {
    throw new WebSeedError("status", url, `HTTP ${status}`);
  }
  const contentLength = response.headers.get("content-length");
  if (contentLength !== null && Number(contentLength) !== part.length) {
    throw new WebSeedError(
      "content-range",
      url,
      `Content-Length ${contentLength}, expected ${part.length}`,
    );
  }
  if (part.kind === "pieces" || status === 200) return;
  const contentRange = response.headers.get("content-range") ?? "";
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
  if (
    !match || Number(match[1]) !== part.first || Number(match[2]) !== part.last ||
    (match[3] !== "*" && Number(match[3]) !== part.fileLength)
  ) {
    throw new WebSeedError(
      "content-range",
      url,
      `Content-Range "${contentRange.slice(0, 80)}" for bytes ${part.first}-${part.last}/` +
        `${part.fileLength}`,
    );
  }
}

/** A `Retry-After` header (seconds or an HTTP date) in ms, or undefined. */
function retryAfterHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
  const ms = seconds !== undefined ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

/** BEP 17: a `503` body is an ASCII number of seconds to wait. Reads a few bytes at most. */
async function retryBody(response: Response): Promise<number | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  let text = "";
  try {
    while (text.length < MAX_RETRY_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value.subarray(0, MAX_RETRY_BODY));
    }
  } catch {
    return undefined;
  } finally {
    await reader.cancel().catch(() => {});
  }
  return retryAfterHeader(text.slice(0, MAX_RETRY_BODY));
}

function failure(error: unknown, url: string, signal: AbortSignal): Error {
  if (error instanceof WebSeedError || error instanceof PermissionError) return error;
  if (signal.aborted && signal.reason instanceof WebSeedError) return signal.reason;
  const host = safeHost(url);
  const explained = explainPermission(error, "net", host);
  if (explained instanceof PermissionError) return explained;
  const detail = error instanceof Error ? error.message : String(error);
  return new WebSeedError("connection", url, detail, { cause: error });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
