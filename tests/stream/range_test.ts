import assert from "node:assert/strict";
import { contentTypeFor, parseRange } from "../../mod.ts";

Deno.test("parseRange: first-last, open-ended and suffix ranges", () => {
  assert.deepEqual(parseRange("bytes=0-0", 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange("bytes=2-5", 10), { start: 2, end: 5 });
  assert.deepEqual(parseRange("bytes=2-", 10), { start: 2, end: 9 });
  assert.deepEqual(parseRange("bytes=-3", 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange("BYTES = 4 - 6", 10), { start: 4, end: 6 });
});

Deno.test("parseRange: an end past the last byte is clamped; a suffix longer than the file is all of it", () => {
  assert.deepEqual(parseRange("bytes=5-999", 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange("bytes=-999", 10), { start: 0, end: 9 });
});

Deno.test("parseRange: ranges starting past the end are unsatisfiable (416)", () => {
  assert.equal(parseRange("bytes=10-", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=10-20", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-5", 0), "unsatisfiable");
});

Deno.test("parseRange: no header, other units, several or malformed ranges mean the whole file", () => {
  for (
    const header of [
      null,
      undefined,
      "",
      "items=0-1",
      "bytes=0-1,4-5",
      "bytes=5-2",
      "bytes=-",
      "bytes=a-b",
      "bytes=1.5-3",
      "bytes=99999999999999999999-",
    ]
  ) {
    assert.equal(parseRange(header, 10), undefined, String(header));
  }
});

Deno.test("contentTypeFor: the extension decides, case-insensitively; unknown is octet-stream", () => {
  assert.equal(contentTypeFor("a.mp4"), "video/mp4");
  assert.equal(contentTypeFor("Film.MKV"), "video/x-matroska");
  assert.equal(contentTypeFor("song.flac"), "audio/flac");
  assert.equal(contentTypeFor("notes.txt"), "text/plain; charset=utf-8");
  assert.equal(contentTypeFor("dir.mp4/readme"), "application/octet-stream");
  assert.equal(contentTypeFor("noext"), "application/octet-stream");
  assert.equal(contentTypeFor("x.unknown"), "application/octet-stream");
});
