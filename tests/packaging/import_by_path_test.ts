import assert from "node:assert/strict";
import { join } from "node:path";
import { runDeno } from "../cli/helpers.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("mod.ts imported by path from a project without our deno.json resolves every import", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bittern-import-" });
  try {
    // Another project: its own (empty) config, importing the library by URL.
    await Deno.writeTextFile(join(dir, "deno.json"), "{}\n");
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `import { decode, loadSchema, toHex, validate } from ${JSON.stringify(MOD)};\n` +
        `const schema = loadSchema<{ a: number }>(
          "root: R\\ntypes:\\n  R:\\n    type: dictionary\\n    entries:\\n      a: { type: integer }\\n",
        );\n` +
        `console.log(validate(schema, decode(new TextEncoder().encode("d1:ai7ee"))).a);\n` +
        `console.log(toHex(new Uint8Array([0, 171])));\n`,
    );
    const result = await runDeno(["run", "--no-lock", "--allow-read", "main.ts"], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "7\n00ab\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the root import map holds no bench-only packages, and deno.lock matches the config", async () => {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const mapped = Object.values(config.imports ?? {}).map(String);
  for (const bench of ["bencode", "parse-torrent"]) {
    assert.ok(!mapped.some((spec) => spec.includes(bench)), `${bench} is in deno.json imports`);
  }
  // --frozen fails when the lock file would have to change.
  const dir = new URL("../..", import.meta.url).pathname;
  const result = await runDeno(["check", "--frozen", "mod.ts", "cli.ts", "bench/main.ts"], dir);
  assert.equal(result.code, 0, result.stderr);
});
