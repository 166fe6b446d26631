import assert from "node:assert/strict";
import { serveFile } from "../../mod.ts";
import { streamScene } from "./helpers.ts";

const MiB = 1 << 20;

/** Serves the scene's files on 127.0.0.1 (port 0) with the library helper. */
function serve(handler: (request: Request) => Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("serveFile: 206 with Content-Range, 200, 416 and HEAD, over a real HTTP server", async () => {
  await using scene = await streamScene([3 * MiB, 1000], 2 * MiB);
  const session = scene.leecher;
  const { server, url } = serve((request) => {
    const index = Number(new URL(request.url).pathname.slice(1));
    return session.serveFile(request, index);
  });
  try {
    const file = scene.files[0];
    const ranged = await fetch(`${url}/0`, { headers: { range: "bytes=2000000-2099999" } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-range"), `bytes 2000000-2099999/${file.length}`);
    assert.equal(ranged.headers.get("content-length"), "100000");
    assert.equal(ranged.headers.get("accept-ranges"), "bytes");
    assert.equal(ranged.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(
      new Uint8Array(await ranged.arrayBuffer()),
      file.subarray(2_000_000, 2_100_000),
    );
    assert.ok(session.stats().progress < 1, "served before the download completed");

    const suffix = await fetch(`${url}/0`, { headers: { range: "bytes=-5000" } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), file.subarray(file.length - 5000));

    const unsatisfiable = await fetch(`${url}/0`, { headers: { range: `bytes=${file.length}-` } });
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers.get("content-range"), `bytes */${file.length}`);
    await unsatisfiable.body?.cancel();

    const head = await fetch(`${url}/0`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(file.length));
    assert.equal(head.headers.get("accept-ranges"), "bytes");
    assert.equal(head.body, null);

    const small = await fetch(`${url}/1`);
    assert.equal(small.status, 200);
    assert.deepEqual(new Uint8Array(await small.arrayBuffer()), scene.files[1]);

    const missing = await fetch(`${url}/7`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${url}/0`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveFile: a browser-style sequence (start, end for the moov atom, middle) and a client that leaves", async () => {
  await using scene = await streamScene([6 * MiB], 1.5 * MiB);
  const session = scene.leecher;
  const { server, url } = serve((request) => serveFile(session, request, 0));
  try {
    const file = scene.files[0];
    const size = file.length;
    // A player opens the file, drops the connection after the first bytes, asks for the end.
    const opening = await fetch(url, { headers: { range: "bytes=0-" } });
    assert.equal(opening.status, 206);
    const reader = opening.body!.getReader();
    const first = await reader.read();
    assert.deepEqual(first.value, file.subarray(0, first.value!.length));
    await reader.cancel();
    for (const [start, end] of [[size - 65536, size - 1], [3 * MiB, 3 * MiB + 262143]]) {
      const response = await fetch(url, { headers: { range: `bytes=${start}-${end}` } });
      assert.equal(response.status, 206);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), file.subarray(start, end + 1));
    }
    assert.ok(session.stats().progress < 1, "the sequence finished before the download");
  } finally {
    await server.shutdown();
  }
});
