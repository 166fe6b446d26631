import { type Torrent, visibleFiles } from "../metainfo/torrent.ts";
import { contentTypeFor } from "./content_type.ts";
import { StreamError } from "./errors.ts";
import { parseRange } from "./range.ts";
import type { ReadStreamOptions } from "./read_stream.ts";

/** What {@linkcode serveFile} needs of a session (every `TorrentSession` has it). */
export interface StreamableSession {
  /** Resolves with the torrent once its metadata is known. */
  readonly metadata: Promise<Torrent>;
  /** A stream of a file's bytes as they verify. */
  createReadStream(fileIndex: number, options?: ReadStreamOptions): ReadableStream<Uint8Array>;
}

/**
 * Answers an HTTP request for one file of a torrent while it downloads: `GET`
 * and `HEAD`, a single `Range` (`206` with `Content-Range`; `416` when it
 * starts past the end), `Accept-Ranges: bytes`, `Content-Length` and a
 * `Content-Type` from the file's extension. The body is
 * `session.createReadStream` over the range, so the pieces the client waits
 * for are fetched first, and a client that goes away frees them. `404` for a
 * file index the torrent does not have, `405` for other methods, `503` when the
 * session stopped or its storage cannot be read back (see `StreamError`).
 *
 * @example Streaming file 0 from your own server
 * ```ts
 * import { Runtime, serveFile } from "@bittern/bittern";
 *
 * declare const torrentBytes: Uint8Array;
 * await using runtime = new Runtime();
 * const session = await runtime.add(torrentBytes, { out: "./downloads" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, (request) => serveFile(session, request, 0));
 * ```
 *
 * @param session The torrent's session (a magnet link's waits for its metadata).
 * @param request The HTTP request.
 * @param fileIndex The file, by the index `bittern info` shows (padding files not counted).
 * @returns The response.
 */
export async function serveFile(
  session: StreamableSession,
  request: Request,
  fileIndex: number,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
    });
  }
  const files = visibleFiles(await session.metadata);
  const file = Number.isInteger(fileIndex) ? files[fileIndex] : undefined;
  if (!file) {
    return new Response(`no file ${fileIndex}: the torrent has ${files.length}\n`, {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const size = file.length;
  const name = file.path[file.path.length - 1];
  const headers = new Headers({
    "accept-ranges": "bytes",
    "content-type": contentTypeFor(name),
    "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(name)}`,
  });
  const range = parseRange(request.headers.get("range"), size);
  if (range === "unsatisfiable") {
    headers.set("content-range", `bytes */${size}`);
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response("range not satisfiable\n", { status: 416, headers });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  headers.set("content-length", String(end - start + 1));
  if (range) headers.set("content-range", `bytes ${start}-${end}/${size}`);
  const status = range ? 206 : 200;
  if (request.method === "HEAD" || size === 0) return new Response(null, { status, headers });
  let body: ReadableStream<Uint8Array>;
  try {
    body = session.createReadStream(fileIndex, { start, end });
  } catch (error) {
    if (!(error instanceof StreamError)) throw error;
    // The session stopped, or its storage cannot be read back: nothing to serve now.
    return new Response(`${error.message}\n`, {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(body, { status, headers });
}
