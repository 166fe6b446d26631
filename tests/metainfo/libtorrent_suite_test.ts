/**
 * Bittern agrees with libtorrent on every torrent of libtorrent's own test suite
 * (`test/test_torrent_info.cpp`), rebuilt in tests/metainfo/libtorrent_cases.ts; and,
 * where python3-libtorrent is installed, the generated torrents load or fail in the real
 * libtorrent as they do here.
 */
import assert from "node:assert/strict";
import { parseTorrent, TorrentError } from "../../src/metainfo/mod.ts";
import { hasLibtorrent } from "../interop/lt_process.ts";
import { hybridEdgeCases, libtorrentCases } from "./libtorrent_cases.ts";

const cases = libtorrentCases();
const edgeCases = hybridEdgeCases();

Deno.test("libtorrent's test torrents: Bittern loads and fails the same ones", async (t) => {
  for (const testCase of cases) {
    await t.step(
      `${testCase.name}: ${testCase.expect}${testCase.error ? ` (${testCase.error})` : ""}`,
      () => {
        if (testCase.expect === "fail") {
          assert.throws(() => parseTorrent(testCase.bytes), TorrentError);
          return;
        }
        const torrent = parseTorrent(testCase.bytes);
        testCase.check?.(torrent);
      },
    );
  }
});

Deno.test("hybrid layouts: Bittern loads and fails them as libtorrent 2.0.8 does", async (t) => {
  for (const testCase of edgeCases) {
    await t.step(`${testCase.name}: ${testCase.expect}`, () => {
      if (testCase.expect === "fail") {
        assert.throws(() => parseTorrent(testCase.bytes), TorrentError);
      } else {
        assert.equal(parseTorrent(testCase.bytes).version, "hybrid");
      }
    });
  }
});

/**
 * Where libtorrent 2.0.8 (the Debian package) differs from the expectations of the
 * newer `test_torrent_info.cpp` Bittern follows, and why.
 */
const LIBTORRENT_2_0_8_DIFFERS: Record<string, string> = {
  pad_file_symlink: "2.0.8 does not check that a pad file is no symlink",
  v2_invalid_piece_layer_root:
    "2.0.8 checks a piece layer against its root only when a piece arrives",
  v2_unknown_piece_layer_entry: "2.0.8 skips piece layers that belong to no file",
  v2_missing_file_root_invalid_symlink:
    "2.0.8 keeps the symlink flag of a v2 entry without a target",
  duplicate_files2: "2.0.8 renames any number of duplicate file names",
};

const libtorrent = await hasLibtorrent();

Deno.test({
  name: "libtorrent's test torrents: python3-libtorrent loads and fails the same ones",
  ignore: !libtorrent,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (const testCase of [...cases, ...edgeCases]) {
        await Deno.writeFile(`${dir}/${testCase.name}.torrent`, testCase.bytes);
      }
      const script = [
        "import json, os, sys, libtorrent as lt",
        "out = {}",
        "for name in sorted(os.listdir(sys.argv[1])):",
        "    try:",
        "        lt.torrent_info(os.path.join(sys.argv[1], name))",
        "        out[name[:-8]] = 'load'",
        "    except Exception as e:",
        "        out[name[:-8]] = 'fail: ' + str(e)",
        "print(json.dumps(out))",
      ].join("\n");
      const { success, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", script, dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(success, new TextDecoder().decode(stderr));
      const results: Record<string, string> = JSON.parse(new TextDecoder().decode(stdout));
      const disagreements: string[] = [];
      for (const testCase of [...cases, ...edgeCases]) {
        const outcome = results[testCase.name];
        const ours = outcome === "load" ? "load" : "fail";
        const known = LIBTORRENT_2_0_8_DIFFERS[testCase.name];
        if ((ours === testCase.expect) === (known !== undefined)) {
          disagreements.push(
            `${testCase.name}: libtorrent 2.0.8 ${outcome}, expected ${testCase.expect}`,
          );
        }
      }
      assert.deepEqual(disagreements, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the libtorrent comparison is skipped
  console.warn("libtorrent comparison skipped: /usr/bin/python3 cannot import libtorrent");
}
