/**
 * The README's runnable examples are the files in examples/ (a change to one fails here
 * until the other matches), and each runs to completion against a local swarm.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, MemoryStorage, type PeerSource, Runtime } from "../../mod.ts";
import { lookup } from "../../examples/peer_source.ts";
import {
  RUN_TIMEOUT_MS,
  runDeno,
  sameBytes,
  startLocalSwarm,
  withTimeout,
} from "../cli/helpers.ts";
import { payload, seededMemory } from "../session/helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const CONFIG = join(ROOT, "deno.json");
const EXAMPLES = ["custom_storage.ts", "peer_source.ts"];

/** The ```ts blocks of the README, in order. */
async function readmeBlocks(): Promise<string[]> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

/** Runs an example in a child Deno; bounded by {@linkcode RUN_TIMEOUT_MS}. */
function runExample(permissions: string[], name: string, args: string[]) {
  return runDeno([
    "run",
    "--config",
    CONFIG,
    "--no-prompt",
    ...permissions,
    join(ROOT, "examples", name),
    ...args,
  ]);
}

/** A lookup service on 127.0.0.1 answering every `/peers/<hash>` with `peers`. */
async function lookupService(peers: { host: string; port: number }[]) {
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => listening.resolve() },
    (request) =>
      new URL(request.url).pathname.startsWith("/peers/")
        ? Response.json(peers)
        : new Response("not found", { status: 404 }),
  );
  await listening.promise;
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("README: the custom storage and peer source examples are examples/ files, word for word", async () => {
  const blocks = await readmeBlocks();
  for (const name of EXAMPLES) {
    const file = await Deno.readTextFile(join(ROOT, "examples", name));
    assert.ok(file.includes(`examples/${name}`), `${name} says how to run it`);
    assert.ok(
      blocks.includes(file),
      `README.md has no code block equal to examples/${name}; copy the file into the README`,
    );
  }
  // And no README block claims to be an example file it no longer matches.
  for (const block of blocks) {
    const named = block.match(/^\/\/ Run: .* examples\/(\w+\.ts)/)?.[1];
    if (named) assert.equal(block, await Deno.readTextFile(join(ROOT, "examples", named)));
  }
});

Deno.test("example custom_storage: downloads from a local swarm, prints its write count and exits", async () => {
  await using swarm = await startLocalSwarm();
  const result = await runExample(
    [`--allow-read=${swarm.torrentPath}`, "--allow-net=127.0.0.1"],
    "custom_storage.ts",
    [swarm.torrentPath],
  );
  assert.equal(result.code, 0, result.stderr);
  const blocks = swarm.payload.data.length / (16 * 1024);
  assert.ok(Number(result.stdout.trim()) >= blocks, `at least ${blocks} writes: ${result.stdout}`);
});

Deno.test("example peer_source: its peers reach the session, and closing ends its wait at once", async () => {
  const data = payload(100_000, 21);
  const { torrent } = await createTorrent({ name: "looked-up.bin", data }, { pieceLength: 16384 });
  const listen = { hostname: "127.0.0.1", port: 0 };
  const seeder = new Runtime({ listen });
  const leecher = new Runtime({ listen: false });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const service = await lookupService([{ host: "127.0.0.1", port: seeder.port! }]);
    try {
      const source = lookup(service.url);
      let finished = false;
      const watched: PeerSource = {
        name: source.name,
        async *peers(context, signal) {
          try {
            yield* source.peers(context, signal);
          } finally {
            finished = true;
          }
        },
      };
      const session = await leecher.add(torrent, {
        storage: new MemoryStorage(),
        peerSources: [watched],
        seed: false,
      });
      await withTimeout(session.completed, RUN_TIMEOUT_MS, () => "download through lookup");
      // The source now waits out its 30 s timer. Stopping must end that wait: the runtime gives
      // up on a source that does not finish (after a bound) and its timer keeps the process up.
      await withTimeout(leecher.close(), RUN_TIMEOUT_MS, () => "leecher close");
      assert.ok(finished, "the peer source finished when the runtime closed");
    } finally {
      await service.close();
    }
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});

Deno.test("example peer_source: run as a program against a local seeder, it downloads and exits", async () => {
  await using swarm = await startLocalSwarm();
  const service = await lookupService([{ host: "127.0.0.1", port: swarm.seederPort }]);
  try {
    const out = join(swarm.dir, "dl");
    const result = await runExample(
      [`--allow-read=${swarm.torrentPath}`, `--allow-write=${out}`, "--allow-net=127.0.0.1"],
      "peer_source.ts",
      [swarm.torrentPath, service.url, out],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `downloaded payload.bin into ${out}\n`);
    assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
  } finally {
    await service.close();
  }
});
