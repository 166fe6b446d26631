/**
 * Interop with libtorrent (Debian python3-libtorrent, via tests/interop/lt_helper.py):
 * torrents libtorrent makes parse here identically, and torrents made here load
 * in libtorrent with the same info hash and files. Skipped when libtorrent is absent.
 */
import assert from "node:assert/strict";
import { createTorrent, parseTorrent, type Torrent } from "../../src/metainfo/mod.ts";
import { payload } from "../session/helpers.ts";
import { hasLibtorrent } from "./lt_process.ts";

const PYTHON = "/usr/bin/python3";
const HELPER = new URL("./lt_helper.py", import.meta.url).pathname;

const libtorrent = await hasLibtorrent();
if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the tests below are skipped
  console.warn("libtorrent interop tests skipped: /usr/bin/python3 cannot import libtorrent");
}

interface LtFile {
  path: string[];
  size: number;
  offset: number;
  pad: boolean;
}

interface LtInfo {
  name: string;
  info_hash: string;
  piece_length: number;
  num_pieces: number;
  total_size: number;
  private: boolean;
  comment: string;
  trackers: { url: string; tier: number }[];
  files: LtFile[];
}

async function helper<T>(...args: string[]): Promise<T> {
  const { success, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: [HELPER, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, `lt_helper ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout)) as T;
}

async function withTree(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/Grüße 文件.bin`, payload(70_000, 1));
    const album = `${dir}/Ålbum 名前`;
    await Deno.mkdir(`${album}/Ünter ordner`, { recursive: true });
    await Deno.writeFile(`${album}/01 – café.flac`, payload(40_000, 2));
    await Deno.writeFile(`${album}/Ünter ordner/ñ.txt`, payload(123, 3));
    await Deno.writeFile(`${album}/zzz.bin`, payload(100_000, 4));
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSameLayout(torrent: Torrent, lt: LtInfo): void {
  assert.equal(torrent.infoHashHex, lt.info_hash);
  assert.equal(torrent.name, lt.name);
  assert.equal(torrent.pieceLength, lt.piece_length);
  assert.equal(torrent.pieceCount, lt.num_pieces);
  assert.equal(torrent.length, lt.total_size);
  assert.equal(torrent.private, lt.private);
  assert.deepEqual(
    torrent.files.map((f) => ({ path: f.path, size: f.length, offset: f.offset, pad: f.padding })),
    lt.files,
  );
}

const SOURCES = ["Grüße 文件.bin", "Ålbum 名前"];

Deno.test({
  name: "torrents made by libtorrent parse with the same info hash and files",
  ignore: !libtorrent,
  fn: () =>
    withTree(async (dir) => {
      for (const source of SOURCES) {
        for (const hybrid of [false, true]) {
          const out = `${dir}/lt-${hybrid}.torrent`;
          const made = await helper<{ info_hash: string }>(
            "make-torrent",
            "--path",
            `${dir}/${source}`,
            "--out",
            out,
            "--piece-size",
            "32768",
            "--tracker",
            "http://127.0.0.1:1/announce",
            "--tracker",
            "http://127.0.0.1:2/announce",
            "--private",
            ...(hybrid ? ["--hybrid"] : []),
          );
          const torrent = parseTorrent(await Deno.readFile(out));
          assert.equal(torrent.infoHashHex, made.info_hash);
          assertSameLayout(torrent, await helper<LtInfo>("info", out));
          assert.deepEqual(torrent.announce, [
            ["http://127.0.0.1:1/announce"],
            ["http://127.0.0.1:2/announce"],
          ]);
          if (hybrid && source !== SOURCES[0]) assert.ok(torrent.files.some((f) => f.padding));
        }
      }
    }),
});

Deno.test({
  name: "torrents made here load in libtorrent with the same info hash and files",
  ignore: !libtorrent,
  fn: () =>
    withTree(async (dir) => {
      for (const source of SOURCES) {
        for (const pieceLength of [16384, undefined]) {
          const { bytes, torrent } = await createTorrent(`${dir}/${source}`, {
            pieceLength,
            announce: [["http://127.0.0.1:1/a", "http://127.0.0.1:2/a"], "http://127.0.0.1:3/a"],
            private: pieceLength === undefined,
            comment: "Kommentar ✓",
          });
          const out = `${dir}/ours.torrent`;
          await Deno.writeFile(out, bytes);
          const lt = await helper<LtInfo>("info", out);
          assertSameLayout(torrent, lt);
          assert.equal(lt.comment, "Kommentar ✓");
          // libtorrent shuffles each tier (BEP 12), so compare in a fixed order.
          const trackers = lt.trackers.toSorted((a, b) =>
            a.tier - b.tier || a.url.localeCompare(b.url)
          );
          assert.deepEqual(trackers, [
            { url: "http://127.0.0.1:1/a", tier: 0 },
            { url: "http://127.0.0.1:2/a", tier: 0 },
            { url: "http://127.0.0.1:3/a", tier: 1 },
          ]);
        }
      }
    }),
});

Deno.test({
  name: "the same data hashes to the same pieces here and in libtorrent",
  ignore: !libtorrent,
  fn: () =>
    withTree(async (dir) => {
      const out = `${dir}/lt.torrent`;
      const path = `${dir}/${SOURCES[0]}`;
      await helper("make-torrent", "--path", path, "--out", out, "--piece-size", "16384");
      const theirs = parseTorrent(await Deno.readFile(out));
      const ours = (await createTorrent(path, { pieceLength: 16384 })).torrent;
      assert.deepEqual(ours.pieceHashes, theirs.pieceHashes);
    }),
});
