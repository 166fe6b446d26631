import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("no file in the repository points outside it (a machine's paths, a sibling shared folder)", async () => {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-co", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(listed.code, 0, new TextDecoder().decode(listed.stderr));
  const files = new TextDecoder().decode(listed.stdout).split("\n").filter((file) =>
    /\.(md|ts|py|json|sh)$/.test(file)
  );
  assert.ok(files.length > 50, "listed the repository's files");
  // Built from parts so this file does not match itself.
  const outside = new RegExp(["/wo", "rk/|\\.\\./sha", "red\\b"].join(""));
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}${file}`).catch(() => "");
    const line = text.split("\n").findIndex((line) => outside.test(line));
    assert.equal(line, -1, `${file}:${line + 1} points outside the repository`);
  }
});
