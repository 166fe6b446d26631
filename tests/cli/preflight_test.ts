/** Checks the session commands make before anything is announced, and their one-line messages. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, FileSystemStorage } from "../../mod.ts";
import { runCli, STACK_LINE, startLocalSwarm } from "./helpers.ts";

Deno.test("download and seed on a port in use name the address and --port, exit 1", async () => {
  await using swarm = await startLocalSwarm();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const out = join(swarm.dir, "dl");
  const runs = [
    await runCli(
      ["--allow-net=127.0.0.1", `--allow-write=${out}`],
      ["download", swarm.torrentUrl, "--out", out, "--bind", "127.0.0.1", "--port", `${port}`],
    ),
    await runCli(
      ["--allow-net=127.0.0.1", `--allow-read=${swarm.seedDir},${swarm.torrentPath}`],
      [
        "seed",
        swarm.torrentPath,
        "--data",
        swarm.seedDir,
        "--bind",
        "127.0.0.1",
        "--port",
        `${port}`,
      ],
    ),
  ];
  for (const [i, result] of runs.entries()) {
    const command = i === 0 ? "download" : "seed";
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^bittern ${command}: cannot listen on 127\\.0\\.0\\.1:${port}: .*--port`),
    );
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});

Deno.test("download to a directory it cannot write fails before contacting the tracker, naming it", async () => {
  // No seeder: the CLI is the only one who could announce.
  await using swarm = await startLocalSwarm({ seeder: false });
  // A regular file where the download directory should be: no directory can be made there.
  const out = join(swarm.dir, "not-a-dir");
  await Deno.writeTextFile(out, "a file");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`, `--allow-read=${out}`],
    ["download", swarm.torrentUrl, "--out", out, "--bind", "127.0.0.1", "--port", "0"],
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`^bittern download: cannot write to ${out}: `));
  assert.doesNotMatch(result.stderr, STACK_LINE);
  assert.equal(swarm.tracker.announceCount, 0, "nothing was announced");
});

Deno.test("download --peer on a private torrent prints a one-line notice and uses that peer", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const { bytes, torrent } = await createTorrent(join(swarm.seedDir, swarm.payload.name), {
    pieceLength: swarm.payload.pieceLength,
    private: true,
  });
  const torrentPath = join(swarm.dir, "private.torrent");
  await Deno.writeFile(torrentPath, bytes);
  await swarm.seeder.add(torrent, { storage: new FileSystemStorage(swarm.seedDir) });
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-read=${torrentPath}`, `--allow-write=${out}`],
    [
      "download",
      torrentPath,
      "--out",
      out,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--peer",
      `127.0.0.1:${swarm.seeder.port}`,
    ],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stderr,
    "notice: private torrent: connecting only to its trackers and the --peer addresses given " +
      "(no PEX or other sources)\n",
  );
});
