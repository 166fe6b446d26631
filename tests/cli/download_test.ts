import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, MemoryStorage, Runtime } from "../../mod.ts";
import {
  CliProcess,
  RUN_TIMEOUT_MS,
  runCli,
  sameBytes,
  STACK_LINE,
  startLocalSwarm,
  withTimeout,
} from "./helpers.ts";

/** Arguments that keep the download on loopback with a free port. */
const LOOPBACK = ["--bind", "127.0.0.1", "--port", "0"];

Deno.test("download from a URL needs only --allow-net and --allow-write=DIR; resuming adds --allow-read=DIR", async () => {
  await using swarm = await startLocalSwarm();
  const out = join(swarm.dir, "dl");
  const permissions = ["--allow-net=127.0.0.1", `--allow-write=${out}`];
  const args = ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK];

  const fresh = await runCli(permissions, args);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));

  const again = await runCli(permissions, args);
  assert.equal(again.code, 1, again.stdout);
  assert.ok(again.stderr.includes(`--allow-read=${out}`), again.stderr);
  assert.doesNotMatch(again.stderr, STACK_LINE);

  const resumed = await runCli([...permissions, `--allow-read=${out}`], [...args, "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = resumed.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const started = events.find((event) => event.event === "started");
  assert.equal(started.verifiedPieces, swarm.torrent.pieceCount, "existing data was reused");
  const completed = events.find((event) => event.event === "completed");
  assert.equal(completed.downloaded, 0, "nothing downloaded again");
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
});

Deno.test("download without a needed permission names the flag to add, exit 1, no stack trace", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = join(swarm.dir, "dl");
  const port = new URL(swarm.torrentUrl).port;
  const cases = [
    {
      permissions: ["--allow-net=127.0.0.1"],
      flag: `--allow-write=${out}`,
      torrent: swarm.torrentUrl,
    },
    {
      permissions: [`--allow-write=${out}`],
      flag: `--allow-net=127.0.0.1:${port}`,
      torrent: swarm.torrentUrl,
    },
    {
      permissions: ["--allow-net=127.0.0.1", `--allow-write=${out}`],
      flag: `--allow-read=${swarm.torrentPath}`,
      torrent: swarm.torrentPath,
    },
  ];
  for (const { permissions, flag, torrent } of cases) {
    const result = await runCli(permissions, ["download", torrent, "--out", out, ...LOOPBACK]);
    assert.equal(result.code, 1, `${permissions}: ${result.stderr}`);
    assert.match(result.stderr, /^bittern download: /);
    assert.ok(result.stderr.includes(flag), `expected ${flag} in: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
  // Nothing was written without the permission to write.
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("download --json writes one JSON event per line with the documented fields", async () => {
  await using swarm = await startLocalSwarm();
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--json"],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trim().split("\n");
  const events = lines.map((line) => JSON.parse(line));
  for (const event of events) {
    assert.equal(typeof event.event, "string");
    assert.ok(!Number.isNaN(Date.parse(event.time)), `time of ${JSON.stringify(event)}`);
  }
  assert.deepEqual(events[0], {
    event: "started",
    time: events[0].time,
    infoHash: swarm.torrent.infoHashHex,
    name: "payload.bin",
    verifiedPieces: 0,
  });
  const kinds = new Set(events.map((event) => event.event));
  for (const kind of kinds) {
    assert.ok(
      [
        "started",
        "peer",
        "progress",
        "piece-verified",
        "piece-failed",
        "tracker",
        "completed",
        "warning",
        "stopped",
      ].includes(kind),
      `undocumented event ${kind}`,
    );
  }
  // Of the pieces, only the first is written (time to first piece).
  assert.equal(events.filter((event) => event.event === "piece-verified").length, 1);
  const tracker = events.find((event) => event.event === "tracker");
  assert.equal(tracker.url, swarm.tracker.url);
  assert.equal(tracker.action, "started");
  // The stream goes on through the runtime's close: the tracker heard completed, then
  // stopped, and the last line is the session's `stopped`.
  const actions = events.filter((event) => event.event === "tracker" && event.action !== "announce")
    .map((event) => event.action);
  assert.deepEqual(actions, ["started", "completed", "stopped"]);
  assert.deepEqual(events.at(-1), {
    event: "stopped",
    time: events.at(-1).time,
    reason: "completed",
  });
  const peer = events.find((event) => event.event === "peer");
  assert.equal(peer.action, "connected");
  assert.match(peer.address, /^127\.0\.0\.1:\d+$/);
  const completed = events.find((event) => event.event === "completed");
  for (
    const field of [
      "verifiedBytes",
      "wantedBytes",
      "verifiedPieces",
      "pieceCount",
      "downloaded",
      "uploaded",
      "downloadRate",
      "uploadRate",
      "peers",
      "progress",
    ]
  ) {
    assert.equal(typeof completed[field], "number", `completed.${field}`);
  }
  assert.equal(completed.progress, 1);
  assert.equal(completed.wantedBytes, swarm.payload.data.length);
});

Deno.test("download to a pipe prints log lines and a final summary", async () => {
  await using swarm = await startLocalSwarm({ size: 1 << 20, pieceLength: 32 * 1024 });
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--selector", "sequential"],
  );
  assert.equal(result.code, 0, result.stderr);
  // No terminal: no carriage returns or escape sequences, whole lines only.
  assert.ok(!result.stdout.includes("\r") && !result.stdout.includes("\x1b"), result.stdout);
  assert.match(result.stdout, /^tracker http:\/\/127\.0\.0\.1:\d+\/announce: started, 1 peers$/m);
  assert.match(result.stdout, /^downloaded payload\.bin: 1\.00 MiB in \d+s \(.+\/s\)$/m);
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
});

Deno.test("download --files 1 completes file 1 and creates no file sharing no piece with it", async () => {
  // Four files of 66,560 bytes over 16 KiB pieces: file 1 shares a piece with files 0 and 2
  // (they may be created for those edge pieces) but none with file 3.
  await using swarm = await startLocalSwarm({ size: 4 * 66_560, files: 4 });
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`, `--allow-read=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--files", "1", "--json"],
  );
  assert.equal(result.code, 0, result.stderr);
  const completed = result.stdout.trim().split("\n").map((line) => JSON.parse(line)).find((
    event,
  ) => event.event === "completed");
  assert.ok(completed.wantedBytes < swarm.payload.data.length, "only some pieces were wanted");
  const root = join(out, swarm.payload.name);
  const file1 = swarm.payload.files[1];
  assert.ok(sameBytes(await Deno.readFile(join(root, ...file1.path)), file1.data));
  await assert.rejects(Deno.stat(join(root, ...swarm.payload.files[3].path)), Deno.errors.NotFound);

  const outOfRange = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--files", "4"],
  );
  assert.equal(outOfRange.code, 2);
  assert.match(outOfRange.stderr, /--files: the torrent has 4 files \(0\.\.3;/);
});

Deno.test("a fresh multi-file download with --files needs only --allow-write=DIR", async () => {
  // Files 0 and 1 share piece 4, so both are first opened at about the same time in the
  // new directory: creating it must not count as "existing data".
  await using swarm = await startLocalSwarm({ size: 4 * 66_560, files: 4 });
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--files", "1"],
  );
  assert.equal(result.code, 0, result.stderr);
  const file1 = swarm.payload.files[1];
  const written = await Deno.readFile(join(out, swarm.payload.name, ...file1.path));
  assert.ok(sameBytes(written, file1.data));
});

Deno.test("download --json reports a failure as an error event too, exit 1", async () => {
  await using swarm = await startLocalSwarm({ seeder: false });
  const out = join(swarm.dir, "dl");
  const cases = [
    { permissions: ["--allow-net=127.0.0.1"], torrent: swarm.torrentUrl, says: "--allow-write=" },
    {
      permissions: ["--allow-net=127.0.0.1", `--allow-write=${out}`],
      torrent: swarm.torrentUrl.replace("x.torrent", "missing.torrent"),
      says: "404",
    },
  ];
  for (const { permissions, torrent, says } of cases) {
    const result = await runCli(permissions, [
      "download",
      torrent,
      "--out",
      out,
      ...LOOPBACK,
      "--json",
    ]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 1, result.stdout);
    const event = JSON.parse(lines[0]);
    assert.equal(event.event, "error");
    assert.equal(typeof event.name, "string");
    assert.ok(event.message.includes(says), event.message);
    assert.ok(result.stderr.includes(event.message), "the same message on stderr");
  }
});

Deno.test("download of a local trackerless .torrent from --peer adds only --allow-read=FILE", async () => {
  await using swarm = await startLocalSwarm();
  const { bytes } = await createTorrent(join(swarm.seedDir, swarm.payload.name), {
    pieceLength: swarm.payload.pieceLength,
  });
  const torrentPath = join(swarm.dir, "trackerless.torrent");
  await Deno.writeFile(torrentPath, bytes);
  const out = join(swarm.dir, "dl");
  const result = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`, `--allow-read=${torrentPath}`],
    [
      "download",
      torrentPath,
      "--out",
      out,
      ...LOOPBACK,
      "--peer",
      `127.0.0.1:${swarm.seederPort}`,
      "--selector",
      "random-rarest",
    ],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(sameBytes(await Deno.readFile(join(out, "payload.bin")), swarm.payload.data));
});

Deno.test("download --seed-ratio 1 (which implies --seed) exits 0 once it uploaded the torrent's size", async () => {
  await using swarm = await startLocalSwarm();
  const out = join(swarm.dir, "dl");
  const writeOnly = await runCli(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`],
    ["download", swarm.torrentUrl, "--out", out, ...LOOPBACK, "--seed-ratio", "1"],
  );
  assert.equal(writeOnly.code, 1, "serving needs read access");
  assert.ok(writeOnly.stderr.includes(`needs --allow-read=${out}`), writeOnly.stderr);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "checked before downloading");

  await using child = new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-write=${out}`, `--allow-read=${out}`],
    [
      "download",
      swarm.torrentUrl,
      "--out",
      out,
      ...LOOPBACK,
      "--json",
      "--seed-ratio",
      "1",
    ],
  );
  await child.waitForLine((line) => JSON.parse(line).event === "completed");
  // With the seeder gone, a new leecher can only get the data from the CLI.
  await swarm.seeder.close();
  await using leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  const session = await leecher.add(swarm.torrent, { storage: new MemoryStorage() });
  await withTimeout(session.completed, RUN_TIMEOUT_MS, () => "the leecher did not complete");
  const { code, stdout } = await child.exit();
  assert.equal(code, 0);
  const events = stdout.trim().split("\n").map((line) => JSON.parse(line));
  const last = events.findLast((event) => event.event === "progress");
  assert.ok(last.uploaded >= swarm.payload.data.length, stdout);
  assert.equal(events.at(-1).event, "stopped");
});
