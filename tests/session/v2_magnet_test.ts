/**
 * BEP 52 magnet links (`btmh`) between Bittern runtimes on real sockets: the leecher learns
 * the info dictionary (checked by SHA-256), fetches the files' piece layers by `hash request`
 * (proved to each file's `pieces root`), then the data.
 */
import assert from "node:assert/strict";
import {
  createTorrent,
  formatMagnet,
  MemoryStorage,
  parseTorrent,
  Runtime,
  type Torrent,
  type TorrentFile,
} from "../../mod.ts";
import { payload, seededMemory, within } from "./helpers.ts";

/** The torrent's byte stream: files in order, BEP 47 pad files as zeros. */
function streamOf(torrent: Torrent, contents: Map<string, Uint8Array>): Uint8Array {
  const out = new Uint8Array(torrent.length);
  for (const file of torrent.files) {
    if (file.padding) continue;
    out.set(contents.get(file.path.join("/"))!, file.offset);
  }
  return out;
}

async function readStream(storage: MemoryStorage, torrent: Torrent): Promise<Uint8Array> {
  const opened = await storage.open(torrent);
  const out = new Uint8Array(torrent.length);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    const start = piece * torrent.pieceLength;
    out.set(
      await opened.read(piece, 0, Math.min(torrent.pieceLength, torrent.length - start)),
      start,
    );
  }
  await opened.close();
  return out;
}

/** A torrent of three files: 700 pieces (two hash requests, with uncles), 3, and 1. */
async function fixture(format: "hybrid" | "v2" = "hybrid") {
  const contents = new Map<string, Uint8Array>([
    ["set/big.bin", payload(700 * 16384 - 1000, 3)],
    ["set/mid.bin", payload(40_000, 4)],
    ["set/small.txt", payload(5_000, 5)],
  ]);
  const { torrent } = await createTorrent({
    name: "set",
    files: [...contents].map(([path, data]) => ({ path: path.split("/").slice(1), data })),
  }, { pieceLength: 16384, format });
  return { torrent, stream: streamOf(torrent, contents) };
}

function runtime(): Runtime {
  return new Runtime({ maxConnectionsPerIp: 64, listen: { hostname: "127.0.0.1", port: 0 } });
}

const layers = (torrent: Torrent) =>
  torrent.files.map((file: TorrentFile) => file.pieceLayer && [...file.pieceLayer]);

Deno.test("btmh+btih magnet: piece layers come by hash request, then the data; the torrent has them", async () => {
  const { torrent, stream } = await fixture();
  assert.equal(torrent.version, "hybrid");
  const seed = runtime();
  const leecher = runtime();
  try {
    await seed.add(torrent, { storage: await seededMemory(torrent, stream) });
    const storage = new MemoryStorage();
    const magnet = formatMagnet({ infoHash: torrent.infoHash, infoHashV2: torrent.infoHashV2 });
    assert.match(magnet, /btmh/);
    const session = await leecher.add(magnet, {
      storage,
      peers: [{ host: "127.0.0.1", port: seed.port! }],
    });
    const fetched = await within(session.metadata, 30_000, "metadata and piece layers");
    assert.deepEqual(fetched.infoBytes, torrent.infoBytes);
    assert.deepEqual(layers(fetched), layers(torrent));
    assert.ok(fetched.files.some((file) => file.pieceLayer && file.pieceLayer.length > 512 * 32));
    await within(session.completed, 60_000, "download");
    assert.deepEqual(await readStream(storage, fetched), stream);
  } finally {
    await leecher.close();
    await seed.close();
  }
});

Deno.test("v2-only btmh magnet: info by SHA-256, piece layers by hash request, data verified by merkle", async () => {
  const { torrent, stream } = await fixture("v2");
  assert.equal(torrent.version, 2);
  const seed = runtime();
  const leecher = runtime();
  try {
    await seed.add(torrent, { storage: await seededMemory(torrent, stream) });
    const storage = new MemoryStorage();
    const magnet = formatMagnet({ infoHashV2: torrent.infoHashV2! });
    assert.doesNotMatch(magnet, /btih/);
    const session = await leecher.add(magnet, {
      storage,
      peers: [{ host: "127.0.0.1", port: seed.port! }],
    });
    const fetched = await within(session.metadata, 30_000, "metadata and piece layers");
    assert.equal(fetched.version, 2);
    assert.equal(fetched.infoHashV2Hex, torrent.infoHashV2Hex);
    assert.deepEqual(layers(fetched), layers(torrent));
    await within(session.completed, 60_000, "download");
    assert.deepEqual(await readStream(storage, fetched), stream);
  } finally {
    await leecher.close();
    await seed.close();
  }
});

Deno.test("a btmh-only link finds a hybrid seeder under its truncated v2 hash", async () => {
  const { torrent, stream } = await fixture();
  const seed = runtime();
  const leecher = runtime();
  try {
    await seed.add(torrent, { storage: await seededMemory(torrent, stream) });
    const storage = new MemoryStorage();
    const session = await leecher.add(formatMagnet({ infoHashV2: torrent.infoHashV2! }), {
      storage,
      peers: [{ host: "127.0.0.1", port: seed.port! }],
    });
    const fetched = await within(session.metadata, 30_000, "metadata and piece layers");
    assert.equal(fetched.version, "hybrid");
    await within(session.completed, 60_000, "download");
    assert.deepEqual(await readStream(storage, fetched), stream);
  } finally {
    await leecher.close();
    await seed.close();
  }
});

Deno.test("metainfoFromInfo with piece layers gives back the .torrent's layers", async () => {
  const { torrent } = await fixture();
  const { metainfoFromInfo } = await import("../../mod.ts");
  const pieceLayers = torrent.files.flatMap((file) =>
    file.pieceLayer && file.piecesRoot ? [{ root: file.piecesRoot, layer: file.pieceLayer }] : []
  );
  const reparsed = parseTorrent(metainfoFromInfo(torrent.infoBytes, { pieceLayers }));
  assert.deepEqual(layers(reparsed), layers(torrent));
  assert.equal(reparsed.infoHashHex, torrent.infoHashHex);
});
