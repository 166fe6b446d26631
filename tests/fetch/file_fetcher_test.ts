import assert from "node:assert/strict";
import { FetchError, fetchTorrent, FileFetcher } from "../../src/fetch/mod.ts";
import { createTorrent } from "../../src/metainfo/mod.ts";

const signal = () => new AbortController().signal;

async function withTorrentFile(run: (dir: string, path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const { bytes } = await createTorrent({ name: "név", data: new Uint8Array(1000).fill(1) });
    await Deno.writeFile(`${dir}/x.torrent`, bytes);
    await run(dir, `${dir}/x.torrent`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileFetcher reads paths and file: URLs", async () => {
  await withTorrentFile(async (dir, path) => {
    const fetcher = new FileFetcher();
    assert.ok(fetcher.canFetch(path));
    assert.ok(fetcher.canFetch("relative/x.torrent"));
    assert.ok(fetcher.canFetch("C:\\torrents\\x.torrent"));
    assert.ok(fetcher.canFetch("file:///tmp/x.torrent"));
    assert.ok(!fetcher.canFetch("http://example.org/x.torrent"));
    const expected = await Deno.readFile(path);
    assert.deepEqual(await fetcher.fetch(path, signal()), expected);
    // Spaces and non-ASCII are percent-encoded in URLs.
    await Deno.writeFile(`${dir}/a b é.torrent`, expected);
    const url = new URL(`file://${dir}/a b é.torrent`).href;
    assert.deepEqual(await fetcher.fetch(url, signal()), expected);
    assert.equal((await fetchTorrent(url)).name, "név");
  });
});

Deno.test("FileFetcher reports missing files, directories and oversized files", async () => {
  await withTorrentFile(async (dir, path) => {
    const fetcher = new FileFetcher({ maxBytes: 50 });
    await assert.rejects(fetcher.fetch(`${dir}/missing`, signal()), FetchError);
    await assert.rejects(fetcher.fetch(dir, signal()), /not a regular file/);
    await assert.rejects(fetcher.fetch(path, signal()), /larger than 50 bytes/);
  });
});

Deno.test("fetchTorrent says when a file is not a torrent", async () => {
  await withTorrentFile(async (dir) => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    await assert.rejects(fetchTorrent(`${dir}/notes.txt`), (error) => {
      assert.ok(error instanceof FetchError);
      assert.match(error.message, /notes\.txt: not a torrent/);
      return true;
    });
  });
});

Deno.test("FileFetcher honours an aborted signal", async () => {
  await withTorrentFile(async (_dir, path) => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(new FileFetcher().fetch(path, controller.signal), /stop/);
  });
});
