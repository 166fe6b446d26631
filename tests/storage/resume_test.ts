import assert from "node:assert/strict";
import { encode } from "../../src/bencode/encode.ts";
import { FileSystemStorage } from "../../src/storage/filesystem.ts";
import { PieceStore } from "../../src/storage/piece_store.ts";
import { loadResume, saveResume } from "../../src/storage/resume.ts";
import { Bitfield } from "../../src/util/bitfield.ts";
import { makeTorrent, patternBytes, pieceBytes, withTempDir } from "./fixture.ts";
import { COMPLETE_BEFORE_KILL, IN_FLIGHT_AT_KILL, killFixture } from "./kill_download.ts";

const fixture = makeTorrent(
  [{ path: ["a"], content: patternBytes(100_000, 31) }, {
    path: ["b"],
    content: patternBytes(60_000, 32),
  }],
  32 * 1024,
);

async function downloadEverything(dir: string, resumePath: string): Promise<void> {
  const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(dir), { resumePath });
  try {
    for (let piece = 0; piece < fixture.torrent.pieceCount; piece++) {
      const bytes = pieceBytes(fixture, piece);
      for (const { offset, length } of store.missingBlocks(piece)) {
        await store.writeBlock(piece, offset, bytes.subarray(offset, offset + length));
      }
    }
  } finally {
    await store.close();
  }
}

Deno.test("resume file round trip skips the recheck, atomically written", async () => {
  await withTempDir(async (dir) => {
    const resumePath = `${dir}/state.resume`;
    await downloadEverything(`${dir}/data`, resumePath);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "data",
      "state.resume",
    ]);
    const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(`${dir}/data`), {
      resumePath,
    });
    try {
      assert.equal(store.restoredFrom, "resume-file", store.resumeRejection);
      assert.ok(store.complete);
    } finally {
      await store.close();
    }
  });
});

Deno.test("tampered, stale or foreign resume files are ignored with a reason", async () => {
  await withTempDir(async (dir) => {
    const data = `${dir}/data`;
    const resumePath = `${dir}/state.resume`;
    await downloadEverything(data, resumePath);
    const good = await Deno.readFile(resumePath);
    const storage = await new FileSystemStorage(data).open(fixture.torrent);
    const stats = await storage.fileStats();
    await storage.close();
    assert.equal((await loadResume(resumePath, fixture.torrent, stats)).ok, true);

    const cases: [string, Uint8Array | (() => Promise<void>), RegExp][] = [
      ["garbage", new TextEncoder().encode("not bencode at all"), /not valid bencode/],
      ["not a dict", encode([1, 2]), /not a dictionary/],
      ["truncated", good.subarray(0, good.length - 3), /not valid bencode/],
      ["huge", new Uint8Array(1 << 20), /more than/],
      [
        "spare bits",
        encode({
          "bittern-resume": 1,
          "info-hash": fixture.torrent.infoHash,
          "piece-count": fixture.torrent.pieceCount,
          "pieces": new Uint8Array([0xff]),
          "files": [],
        }),
        /spare bits/,
      ],
      [
        "negative size",
        encode({
          "bittern-resume": 1,
          "info-hash": fixture.torrent.infoHash,
          "piece-count": fixture.torrent.pieceCount,
          "pieces": new Uint8Array([0xf8]),
          "files": [[-1, 0], [1, 2]],
        }),
        /malformed/,
      ],
    ];
    for (const [name, content, reason] of cases) {
      await Deno.writeFile(resumePath, content as Uint8Array);
      const result = await loadResume(resumePath, fixture.torrent, stats);
      assert.equal(result.ok, false, name);
      assert.match(result.ok ? "" : result.reason, reason, name);
    }

    const other = makeTorrent([{ path: ["a"], content: patternBytes(100, 1) }], 32 * 1024);
    await Deno.writeFile(resumePath, good);
    const foreign = await loadResume(resumePath, other.torrent, stats);
    assert.ok(!foreign.ok && /another torrent/.test(foreign.reason));

    // A data file changed after the resume file was written: size/mtime no longer match.
    await Deno.utime(`${data}/fixture/b`, new Date(), new Date(Date.now() - 86_400_000));
    const store = await PieceStore.open(fixture.torrent, new FileSystemStorage(data), {
      resumePath,
    });
    try {
      assert.equal(store.restoredFrom, "recheck");
      assert.match(store.resumeRejection ?? "", /fixture\/b changed/);
      assert.ok(store.complete);
    } finally {
      await store.close(); // writes a fresh resume file
    }

    // Content changed but mtime restored: the spot check of claimed pieces catches it.
    const before = await Deno.stat(`${data}/fixture/a`);
    const file = await Deno.open(`${data}/fixture/a`, { write: true });
    await file.write(new Uint8Array([fixture.data[0] ^ 1]));
    file.close();
    await Deno.utime(`${data}/fixture/a`, before.atime ?? new Date(), before.mtime ?? new Date());
    const spotted = await PieceStore.open(fixture.torrent, new FileSystemStorage(data), {
      resumePath,
    });
    try {
      assert.equal(spotted.restoredFrom, "recheck");
      assert.match(spotted.resumeRejection ?? "", /piece 0 .* fails its hash/);
      assert.equal(spotted.verified.get(0), false);
    } finally {
      await spotted.close();
    }
  });
});

Deno.test("saveResume leaves no temp file behind and replaces the old file", async () => {
  await withTempDir(async (dir) => {
    const bits = new Bitfield(fixture.torrent.pieceCount);
    bits.set(1);
    await saveResume(`${dir}/r`, fixture.torrent, {
      verified: bits,
      files: [undefined, undefined],
    });
    bits.set(2);
    await saveResume(`${dir}/r`, fixture.torrent, {
      verified: bits,
      files: [undefined, undefined],
    });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["r"]);
    const loaded = await loadResume(`${dir}/r`, fixture.torrent, [undefined, undefined]);
    assert.ok(loaded.ok);
    assert.deepEqual([...loaded.state.verified.indices()], [1, 2]);
  });
});

Deno.test("SIGKILL mid-download: the restart completes and re-downloads only in-flight pieces", async () => {
  const killed = killFixture();
  await withTempDir(async (dir) => {
    const data = `${dir}/data`;
    const resumePath = `${dir}/state.resume`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        new URL("./kill_download.ts", import.meta.url).pathname,
        data,
        resumePath,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let line = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      // Bounded by the child: it prints "ready" once, or exits (done = true).
      while (!line.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        line += value;
      }
      assert.equal(line.trim(), `ready ${COMPLETE_BEFORE_KILL}`);
      child.kill("SIGKILL");
    } finally {
      await reader.cancel();
      await child.stdin.close().catch(() => undefined);
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
    }

    let writes = 0;
    const store = await PieceStore.open(killed.torrent, new FileSystemStorage(data), {
      resumePath,
    });
    try {
      assert.equal(store.restoredFrom, "recheck", "the stale resume file is not trusted");
      assert.match(store.resumeRejection ?? "", /changed since/);
      assert.deepEqual([...store.verified.indices()], [...Array(COMPLETE_BEFORE_KILL).keys()]);
      const redownloaded = new Set<number>();
      for (let piece = 0; piece < killed.torrent.pieceCount; piece++) {
        const bytes = pieceBytes(killed, piece);
        for (const { offset, length } of store.missingBlocks(piece)) {
          writes++;
          redownloaded.add(piece);
          await store.writeBlock(piece, offset, bytes.subarray(offset, offset + length));
        }
      }
      assert.ok(store.complete);
      const fresh = killed.torrent.pieceCount - COMPLETE_BEFORE_KILL - IN_FLIGHT_AT_KILL;
      assert.equal(redownloaded.size, fresh + IN_FLIGHT_AT_KILL, "only unverified pieces fetched");
      assert.ok(writes > 0);
    } finally {
      await store.close();
    }
    assert.deepEqual(
      await Deno.readFile(`${data}/fixture/one.bin`),
      killed.data.subarray(0, 1_500_000),
    );
    assert.deepEqual(
      await Deno.readFile(`${data}/fixture/sub/two.bin`),
      killed.data.subarray(1_500_000),
    );
    const again = await PieceStore.open(killed.torrent, new FileSystemStorage(data), {
      resumePath,
    });
    try {
      assert.equal(again.restoredFrom, "resume-file");
      assert.ok(again.complete);
    } finally {
      await again.close();
    }
  });
});
