import assert from "node:assert/strict";
import { scrape, scrapeUrlFor, TrackerError } from "../../src/tracker/mod.ts";
import { bencodeResponse, filled, serveLocal } from "./helpers.ts";

Deno.test("scrapeUrlFor follows the BEP 48 convention", () => {
  assert.equal(scrapeUrlFor("http://t.example/announce"), "http://t.example/scrape");
  assert.equal(
    scrapeUrlFor("http://t.example/x/announce.php?k=1"),
    "http://t.example/x/scrape.php?k=1",
  );
  assert.equal(scrapeUrlFor("https://t.example/announce?a=b"), "https://t.example/scrape?a=b");
  assert.equal(scrapeUrlFor("http://t.example/a"), undefined);
  assert.equal(scrapeUrlFor("http://t.example/announce/x"), undefined);
  assert.equal(scrapeUrlFor("http://t.example/x%064announce"), undefined);
  assert.equal(scrapeUrlFor("udp://t.example/announce"), undefined);
  assert.equal(scrapeUrlFor("::"), undefined);
});

Deno.test("scrape sends every info hash and reads counts", async () => {
  const server = await serveLocal(() =>
    bencodeResponse({
      files: new Map<Uint8Array, Record<string, number>>([
        [filled(1), { complete: 2, incomplete: 3, downloaded: 4 }],
        [filled(2), {}],
      ]),
    })
  );
  try {
    const counts = await scrape(server.url, [filled(1), filled(2)]);
    assert.equal(server.requests[0].pathname, "/scrape");
    assert.equal(
      server.requests[0].search,
      "?info_hash=" + "%01".repeat(20) + "&info_hash=" + "%02".repeat(20),
    );
    assert.deepEqual(counts.get("01".repeat(20)), { complete: 2, incomplete: 3, downloaded: 4 });
    assert.deepEqual(counts.get("02".repeat(20)), { complete: 0, incomplete: 0, downloaded: 0 });
  } finally {
    await server.close();
  }
});

Deno.test("scrape refuses URLs without the convention and malformed answers", async () => {
  await assert.rejects(
    scrape("http://127.0.0.1:1/tracker", [filled(1)]),
    (error) => error instanceof TrackerError && error.kind === "unsupported",
  );
  const bodies = [
    "d5:filesi1ee",
    "d5:filesd3:abcdeee",
    "d5:filesd20:" + "a".repeat(20) + "i1eee",
    "de",
  ];
  let index = 0;
  const server = await serveLocal(() => new Response(bodies[index++]));
  try {
    const patterns = [
      /files: expected a dictionary/,
      /exactly 20 bytes/,
      /expected a dictionary/,
      /files is missing/,
    ];
    for (const pattern of patterns) {
      await assert.rejects(
        scrape(server.url, [filled(1)]),
        (error) =>
          error instanceof TrackerError && error.kind === "bad-response" &&
          pattern.test(error.message),
      );
    }
  } finally {
    await server.close();
  }
});
