import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, FileSystemStorage, Runtime } from "../../mod.ts";

function payload(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

Deno.test("session: a leecher downloads a multi-file torrent from a seeder, byte-exact", async () => {
  const seedDir = await Deno.makeTempDir();
  const leechDir = await Deno.makeTempDir();
  const files = [
    { path: ["a.bin"], data: payload(700_000, 1) },
    { path: ["sub", "b.bin"], data: payload(33_333, 2) },
    { path: ["sub", "empty.txt"], data: new Uint8Array(0) },
    { path: ["c.bin"], data: payload(1_200_001, 3) },
  ];
  const { torrent } = await createTorrent({ name: "multi", files }, { pieceLength: 32768 });
  for (const file of files) {
    const path = join(seedDir, "multi", ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  const leecher = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  try {
    const seed = await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
    assert.equal(seed.stats().progress, 1);
    const session = await leecher.add(torrent, {
      out: leechDir,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    const stats = await Promise.race([
      session.completed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), 30_000)),
    ]);
    assert.equal(stats.progress, 1);
    for (const file of files) {
      const got = await Deno.readFile(join(leechDir, "multi", ...file.path));
      assert.deepEqual(got, file.data, file.path.join("/"));
    }
  } finally {
    await leecher.close();
    await seeder.close();
    await Deno.remove(seedDir, { recursive: true });
    await Deno.remove(leechDir, { recursive: true });
  }
});
