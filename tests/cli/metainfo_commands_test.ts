import assert from "node:assert/strict";
import { join } from "node:path";
import { CliProcess, runCli, STACK_LINE, startLocalSwarm } from "./helpers.ts";

Deno.test("create, info --json and verify round-trip with narrowed permissions and documented exit codes", async () => {
  await using swarm = await startLocalSwarm({ size: 3 * 40_000, files: 3, seeder: false });
  const source = join(swarm.seedDir, swarm.payload.name);
  const out = join(swarm.dir, "made.torrent");

  const created = await runCli(
    [`--allow-read=${source}`, `--allow-write=${out}`],
    // v1, as the swarm's torrent (made by the library, whose default is v1).
    [
      "create",
      source,
      "-o",
      out,
      "-a",
      swarm.tracker.url,
      "--piece-length",
      "16K",
      "--format",
      "v1",
    ],
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, new RegExp(`^info hash: ${swarm.torrent.infoHashHex}$`, "m"));

  const info = await runCli([`--allow-read=${out}`], ["info", out, "--json"]);
  assert.equal(info.code, 0, info.stderr);
  const described = JSON.parse(info.stdout);
  assert.equal(described.infoHash, swarm.torrent.infoHashHex);
  assert.deepEqual(described.announce, [[swarm.tracker.url]]);
  assert.equal(described.files.length, 3);

  // The same torrent over http needs only the network.
  const remote = await runCli(["--allow-net=127.0.0.1"], ["info", swarm.torrentUrl, "--json"]);
  assert.equal(remote.code, 0, remote.stderr);
  assert.equal(JSON.parse(remote.stdout).infoHash, swarm.torrent.infoHashHex);

  const verifyArgs = ["verify", out, "--data", swarm.seedDir, "--json"];
  const readOnly = [`--allow-read=${swarm.seedDir},${out}`];
  const complete = await runCli(readOnly, verifyArgs);
  assert.equal(complete.code, 0, complete.stderr);
  assert.equal(JSON.parse(complete.stdout).complete, true);

  const corrupt = await Deno.readFile(join(source, "file-2.bin"));
  corrupt[30_000] ^= 0xff; // in piece 6, which holds only file 2
  await Deno.writeFile(join(source, "file-2.bin"), corrupt);
  const incomplete = await runCli(readOnly, verifyArgs);
  assert.equal(incomplete.code, 3, incomplete.stderr);
  const report = JSON.parse(incomplete.stdout);
  assert.equal(report.complete, false);
  assert.deepEqual(report.files.map((file: { complete: boolean }) => file.complete), [
    true,
    true,
    false,
  ]);
});

Deno.test("create, info and verify name the missing permission flag: exit 1, no stack trace", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const source = join(swarm.seedDir, swarm.payload.name);
  const out = join(swarm.dir, "made.torrent");
  const cases: { permissions: string[]; args: string[]; flag: string }[] = [
    {
      permissions: [`--allow-write=${out}`],
      args: ["create", source, "-o", out],
      flag: "--allow-read=",
    },
    {
      permissions: [`--allow-read=${source}`],
      args: ["create", source, "-o", out],
      flag: `--allow-write=${out}`,
    },
    {
      permissions: [],
      args: ["info", swarm.torrentPath],
      flag: `--allow-read=${swarm.torrentPath}`,
    },
    { permissions: [], args: ["info", swarm.torrentUrl], flag: "--allow-net=127.0.0.1:" },
    {
      permissions: [`--allow-read=${swarm.torrentPath}`],
      args: ["verify", swarm.torrentPath, "--data", swarm.seedDir],
      flag: "--allow-read=",
    },
  ];
  for (const { permissions, args, flag } of cases) {
    const result = await runCli(permissions, args);
    const what = `${args[0]} with ${permissions.join(" ") || "no permissions"}`;
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    assert.ok(result.stderr.startsWith(`bittern ${args[0]}: `), result.stderr);
    assert.ok(result.stderr.includes(flag), `${what}: expected ${flag} in ${result.stderr}`);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});

Deno.test("tracker runs with only --allow-net for its address and stops on Ctrl-C with exit 0", async () => {
  await using tracker = new CliProcess(
    ["--allow-net=127.0.0.1"],
    ["tracker", "--bind", "127.0.0.1", "--port", "0", "--interval", "60"],
  );
  const listening = await tracker.waitForLine((line) => line.startsWith("Tracker listening: "));
  const url = listening.slice("Tracker listening: ".length);
  const response = await fetch(url.replace("/announce", "/scrape"));
  assert.equal(response.status, 200);
  await response.body?.cancel();
  tracker.kill("SIGINT");
  const { code } = await tracker.exit();
  assert.equal(code, 0);

  const denied = await runCli([], ["tracker", "--port", "0"]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /needs --allow-net=127\.0\.0\.1:0/);
  assert.doesNotMatch(denied.stderr, STACK_LINE);
});
