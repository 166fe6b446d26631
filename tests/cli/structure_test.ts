/** The CLI is a user of the library like any other: public surface only, and no import cycles. */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;
const PUBLIC = new Set(["mod.ts", "src/testing/mod.ts"]);

/**
 * Relative imports of a TypeScript file's source: static (`import`/`export ... from`) and
 * literal dynamic ones (`import("./cli/download.ts")`, as cli.ts loads its commands).
 */
function relativeImports(source: string): string[] {
  const statics = [...source.matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)];
  const dynamics = [...source.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)];
  return [...statics, ...dynamics].map((match) => match[1]);
}

/** `import(` calls whose argument is not a string literal: the checks here could not see them. */
function computedImports(source: string): string[] {
  return [...source.matchAll(/\bimport\(\s*([^)]*)\)/g)]
    .map((match) => match[1].trim())
    .filter((argument) => !/^"[^"]+"$/.test(argument));
}

/** Each CLI module (cli.ts and cli/*.ts) with its relative imports, as paths from the root. */
async function cliModules(): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  const files = ["cli.ts"];
  for await (const entry of Deno.readDir(join(ROOT, "cli"))) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(`cli/${entry.name}`);
  }
  for (const file of files) {
    const source = await Deno.readTextFile(join(ROOT, file));
    const base = new URL(file, `file://${ROOT}`);
    modules.set(
      file,
      relativeImports(source).map((specifier) =>
        new URL(specifier, base).pathname.slice(ROOT.length)
      ),
    );
  }
  return modules;
}

Deno.test("cli/ imports only the public surface (mod.ts, src/testing/mod.ts) and its own modules", async () => {
  const modules = await cliModules();
  assert.ok(modules.size > 5, "found the CLI modules");
  for (const [file, imports] of modules) {
    for (const target of imports) {
      assert.ok(
        PUBLIC.has(target) || target.startsWith("cli/"),
        `${file} imports ${target}, not the public surface`,
      );
    }
  }
});

Deno.test("cli/ modules import each other without cycles", async () => {
  const modules = await cliModules();
  const state = new Map<string, "visiting" | "done">();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    assert.notEqual(state.get(file), "visiting", `import cycle: ${[...path, file].join(" -> ")}`);
    state.set(file, "visiting");
    for (const target of modules.get(file) ?? []) {
      if (modules.has(target)) visit(target, [...path, file]);
    }
    state.set(file, "done");
  };
  for (const file of modules.keys()) visit(file, []);
});

Deno.test("cli/ loads modules only by literal specifiers, and every module is reachable from cli.ts", async () => {
  const modules = await cliModules();
  for (const file of modules.keys()) {
    const source = await Deno.readTextFile(join(ROOT, file));
    assert.deepEqual(computedImports(source), [], `${file} imports a computed specifier`);
  }
  // cli.ts loads its commands with import("./cli/<command>.ts"): each must be found.
  const reached = new Set<string>(["cli.ts"]);
  const pending = ["cli.ts"];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const target of modules.get(file) ?? []) {
      if (modules.has(target) && !reached.has(target)) {
        reached.add(target);
        pending.push(target);
      }
    }
  }
  assert.deepEqual([...modules.keys()].filter((file) => !reached.has(file)), []);
  assert.ok(modules.get("cli.ts")?.includes("cli/download.ts"), "cli.ts loads cli/download.ts");
});
