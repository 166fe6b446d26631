import assert from "node:assert/strict";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { StorageError, toStorageError } from "../../src/storage/errors.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { type Fixture, makeTorrent, patternBytes, pieceBytes, withTempDir } from "./fixture.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Writes the whole fixture piece by piece in `blockSize` blocks through a PieceStore. */
async function downloadAll(fixture: Fixture, dir: string, maxOpenFiles = 64): Promise<number> {
  const storage = new FileSystemStorage(dir, { maxOpenFiles });
  const store = await PieceStore.open(fixture.torrent, storage, { restore: "none" });
  try {
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const bytes = pieceBytes(fixture, piece);
      for (const { offset, length } of store.missingBlocks(piece)) {
        const result = await store.writeBlock(
          piece,
          offset,
          bytes.subarray(offset, offset + length),
        );
        assert.notEqual(result.status, "failed");
      }
      assert.ok(store.verified.get(piece), `piece ${piece} verified`);
    }
    return (store.storage as { peakOpenFileCount?: number }).peakOpenFileCount ?? 0;
  } finally {
    await store.close();
  }
}

Deno.test("single-file torrent writes one file named after the torrent", async () => {
  const fixture = makeTorrent([{ path: ["x"], content: patternBytes(100_000, 1) }], 16 * KiB, {
    name: "single.bin",
  });
  await withTempDir(async (dir) => {
    await downloadAll(fixture, dir);
    assert.deepEqual(await Deno.readFile(`${dir}/single.bin`), fixture.data);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["single.bin"]);
  });
});

Deno.test("multi-file: nested folders, zero-length files, blocks spanning file boundaries", async () => {
  const files = [
    { path: ["a.txt"], content: patternBytes(5000, 2) }, // smaller than a block
    { path: ["empty"], content: new Uint8Array(0) },
    { path: ["deep", "er", "b.bin"], content: patternBytes(40_000, 3) },
    { path: ["deep", "zero"], content: new Uint8Array(0) },
    { path: ["c.bin"], content: patternBytes(16 * KiB + 1, 4) },
  ];
  const fixture = makeTorrent(files, 16 * KiB, { name: "multi" });
  await withTempDir(async (dir) => {
    await downloadAll(fixture, dir);
    for (const file of files) {
      assert.deepEqual(await Deno.readFile(`${dir}/multi/${file.path.join("/")}`), file.content);
    }
  });
});

Deno.test("piece sizes 16 KiB and 16 MiB both round-trip", async () => {
  for (const pieceLength of [16 * KiB, 16 * MiB]) {
    const fixture = makeTorrent(
      [
        { path: ["one"], content: patternBytes(pieceLength + 12_345, 5) },
        { path: ["two"], content: patternBytes(3 * KiB, 6) },
      ],
      pieceLength,
    );
    await withTempDir(async (dir) => {
      await downloadAll(fixture, dir);
      assert.deepEqual(
        await Deno.readFile(`${dir}/fixture/one`),
        fixture.torrent.files[0] && fixture.data.subarray(0, pieceLength + 12_345),
      );
      const reopened = await new FileSystemStorage(dir).open(fixture.torrent);
      try {
        const last = fixture.torrent.pieceCount - 1;
        const tail = await reopened.read(last, 0, fixture.data.length - last * pieceLength);
        assert.deepEqual(tail, pieceBytes(fixture, last));
      } finally {
        await reopened.close();
      }
    });
  }
});

Deno.test("2,000 files with an open-file cap of 16 never exceed the cap", async () => {
  const files = Array.from({ length: 2000 }, (_, i) => ({
    path: [`d${i % 10}`, `f${i}`],
    content: patternBytes(700 + (i % 13), i),
  }));
  const fixture = makeTorrent(files, 16 * KiB);
  await withTempDir(async (dir) => {
    const peak = await downloadAll(fixture, dir, 16);
    assert.ok(peak <= 16, `peak open files ${peak}`);
    assert.deepEqual(await Deno.readFile(`${dir}/fixture/d7/f1997`), files[1997].content);
  });
});

Deno.test("padding files are neither created nor read", async () => {
  const fixture = makeTorrent(
    [
      { path: ["a"], content: patternBytes(10_000, 7) },
      { path: [".pad", "6384"], content: new Uint8Array(6384), padding: true },
      { path: ["b"], content: patternBytes(20_000, 8) },
    ],
    16 * KiB,
  );
  await withTempDir(async (dir) => {
    await downloadAll(fixture, dir);
    await assert.rejects(Deno.stat(`${dir}/fixture/.pad`), Deno.errors.NotFound);
    assert.deepEqual(await Deno.readFile(`${dir}/fixture/b`), fixture.data.subarray(16384));
  });
});

Deno.test("a pre-existing symlink leading outside the root is refused", async () => {
  const fixture = makeTorrent(
    [{ path: ["sub", "x.bin"], content: patternBytes(1000, 9) }, {
      path: ["y.bin"],
      content: patternBytes(1000, 10),
    }],
    16 * KiB,
  );
  await withTempDir(async (outside) => {
    await withTempDir(async (dir) => {
      // Directory symlink on the way.
      await Deno.mkdir(`${dir}/fixture`);
      await Deno.symlink(outside, `${dir}/fixture/sub`);
      const failure = await new FileSystemStorage(dir).open(fixture.torrent).then(
        async (storage) => {
          try {
            await storage.write(0, 0, fixture.data.subarray(0, 1000));
            return undefined;
          } catch (caught) {
            return caught;
          } finally {
            await storage.close();
          }
        },
      );
      assert.ok(failure instanceof StorageError);
      assert.equal(failure.kind, "outside-root");
      assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing written outside");

      // File symlink (dangling, pointing outside) for the second file.
      await Deno.remove(`${dir}/fixture/sub`);
      await Deno.symlink(`${outside}/stolen`, `${dir}/fixture/y.bin`);
      const storage2 = await new FileSystemStorage(dir).open(fixture.torrent);
      try {
        await assert.rejects(
          storage2.write(0, 1000, fixture.data.subarray(1000, 2000)),
          (caught: unknown) => caught instanceof StorageError && caught.kind === "outside-root",
        );
      } finally {
        await storage2.close();
      }
      await assert.rejects(Deno.stat(`${outside}/stolen`), Deno.errors.NotFound);
    });
  });
});

Deno.test("a symlink that stays inside the root is allowed", async () => {
  const fixture = makeTorrent([{ path: ["sub", "x.bin"], content: patternBytes(1000, 11) }, {
    path: ["z"],
    content: new Uint8Array(0),
  }], 16 * KiB);
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/fixture/real`, { recursive: true });
    await Deno.symlink(`${dir}/fixture/real`, `${dir}/fixture/sub`);
    await downloadAll(fixture, dir);
    assert.deepEqual(await Deno.readFile(`${dir}/fixture/real/x.bin`), fixture.data);
  });
});

Deno.test("unsafe path segments are refused even if the metainfo layer let them through", async () => {
  const fixture = makeTorrent([{ path: ["..", "escape"], content: patternBytes(10, 12) }, {
    path: ["ok"],
    content: patternBytes(10, 13),
  }], 16 * KiB);
  await withTempDir(async (dir) => {
    const storage = await new FileSystemStorage(`${dir}/root`).open(fixture.torrent);
    try {
      await assert.rejects(
        storage.write(0, 0, fixture.data),
        (caught: unknown) => caught instanceof StorageError && caught.kind === "outside-root",
      );
    } finally {
      await storage.close();
    }
    await assert.rejects(Deno.stat(`${dir}/escape`), Deno.errors.NotFound);
  });
});

Deno.test("reading data that was never written is a not-found StorageError", async () => {
  const fixture = makeTorrent([{ path: ["a"], content: patternBytes(40_000, 14) }], 16 * KiB);
  await withTempDir(async (dir) => {
    const storage = await new FileSystemStorage(dir).open(fixture.torrent);
    try {
      await assert.rejects(
        storage.read(0, 0, 100),
        (caught: unknown) => caught instanceof StorageError && caught.kind === "not-found",
      );
      await storage.write(0, 0, fixture.data.subarray(0, 100));
      await assert.rejects(
        storage.read(1, 0, 100),
        (caught: unknown) => caught instanceof StorageError && caught.kind === "not-found",
      );
      await assert.rejects(
        storage.read(9, 0, 1),
        (caught: unknown) => caught instanceof StorageError && caught.kind === "out-of-range",
      );
    } finally {
      await storage.close();
    }
  });
});

Deno.test("a directory the OS will not let us write into gives a permission StorageError", async () => {
  const fixture = makeTorrent([{ path: ["a"], content: patternBytes(1000, 15) }], 16 * KiB);
  const id = await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output();
  const isRoot = new TextDecoder().decode(id.stdout).trim() === "0";
  await withTempDir(async (dir) => {
    const locked = `${dir}/locked`;
    await Deno.mkdir(locked);
    // Root ignores file modes, so as root the directory is made immutable instead.
    const lock = isRoot ? ["chattr", "+i", locked] : ["chmod", "555", locked];
    const unlock = isRoot ? ["chattr", "-i", locked] : ["chmod", "755", locked];
    const run = async (argv: string[]) => {
      const { success } = await new Deno.Command(argv[0], { args: argv.slice(1) }).output();
      return success;
    };
    if (!await run(lock)) {
      // deno-lint-ignore no-console
      console.warn(`skipped: could not run ${lock.join(" ")}`);
      return;
    }
    try {
      const storage = await new FileSystemStorage(locked).open(fixture.torrent);
      try {
        const failure = await storage.write(0, 0, fixture.data).then(() => undefined, (e) => e);
        assert.ok(failure instanceof StorageError, String(failure));
        assert.equal(failure.kind, "permission");
        assert.equal(failure.operation, "write");
        assert.match(failure.message, /locked\/fixture/);
      } finally {
        await storage.close();
      }
    } finally {
      await run(unlock);
    }
  });
});

Deno.test("a write past the file-size limit fails the download with a typed error and keeps verified pieces", async () => {
  const fixture = makeTorrent([{ path: ["big"], content: patternBytes(2 * MiB, 18) }], 64 * KiB);
  await withTempDir(async (dir) => {
    const probe = new URL("./disk_full_probe.ts", import.meta.url).pathname;
    // RLIMIT_FSIZE (ulimit -f, in KiB) makes writes past 512 KiB fail with EFBIG, a real
    // kernel refusal like a full disk; the ignored SIGXFSZ is inherited through exec.
    const output = await new Deno.Command("bash", {
      args: [
        "-c",
        `trap '' XFSZ; ulimit -f 512; exec "$0" run --allow-read --allow-write "$1" "$2"`,
        Deno.execPath(),
        probe,
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const report = JSON.parse(text);
    assert.equal(report.name, "StorageError");
    assert.equal(report.kind, "no-space");
    assert.equal(report.verified, 8, "the 8 pieces under the limit were verified");
    const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), {
      restore: "recheck",
    });
    try {
      assert.equal(store.verified.count(), 8, "no verified data lost");
    } finally {
      await store.close();
    }
  });
  const readOnly = toStorageError(
    Object.assign(new Error("Read-only file system"), { code: "EROFS" }),
    "write",
    "/x",
  );
  assert.ok(readOnly instanceof StorageError && readOnly.kind === "read-only");
});

Deno.test("a missing --allow-write is a PermissionError naming the flag and the directory", async () => {
  const fixture = makeTorrent([{ path: ["a"], content: patternBytes(1000, 16) }], 16 * KiB);
  await withTempDir(async (dir) => {
    const script = `${dir}/probe.ts`;
    const storageModule = new URL("../../src/storage/filesystem.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { FileSystemStorage } from ${JSON.stringify(storageModule)};
const torrent = ${
        JSON.stringify({ ...fixture.torrent, infoHash: [], pieceHashes: [], infoBytes: [] })
      };
try {
  const storage = await new FileSystemStorage(${JSON.stringify(`${dir}/dl`)}).open(torrent);
  await storage.close();
  console.log("no error");
} catch (error) {
  console.log(error.name + ": " + error.message + " | flag=" + error.flag);
}
`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=${dir},${new URL("../../", import.meta.url).pathname}`,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.match(text, /PermissionError: .* needs --allow-write=.*\/dl/);
    assert.ok(text.includes(`flag=--allow-write=${dir}/dl`), text);
  });
});

Deno.test("read-only mode needs no write access and refuses writes", async () => {
  const fixture = makeTorrent([{ path: ["a"], content: patternBytes(1000, 17) }], 16 * KiB);
  await withTempDir(async (dir) => {
    await downloadAll(fixture, dir);
    const storage = await new FileSystemStorage(dir, { readOnly: true }).open(fixture.torrent);
    try {
      assert.deepEqual(await storage.read(0, 0, 1000), fixture.data);
      await assert.rejects(
        storage.write(0, 0, fixture.data),
        (caught: unknown) => caught instanceof StorageError && caught.kind === "read-only",
      );
    } finally {
      await storage.close();
    }
  });
});
