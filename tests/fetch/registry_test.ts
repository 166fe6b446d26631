import assert from "node:assert/strict";
import {
  FetchError,
  fetchTorrent,
  FileFetcher,
  HttpFetcher,
  type MetainfoFetcher,
  MetainfoFetchers,
} from "../../src/fetch/mod.ts";
import { createTorrent } from "../../src/metainfo/mod.ts";

const { bytes: TORRENT, torrent: EXPECTED } = await createTorrent({
  name: "custom",
  data: new Uint8Array(100),
});

function memoryFetcher(name: string, prefix: string, calls: string[]): MetainfoFetcher {
  return {
    name,
    canFetch: (source) => source.startsWith(prefix),
    fetch: (source) => {
      calls.push(`${name}:${source}`);
      return Promise.resolve(TORRENT);
    },
  };
}

Deno.test("MetainfoFetchers consults custom fetchers in order, then the built-ins", async () => {
  const calls: string[] = [];
  const fetchers = new MetainfoFetchers()
    .register(memoryFetcher("first", "mem:", calls))
    .register(memoryFetcher("second", "mem:", calls))
    .register(memoryFetcher("web-cache", "http://cached/", calls));
  assert.deepEqual(fetchers.list().map((f) => f.name), [
    "first",
    "second",
    "web-cache",
    "http",
    "file",
  ]);
  assert.equal(fetchers.find("mem:a")?.name, "first");
  assert.equal(fetchers.find("http://cached/x")?.name, "web-cache");
  assert.equal(fetchers.find("http://other/x")?.name, "http");
  assert.equal(fetchers.find("./x.torrent")?.name, "file");
  const torrent = await fetchTorrent("mem:a", { fetchers });
  assert.equal(torrent.infoHashHex, EXPECTED.infoHashHex);
  assert.deepEqual(calls, ["first:mem:a"]);
});

Deno.test("MetainfoFetchers reports a source no fetcher handles", async () => {
  const fetchers = new MetainfoFetchers([new HttpFetcher()]);
  await assert.rejects(fetchers.fetch("magnet:?xt=urn:btih:00"), (error) => {
    assert.ok(error instanceof FetchError);
    assert.match(error.message, /no fetcher handles it \(tried http\)/);
    return true;
  });
  assert.equal(new MetainfoFetchers([new FileFetcher()]).find("magnet:?xt=x"), undefined);
});

Deno.test("fetchTorrent passes its signal and parse limits through", async () => {
  let seen: AbortSignal | undefined;
  const fetchers = new MetainfoFetchers([]).register({
    name: "spy",
    canFetch: () => true,
    fetch: (_source, signal) => {
      seen = signal;
      return Promise.resolve(TORRENT);
    },
  });
  const controller = new AbortController();
  await fetchTorrent("anything", { fetchers, signal: controller.signal });
  assert.equal(seen, controller.signal);
  await assert.rejects(fetchTorrent("anything", { fetchers, maxBytes: 10 }), /not a torrent/);
});
