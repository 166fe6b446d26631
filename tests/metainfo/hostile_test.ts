import assert from "node:assert/strict";
import { createTorrent, parseTorrent, TorrentError } from "../../src/metainfo/mod.ts";
import { seededRandom } from "../session/helpers.ts";

const { bytes: VALID } = await createTorrent({
  name: "dir",
  files: [
    { path: ["a", "b.txt"], data: new Uint8Array(20_000) },
    { path: ["c"], data: new Uint8Array(5) },
  ],
}, { announce: [["http://a/"], ["http://b/"]], comment: "c", createdBy: "x" });

Deno.test("mutated torrents either parse safely or throw TorrentError, nothing else", () => {
  const next = seededRandom(42);
  let parsed = 0;
  // Bounded: a fixed number of mutations.
  for (let round = 0; round < 3000; round++) {
    const bytes = VALID.slice();
    const edits = 1 + Math.floor(next() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * bytes.length);
      const choice = next();
      if (choice < 0.5) bytes[at] = Math.floor(next() * 256);
      else if (choice < 0.75) bytes[at] = "0123456789:eild-"[Math.floor(next() * 16)].charCodeAt(0);
      else bytes[at] = 0x2e; // "."
    }
    const cut = next() < 0.1 ? Math.floor(next() * bytes.length) : bytes.length;
    try {
      const torrent = parseTorrent(bytes.subarray(0, cut));
      parsed++;
      for (const file of torrent.files) {
        for (const segment of file.path) {
          assert.ok(segment !== "" && segment !== "." && segment !== "..", segment);
          assert.ok(!/[/\\]/.test(segment), segment);
        }
      }
    } catch (error) {
      assert.ok(error instanceof TorrentError, `round ${round}: ${error}`);
    }
  }
  assert.ok(parsed > 0);
});

Deno.test("every prefix of a torrent is rejected with TorrentError", () => {
  for (let end = 0; end < VALID.length; end++) {
    assert.throws(() => parseTorrent(VALID.subarray(0, end)), TorrentError);
  }
});
