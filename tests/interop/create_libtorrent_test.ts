/**
 * v2 and hybrid torrents made by Bittern against libtorrent 2.0 (python3-libtorrent): the same
 * v1 and v2 info hashes both ways, and a Bittern-made hybrid downloaded by libtorrent from a
 * Bittern seeder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, FileSystemStorage, Runtime, toHex, type TorrentFormat } from "../../mod.ts";
import { seededBytes } from "../../src/testing/mod.ts";
import { assertFixture, type FixturePayload } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
/** Shown in the test name when skipped, so the reason is in the report. */
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

const HELPER = new URL("./lt_create_helper.py", import.meta.url).pathname;

/**
 * The awkward cases for v2 and hybrid layouts: nested directories, an empty file, files of
 * exactly one and several whole pieces (no pad), files shorter than a block, names whose
 * UTF-8 byte order differs from UTF-16 order, and names that sort differently as whole paths
 * than segment by segment (`a/x`, `a-b`, `a.txt`).
 */
const TREE: FixturePayload = {
  name: "v2 tree",
  files: [
    { path: ["a", "x"], data: seededBytes(100, 31) },
    { path: ["a-b"], data: seededBytes(65536, 32) },
    { path: ["a.txt"], data: seededBytes(200_000, 33) },
    { path: ["b", "empty"], data: new Uint8Array(0) },
    { path: ["b", "deeper", "z.bin"], data: seededBytes(16384, 34) },
    { path: ["\uFF5E wave.bin"], data: seededBytes(40_000, 35) },
    { path: ["\u{1F600} smile.bin"], data: seededBytes(131_072 + 1, 36) },
    { path: ["Upper.bin"], data: seededBytes(5, 37) },
  ],
};

interface Hashes {
  v1: string;
  v2: string;
}

async function helper(...args: string[]): Promise<Hashes> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [HELPER, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `lt_create_helper.py ${args.join(" ")} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function writeTree(dir: string, payload: FixturePayload): Promise<string> {
  for (const file of payload.files) {
    const path = join(dir, payload.name, ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  return join(dir, payload.name);
}

function ours(made: { infoHashes: { v1?: Uint8Array; v2?: Uint8Array } }): Hashes {
  return {
    v1: made.infoHashes.v1 ? toHex(made.infoHashes.v1) : "",
    v2: made.infoHashes.v2 ? toHex(made.infoHashes.v2) : "",
  };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: `interop: v2 and hybrid torrents have the info hashes libtorrent computes${why}`,
  ignore,
  fn: () =>
    withDir(async (dir) => {
      const root = await writeTree(dir, TREE);
      // An executable file: libtorrent writes BEP 47 attr "x", which is in the info hash.
      await Deno.chmod(join(root, "b", "deeper", "z.bin"), 0o755);
      await Deno.chmod(join(root, "Upper.bin"), 0o744);
      const single = join(root, "a.txt");
      const singleExecutable = join(root, "Upper.bin");
      for (const source of [root, single, singleExecutable]) {
        for (const pieceLength of [16384, 65536]) {
          for (const format of ["hybrid", "v2"] as TorrentFormat[]) {
            const what = `${format}, ${pieceLength}-byte pieces, ${source}`;
            const made = await createTorrent(source, { format, pieceLength });
            const path = join(dir, "ours.torrent");
            await Deno.writeFile(path, made.bytes);
            // Bittern's torrent loads in libtorrent with the hashes Bittern reports...
            const loaded = await helper("hashes", path);
            assert.deepEqual(loaded, ours(made), `loaded: ${what}`);
            assert.equal(loaded.v2.length, 64, what);
            assert.equal(loaded.v1.length, format === "hybrid" ? 40 : 0, what);
            // ...and libtorrent, making a torrent of the same files, gets the same hashes.
            const theirs = await helper(
              "make",
              "--path",
              source,
              "--out",
              join(dir, "theirs.torrent"),
              "--piece-size",
              String(pieceLength),
              "--format",
              format,
            );
            assert.deepEqual(theirs, loaded, `made by libtorrent: ${what}`);
          }
        }
      }
    }),
});

Deno.test({
  name: `interop: Bittern seeder -> libtorrent leecher of a Bittern-made hybrid${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    let leecher: LtPeer | undefined;
    try {
      const root = await writeTree(seedDir, TREE);
      await Deno.chmod(join(root, "a.txt"), 0o755);
      const made = await createTorrent(root, { format: "hybrid", pieceLength: 32768 });
      const torrentPath = join(seedDir, "hybrid.torrent");
      await Deno.writeFile(torrentPath, made.bytes);
      const session = await runtime.add(made.bytes, { storage: new FileSystemStorage(seedDir) });
      assert.equal(session.stats().progress, 1);
      leecher = await LtPeer.leech(torrentPath, leechDir, runtime.port);
      await leecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(leechDir, { payload: TREE });
      // libtorrent honours the executable attribute of the torrent made here.
      assert.equal(
        ((await Deno.stat(join(leechDir, TREE.name, "a.txt"))).mode ?? 0) & 0o100,
        0o100,
      );
    } finally {
      await leecher?.close();
      await runtime.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});
