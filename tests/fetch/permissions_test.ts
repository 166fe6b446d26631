import assert from "node:assert/strict";

/**
 * Runs `code` in a child Deno with only `flags`, returning its stdout. The
 * fetchers must need no more than their own permission, so this is the only
 * honest way to test them: the test process itself has more.
 */
async function runWith(flags: string[], code: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("../..", import.meta.url).pathname,
  }).spawn();
  const writer = output.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const { stdout, stderr, code: exit } = await output.output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(exit, 0, new TextDecoder().decode(stderr));
  return text.trim();
}

const MODULE = new URL("../../src/fetch/mod.ts", import.meta.url).href;

Deno.test("FileFetcher without --allow-read fails with a PermissionError naming the flag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/x.torrent`, new Uint8Array(10));
    const code = `
      import { FileFetcher } from "${MODULE}";
      try {
        await new FileFetcher().fetch("${dir}/x.torrent", new AbortController().signal);
        console.log("read");
      } catch (error) {
        console.log(error.name + " " + error.flag);
      }`;
    assert.equal(await runWith([], code), `PermissionError --allow-read=${dir}/x.torrent`);
    assert.equal(await runWith([`--allow-read=${dir}/x.torrent`], code), "read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HttpFetcher without --allow-net fails with a PermissionError naming the flag", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("x"),
  );
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    const code = `
      import { HttpFetcher } from "${MODULE}";
      try {
        const bytes = await new HttpFetcher().fetch("http://${host}/", new AbortController().signal);
        console.log("fetched " + bytes.length);
      } catch (error) {
        console.log(error.name + " " + error.flag);
      }`;
    assert.equal(await runWith([], code), `PermissionError --allow-net=${host}`);
    // Network only: no read permission is needed.
    assert.equal(await runWith([`--allow-net=${host}`], code), "fetched 1");
  } finally {
    await server.shutdown();
  }
});
