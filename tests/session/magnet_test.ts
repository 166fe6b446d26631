import assert from "node:assert/strict";
import {
  createTorrent,
  formatMagnet,
  MagnetError,
  MemoryStorage,
  Runtime,
  type Torrent,
} from "../../mod.ts";
import { payload, readAll, seededMemory, within } from "./helpers.ts";

/** A seeder runtime on 127.0.0.1 serving `torrent` from memory. */
async function seeder(torrent: Torrent, data: Uint8Array): Promise<Runtime> {
  const runtime = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  await runtime.add(torrent, { storage: await seededMemory(torrent, data) });
  return runtime;
}

Deno.test("magnet: a leecher given only the info hash and a peer fetches the metadata, then the data", async () => {
  const data = payload(600_000, 4);
  const { torrent } = await createTorrent({ name: "m.bin", data }, { pieceLength: 32768 });
  const seed = await seeder(torrent, data);
  const leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  try {
    const storage = new MemoryStorage();
    const magnet = formatMagnet({ infoHash: torrent.infoHash });
    const session = await leecher.add(magnet, {
      storage,
      peers: [{ host: "127.0.0.1", port: seed.port! }],
      start: false,
    });
    assert.throws(() => session.torrent, /metadata .* is not known yet/);
    const connected: string[] = [];
    session.events.on("peer-connected", ({ address }) => connected.push(address));
    const metadataEvent = session.events.once("metadata");
    session.start();
    const fetched = await within(session.metadata, 20_000, "metadata");
    assert.equal(fetched.infoHashHex, torrent.infoHashHex);
    assert.deepEqual(fetched.infoBytes, torrent.infoBytes);
    assert.equal((await metadataEvent).torrent, fetched);
    await within(session.completed, 30_000, "download");
    assert.deepEqual(await readAll(storage, fetched), data);
    // The same connection carried metadata and data: one connection to the seeder, ever.
    assert.equal(connected.length, 1);
    assert.equal(session.torrent.name, "m.bin");
  } finally {
    await leecher.close();
    await seed.close();
  }
});

Deno.test("magnet: bad links throw MagnetError naming the parameter, before anything starts", async () => {
  await using runtime = new Runtime({ listen: false });
  await assert.rejects(
    () => runtime.add("magnet:?xt=urn:btih:nothex&dn=x"),
    (error: unknown) => error instanceof MagnetError && /xt/.test(error.message),
  );
  assert.equal(runtime.sessions().length, 0);
});
