import assert from "node:assert/strict";
import { FetchError, fetchTorrent, HttpFetcher } from "../../src/fetch/mod.ts";
import { createTorrent } from "../../src/metainfo/mod.ts";

const { bytes: TORRENT, torrent: EXPECTED } = await createTorrent({
  name: "served",
  data: new Uint8Array(50_000).fill(3),
});

/** A real HTTP server on 127.0.0.1 with the routes the tests need. */
async function withServer(run: (base: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    const hops = url.pathname.match(/^\/hop\/(\d+)$/);
    if (hops) {
      const left = Number(hops[1]);
      const location = left === 0 ? "/ok.torrent" : `/hop/${left - 1}`;
      return new Response(null, { status: 302, headers: { location } });
    }
    switch (url.pathname) {
      case "/ok.torrent":
        return new Response(TORRENT.slice());
      case "/absolute-redirect":
        return Response.redirect(new URL("/ok.torrent", url), 301);
      case "/to-file":
        return new Response(null, { status: 302, headers: { location: "file:///etc/passwd" } });
      case "/html":
        return new Response("<html>not a torrent</html>");
      case "/big-declared":
        return new Response(new Uint8Array(2000));
      case "/big-streamed":
        return new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(500));
              controller.close();
            },
          }),
        );
      case "/slow":
        // Answers only when the client goes away.
        return new Promise<Response>((resolve) => {
          request.signal.addEventListener("abort", () => resolve(new Response("late")));
        });
      default:
        return new Response("no such thing", { status: 404, statusText: "Not Found" });
    }
  });
  try {
    await run(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

async function assertFetchError(
  promise: Promise<unknown>,
  pattern: RegExp,
  status?: number,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof FetchError, String(error));
    assert.match(error.message, pattern);
    assert.equal(error.status, status);
    return true;
  });
}

const signal = () => new AbortController().signal;

Deno.test("HttpFetcher fetches a torrent and fetchTorrent parses it", async () => {
  await withServer(async (base) => {
    const fetcher = new HttpFetcher();
    assert.ok(fetcher.canFetch(`${base}/ok.torrent`));
    assert.ok(fetcher.canFetch("HTTPS://example.org/x"));
    assert.ok(!fetcher.canFetch("/tmp/x.torrent"));
    assert.deepEqual(await fetcher.fetch(`${base}/ok.torrent`, signal()), TORRENT);
    const torrent = await fetchTorrent(`${base}/ok.torrent`);
    assert.equal(torrent.infoHashHex, EXPECTED.infoHashHex);
  });
});

Deno.test("HttpFetcher follows redirects up to its limit", async () => {
  await withServer(async (base) => {
    const fetcher = new HttpFetcher({ maxRedirects: 3 });
    assert.deepEqual(await fetcher.fetch(`${base}/hop/2`, signal()), TORRENT); // 3 redirects
    assert.deepEqual(await fetcher.fetch(`${base}/absolute-redirect`, signal()), TORRENT);
    await assertFetchError(fetcher.fetch(`${base}/hop/3`, signal()), /more than 3 redirects/);
    await assertFetchError(fetcher.fetch(`${base}/to-file`, signal()), /non-http\(s\) URL/);
  });
});

Deno.test("HttpFetcher reports non-200 answers with status and URL", async () => {
  await withServer(async (base) => {
    await assertFetchError(
      new HttpFetcher().fetch(`${base}/missing`, signal()),
      new RegExp(`${base}/missing: answered 404 Not Found`),
      404,
    );
  });
});

Deno.test("HttpFetcher enforces its size limit, declared or streamed", async () => {
  await withServer(async (base) => {
    const fetcher = new HttpFetcher({ maxBytes: 1000 });
    await assertFetchError(fetcher.fetch(`${base}/big-declared`, signal()), /larger than 1000/);
    await assertFetchError(fetcher.fetch(`${base}/big-streamed`, signal()), /larger than 1000/);
  });
});

Deno.test("fetchTorrent says when a body is not a torrent", async () => {
  await withServer(async (base) => {
    await assertFetchError(fetchTorrent(`${base}/html`), /html: not a torrent/);
  });
});

Deno.test("HttpFetcher times out, and honours the caller's signal", async () => {
  await withServer(async (base) => {
    await assertFetchError(
      new HttpFetcher({ timeoutMs: 50 }).fetch(`${base}/slow`, signal()),
      /timed out after 50 ms/,
    );
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const pending = new HttpFetcher().fetch(`${base}/slow`, controller.signal);
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
  });
});

Deno.test("HttpFetcher reports a refused connection as a FetchError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assertFetchError(
    new HttpFetcher().fetch(`http://127.0.0.1:${port}/x`, signal()),
    /request failed/,
  );
});
