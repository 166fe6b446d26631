/**
 * BEP 47 attributes on disk, in real temp dirs: symlink entries become relative symlinks
 * that stay inside the download directory (a hostile target included), `x` files get
 * execute bits, and what cannot be done (something in the way, scoped permissions) is a
 * warning, never a failed download.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Encodable, encode } from "../../src/bencode/mod.ts";
import { MemoryStorage, parseTorrent, Runtime, type Torrent } from "../../mod.ts";
import { relativeLinkTarget } from "../../src/storage/attributes.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { withTempDir } from "./fixture.ts";

const text = new TextEncoder();

/** A v1 torrent "t": an executable script, a link to it, and a link aiming out of the root. */
function attributeTorrent(): { torrent: Torrent; metainfo: Uint8Array; script: Uint8Array } {
  const script = text.encode("#!/bin/sh\necho hello from a torrent\n");
  const files: Encodable[] = [
    { length: script.length, path: ["bin", "run.sh"], attr: "x" },
    { length: 0, path: ["link"], attr: "l", "symlink path": ["bin", "run.sh"] },
    // Sanitised by the parser to t/etc/passwd: it must stay that.
    {
      length: 0,
      path: ["docs", "escape"],
      attr: "l",
      "symlink path": ["..", "..", "..", "etc", "passwd"],
    },
  ];
  const info = {
    name: "t",
    "piece length": 16384,
    pieces: new Uint8Array(createHash("sha1").update(script).digest()),
    files,
  };
  const metainfo = encode({ info });
  return { torrent: parseTorrent(metainfo), metainfo, script };
}

/** Whether `path`, followed lexically from its link's directory, stays under `root`. */
function insideRoot(root: string, linkDir: string, target: string): boolean {
  const parts: string[] = linkDir.split("/").filter(Boolean);
  for (const part of target.split("/")) {
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`.startsWith(`${root}/`);
}

Deno.test("BEP 47: relative link targets climb to the common directory, never higher", () => {
  assert.equal(relativeLinkTarget(["t", "link"], ["t", "bin", "run.sh"]), "bin/run.sh");
  assert.equal(relativeLinkTarget(["t", "docs", "ln"], ["t", "etc", "passwd"]), "../etc/passwd");
  assert.equal(relativeLinkTarget(["t", "a", "b", "ln"], ["t", "a", "c"]), "../c");
  // A link to its own directory, and a single-file torrent's link at the root.
  assert.equal(relativeLinkTarget(["t", "a", "ln"], ["t", "a"]), "../a");
  assert.equal(relativeLinkTarget(["ln"], ["file"]), "file");
  for (const [link, target] of [[["t", "x", "y", "z", "ln"], ["other"]], [["ln"], ["t", "a"]]]) {
    const climbed = relativeLinkTarget(link, target).split("/").filter((s) => s === "..").length;
    assert.ok(climbed <= link.length - 1, `${link} -> ${target}`);
  }
});

Deno.test("BEP 47: the filesystem makes relative symlinks inside the root and executable files", async () => {
  const { torrent, script } = attributeTorrent();
  assert.deepEqual(torrent.files[2].symlinkTarget, ["t", "etc", "passwd"]);
  await withTempDir(async (dir) => {
    const root = await Deno.realPath(dir);
    const storage = await new FileSystemStorage(dir).open(torrent);
    try {
      assert.deepEqual(storage.warnings, []);
      assert.equal((await Deno.lstat(`${dir}/t/link`)).isSymlink, true);
      assert.equal(await Deno.readLink(`${dir}/t/link`), "bin/run.sh");
      // The hostile target stays a relative path inside the root: nothing escapes.
      const escape = await Deno.readLink(`${dir}/t/docs/escape`);
      assert.equal(escape, "../etc/passwd");
      assert.ok(insideRoot(root, `${root}/t/docs`, escape), escape);
      await assert.rejects(Deno.stat(`${dir}/t/docs/escape`), Deno.errors.NotFound);
      // Executable from the start, read bits mirrored (644 under umask 022 becomes 755).
      const mode = (await Deno.stat(`${dir}/t/bin/run.sh`)).mode! & 0o777;
      assert.equal(mode & 0o111, (mode & 0o444) >> 2, mode.toString(8));
      assert.ok(mode & 0o100, mode.toString(8));
      await storage.write(0, 0, script);
      await storage.flush();
      assert.deepEqual(await Deno.readFile(`${dir}/t/link`), script, "the link leads to the data");
      assert.deepEqual((await storage.fileStats()).map((stat) => stat?.length), [
        script.length,
        0,
        0,
      ]);
    } finally {
      await storage.close();
    }
    // Opened again (a resumed download): its own links are no problem, dangling or not.
    const again = await new FileSystemStorage(dir).open(torrent);
    await again.close();
    assert.deepEqual(again.warnings, []);
  });
});

Deno.test("BEP 47: a symlink that cannot be made is a warning event; the download completes", async () => {
  const { torrent, script } = attributeTorrent();
  await withTempDir(async (dir) => {
    // Something of the user's is where the link would go: left alone.
    await Deno.mkdir(`${dir}/t`);
    await Deno.writeTextFile(`${dir}/t/link`, "mine");
    const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
    const leecher = new Runtime({ listen: false });
    try {
      const seed = new MemoryStorage();
      const opened = await seed.open(torrent);
      await opened.write(0, 0, script);
      await seeder.add(torrent, { storage: seed });
      const session = await leecher.add(torrent, {
        out: dir,
        start: false,
        peers: [{ host: "127.0.0.1", port: seeder.port! }],
      });
      const warnings: string[] = [];
      session.events.on("warning", ({ source, message }) => warnings.push(`${source}: ${message}`));
      session.start();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        session.completed,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("download timed out")), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(
        warnings[0],
        /^storage: symlink t\/link -> bin\/run\.sh skipped: .*already there/,
      );
      assert.equal(await Deno.readTextFile(`${dir}/t/link`), "mine");
      assert.deepEqual(await Deno.readFile(`${dir}/t/bin/run.sh`), script);
      assert.ok((await Deno.stat(`${dir}/t/bin/run.sh`)).mode! & 0o100);
      assert.equal(await Deno.readLink(`${dir}/t/docs/escape`), "../etc/passwd");
      // Nothing was made beside the torrent's directory.
      assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["t"]);
    } finally {
      await leecher.close();
      await seeder.close();
    }
  });
});

Deno.test("BEP 47: with path-scoped permissions symlinks are skipped with a warning naming the flags", async () => {
  const { metainfo } = attributeTorrent();
  await withTempDir(async (dir) => {
    const script = `${dir}/probe.ts`;
    const torrentPath = `${dir}/t.torrent`;
    await Deno.writeFile(torrentPath, metainfo);
    const repo = new URL("../../", import.meta.url).pathname;
    await Deno.writeTextFile(
      script,
      `import { FileSystemStorage, parseTorrent } from ${JSON.stringify(`${repo}mod.ts`)};
const torrent = parseTorrent(await Deno.readFile(${JSON.stringify(torrentPath)}));
const storage = await new FileSystemStorage(${JSON.stringify(`${dir}/dl`)}).open(torrent);
await storage.close();
console.log(JSON.stringify(storage.warnings));
`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=${dir},${repo}`,
        `--allow-write=${dir}/dl`,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const warnings: string[] = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0], /symlink t\/link skipped: .* needs --allow-read --allow-write$/);
    // No links; the executable file is there with its bits.
    await assert.rejects(Deno.lstat(`${dir}/dl/t/link`), Deno.errors.NotFound);
    assert.ok((await Deno.stat(`${dir}/dl/t/bin/run.sh`)).mode! & 0o100);
  });
});
