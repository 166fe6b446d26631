/**
 * A small HTTP server on 127.0.0.1 (port 0) serving files with `Range`, for web seed
 * tests, with hostile modes: each misbehaves in one way a real server might.
 */

/** How the server answers. */
export type ServerMode =
  | "good"
  | "wrong-bytes" // 206 with the right headers, corrupted bytes
  | "ignore-range" // 200 with the whole file, whatever the range
  | "short-body" // 206 whose (chunked) body ends cleanly halfway
  | "cut-body" // 206 whose body breaks off halfway (the connection fails)
  | "redirect-loop" // 302 to itself, forever
  | "416" // Range Not Satisfiable
  | "503" // busy, Retry-After: 1
  | "wrong-range" // 206 with the bytes (and Content-Range) of the range one byte later
  | "long-body" // 206, right Content-Range, then 100 bytes more (chunked, no Content-Length)
  | "hoffman" // a BEP 17 script: ?info_hash=..&piece=N&ranges=a-b
  | "hoffman-busy"; // a BEP 17 script answering 503 with a body of "2" (seconds)

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** Requests answered so far. */
  readonly requests: number;
  /** Range headers (or BEP 17 queries) seen, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

/**
 * Serves `files` (URL path, percent-decoded, without the leading `/`, to contents).
 * For `hoffman`, `pieces` gives the torrent's data and piece length instead.
 */
export function serveFiles(
  files: Map<string, Uint8Array>,
  mode: ServerMode = "good",
  pieces?: { data: Uint8Array; pieceLength: number },
  gate?: Promise<void>,
): TestServer {
  const seen: string[] = [];
  let requests = 0;
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    },
    async (request) => {
      // A gated server answers nothing until the test opens the gate.
      if (gate) await gate;
      requests++;
      const url = new URL(request.url);
      if (mode === "redirect-loop") {
        return new Response(null, { status: 302, headers: { location: url.pathname } });
      }
      if (mode === "503") {
        return new Response("busy", { status: 503, headers: { "retry-after": "1" } });
      }
      if (mode === "hoffman-busy") return new Response("2", { status: 503 });
      if (mode === "hoffman") {
        seen.push(url.search);
        const piece = Number(url.searchParams.get("piece"));
        const [first, last] = (url.searchParams.get("ranges") ?? "").split("-").map(Number);
        const start = piece * pieces!.pieceLength;
        return new Response(pieces!.data.slice(start + first, start + last + 1));
      }
      const data = files.get(decodeURIComponent(url.pathname.slice(1)));
      if (!data) return new Response("not found", { status: 404 });
      const range = request.headers.get("range") ?? "";
      seen.push(range);
      const match = /^bytes=(\d+)-(\d+)$/.exec(range);
      if (mode === "ignore-range" || !match) {
        return new Response(data.slice(), { headers: { "accept-ranges": "bytes" } });
      }
      const first = Number(match[1]);
      const last = Math.min(Number(match[2]), data.length - 1);
      if (mode === "416" || first >= data.length) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${data.length}` },
        });
      }
      const shift = mode === "wrong-range" && last + 1 < data.length ? 1 : 0;
      let body = data.slice(first + shift, last + 1 + shift);
      if (mode === "wrong-bytes") body = body.map((byte) => byte ^ 0x5a);
      const headers = {
        "content-range": `bytes ${first + shift}-${last + shift}/${data.length}`,
        "accept-ranges": "bytes",
      };
      if (mode === "long-body") {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(body);
            controller.enqueue(new Uint8Array(100));
            controller.close();
          },
        });
        return new Response(stream, { status: 206, headers });
      }
      if (mode === "short-body" || mode === "cut-body") {
        const half = body.subarray(0, body.length >> 1);
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(half);
            if (mode === "cut-body") controller.error(new Error("cut short"));
            else controller.close();
          },
        });
        return new Response(stream, { status: 206, headers });
      }
      return new Response(body, { status: 206, headers });
    },
  );
  const address = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    get requests() {
      return requests;
    },
    seen,
    close: async () => {
      await server.shutdown();
    },
  };
}
