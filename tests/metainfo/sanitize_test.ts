import assert from "node:assert/strict";
import {
  FALLBACK_SEGMENT,
  sanitizeFilePaths,
  sanitizePath,
  sanitizePathSegment,
} from "../../src/metainfo/mod.ts";

Deno.test("sanitizePathSegment drops . and .. and empty segments", () => {
  assert.equal(sanitizePathSegment("."), "");
  assert.equal(sanitizePathSegment(".."), "");
  assert.equal(sanitizePathSegment(""), "");
  assert.equal(sanitizePathSegment("..."), "");
  assert.deepEqual(sanitizePath(["..", "..", "etc", "", ".", "passwd"]), ["etc", "passwd"]);
});

Deno.test("sanitizePathSegment replaces separators, NUL and control characters", () => {
  assert.equal(sanitizePathSegment("a/b"), "a_b");
  assert.equal(sanitizePathSegment("a\\b"), "a_b");
  assert.equal(sanitizePathSegment("/etc/passwd"), "_etc_passwd");
  assert.equal(sanitizePathSegment("..\\..\\x"), ".._.._x");
  assert.equal(sanitizePathSegment("a\u0000b"), "a_b");
  assert.equal(sanitizePathSegment("tab\there\nnl\u007f"), "tab_here_nl_");
  assert.equal(sanitizePathSegment('a<b>c:d"e|f?g*h'), "a_b_c_d_e_f_g_h");
});

Deno.test("sanitizePathSegment strips Windows drive letters", () => {
  assert.equal(sanitizePathSegment("C:"), "");
  assert.equal(sanitizePathSegment("C:evil"), "evil");
  assert.equal(sanitizePathSegment("c:\\windows"), "_windows");
  assert.deepEqual(sanitizePath(["C:", "Windows", "system32"]), ["Windows", "system32"]);
});

Deno.test("sanitizePathSegment renames Windows reserved names", () => {
  for (const name of ["CON", "con", "PRN", "AUX", "NUL", "COM1", "com9", "LPT1", "lpt3"]) {
    assert.equal(sanitizePathSegment(name), `_${name}`);
  }
  assert.equal(sanitizePathSegment("nul.txt"), "_nul.txt");
  assert.equal(sanitizePathSegment("CON.tar.gz"), "_CON.tar.gz");
  assert.equal(sanitizePathSegment("console"), "console");
  assert.equal(sanitizePathSegment("COM10"), "COM10");
});

Deno.test("sanitizePathSegment trims trailing dots and spaces", () => {
  assert.equal(sanitizePathSegment("name. . "), "name");
  assert.equal(sanitizePathSegment("  lead"), "  lead");
  assert.equal(sanitizePathSegment("CON."), "_CON");
});

Deno.test("sanitizePathSegment caps length on a character boundary, keeping the extension", () => {
  const long = "é".repeat(200) + ".mkv"; // 404 UTF-8 bytes
  const cut = sanitizePathSegment(long);
  assert.ok(new TextEncoder().encode(cut).length <= 240);
  assert.ok(cut.endsWith(".mkv"));
  assert.ok(!cut.includes("\ufffd"));
  assert.equal(sanitizePathSegment("x".repeat(50), { maxSegmentBytes: 10 }), "x".repeat(10));
  const longExtension = "a." + "b".repeat(300);
  assert.equal(sanitizePathSegment(longExtension).length, 240);
});

Deno.test("sanitizePathSegment keeps ordinary and non-ASCII names", () => {
  for (const name of ["file.txt", "Ünïcödé 名前.mp3", ".hidden", "a..b", "space inside"]) {
    assert.equal(sanitizePathSegment(name), name);
  }
});

Deno.test("sanitizePath falls back when nothing is left", () => {
  assert.deepEqual(sanitizePath([]), [FALLBACK_SEGMENT]);
  assert.deepEqual(sanitizePath(["..", ".", ""]), [FALLBACK_SEGMENT]);
});

Deno.test("sanitizeFilePaths de-duplicates collisions, case-insensitively", () => {
  assert.deepEqual(
    sanitizeFilePaths([["a.txt"], ["a.txt"], ["A.TXT"], ["a.1.txt"]]),
    [["a.txt"], ["a.1.txt"], ["A.2.TXT"], ["a.1.1.txt"]],
  );
  // Collisions created by sanitising: "../x" and "x" are the same file.
  assert.deepEqual(sanitizeFilePaths([["..", "x"], ["x"]]), [["x"], ["x.1"]]);
  assert.deepEqual(sanitizeFilePaths([["a/b"], ["a_b"]]), [["a_b"], ["a_b.1"]]);
});

Deno.test("sanitizeFilePaths separates files from directories of the same name", () => {
  // A file where a later path needs a directory: the directory is renamed, consistently.
  assert.deepEqual(
    sanitizeFilePaths([["x"], ["x", "y"], ["x", "z"]]),
    [["x"], ["x.1", "y"], ["x.1", "z"]],
  );
  // A directory where a later file wants its name: the file is renamed.
  assert.deepEqual(sanitizeFilePaths([["d", "f"], ["d"]]), [["d", "f"], ["d.1"]]);
});

Deno.test("no sanitised path can leave the download directory", async () => {
  const hostile = [
    ["..", "..", "..", "etc", "passwd"],
    ["/etc/passwd"],
    ["\\\\server\\share"],
    ["C:\\Windows\\win.ini"],
    ["a", "..", "..", "b"],
    ["\u0000"],
    [".", ""],
  ];
  const root = await Deno.makeTempDir();
  try {
    for (const path of sanitizeFilePaths(hostile)) {
      const joined = `${root}/${path.join("/")}`;
      const normalised = new URL(`file://${joined}`).pathname;
      assert.ok(normalised.startsWith(`${root}/`), `${joined} leaves ${root}`);
      for (const segment of path) {
        assert.ok(segment !== "" && segment !== "." && segment !== "..");
        assert.ok(!segment.includes("/") && !segment.includes("\\") && !segment.includes("\0"));
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
