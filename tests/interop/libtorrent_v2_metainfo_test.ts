/**
 * Interop with libtorrent 2.0 (python3-libtorrent) for BEP 52: v2-only and hybrid
 * torrents libtorrent makes parse here with the same info hashes (v1 and v2), files,
 * pad files, offsets, piece counts and merkle roots. Skipped when libtorrent is absent.
 */
import assert from "node:assert/strict";
import { parseTorrent, toHex } from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { hasLibtorrent } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the tests below are skipped
  console.warn("libtorrent v2 metainfo tests skipped: /usr/bin/python3 cannot import libtorrent");
}

/** Makes a torrent of `dir/set` with libtorrent and describes it as libtorrent reads it. */
const MAKE = `
import json, sys, libtorrent as lt
dir, out, flags, piece = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fs = lt.file_storage()
lt.add_files(fs, dir + "/set")
t = lt.create_torrent(fs, piece, flags)
lt.set_piece_hashes(t, dir)
open(out, "wb").write(lt.bencode(t.generate()))
ti = lt.torrent_info(out)
f = ti.files()
h = ti.info_hashes()
print(json.dumps({
  "v1": str(h.v1) if h.has_v1() else None,
  "v2": str(h.v2),
  "pieces": ti.num_pieces(),
  "files": [[f.file_path(i), f.file_size(i), f.file_offset(i),
             bool(f.file_flags(i) & lt.file_storage.flag_pad_file),
             str(f.root(i)) if not (f.file_flags(i) & lt.file_storage.flag_pad_file) else None]
            for i in range(f.num_files())],
}))
`;

interface LtV2 {
  v1: string | null;
  v2: string;
  pieces: number;
  files: [string, number, number, boolean, string | null][];
}

for (const [label, flags] of [["v2-only", 32], ["hybrid", 0]] as const) {
  Deno.test({
    name: `libtorrent ${label} torrents parse with the same hashes, files and roots`,
    ignore: !libtorrent,
    async fn() {
      const dir = await Deno.makeTempDir();
      try {
        await Deno.mkdir(`${dir}/set/sub`, { recursive: true });
        await Deno.writeFile(`${dir}/set/a.bin`, payload(200_000, 1));
        await Deno.writeFile(`${dir}/set/sub/b.txt`, payload(100, 2));
        await Deno.writeFile(`${dir}/set/c.bin`, payload(32768, 3));
        await Deno.writeFile(`${dir}/set/empty`, new Uint8Array(0));
        const out = `${dir}/x.torrent`;
        const { success, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
          args: ["-c", MAKE, dir, out, String(flags), "16384"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(success, new TextDecoder().decode(stderr));
        const lt: LtV2 = JSON.parse(new TextDecoder().decode(stdout));
        const torrent = parseTorrent(await Deno.readFile(out));
        assert.equal(torrent.version, label === "hybrid" ? "hybrid" : 2);
        assert.equal(torrent.infoHashV2Hex, lt.v2);
        assert.equal(torrent.infoHashHex, lt.v1 ?? lt.v2.slice(0, 40));
        assert.equal(torrent.pieceCount, lt.pieces);
        const zeros = "0".repeat(64);
        assert.deepEqual(
          torrent.files.map((file) => [
            file.path.join("/"),
            file.length,
            file.offset,
            file.padding,
            file.padding ? null : file.piecesRoot ? toHex(file.piecesRoot) : zeros,
          ]),
          lt.files,
        );
        // Every file of more than one piece carries its checked layer.
        for (const file of torrent.files) {
          if (!file.padding && file.length > 16384) assert.ok(file.pieceLayer);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
