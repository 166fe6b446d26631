import assert from "node:assert/strict";
import {
  createTorrent,
  ExtensionProtocol,
  formatMagnet,
  MagnetError,
  MemoryStorage,
  PeerWire,
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

Deno.test("magnet: a public torrent advertises ut_metadata and metadata_size; a private one neither", async () => {
  for (const isPrivate of [false, true]) {
    const data = payload(100_000, 5);
    const { torrent } = await createTorrent({ name: "p.bin", data }, {
      pieceLength: 16384,
      private: isPrivate,
    });
    const seed = await seeder(torrent, data);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seed.port! });
      const wire = await PeerWire.connect(conn, {
        infoHash: torrent.infoHash,
        peerId: new TextEncoder().encode("-XX0001-000000000000"),
        handlers: [new ExtensionProtocol()],
      });
      try {
        // The handshake is applied as messages are read.
        const reading = (async () => {
          for await (const message of wire) {
            if (message.type === "extended" && message.id === 0) return;
          }
        })();
        await within(reading, 5000, "extended handshake");
        const handshake = await wire.extendedHandshake;
        assert.ok(handshake);
        assert.equal(handshake.m.has("ut_metadata"), !isPrivate);
        assert.equal(handshake.metadataSize, isPrivate ? undefined : torrent.infoBytes.length);
      } finally {
        wire.close();
      }
    } finally {
      await seed.close();
    }
  }
});

Deno.test("magnet: the info hash is reserved at once; a session without peers stalls, then stops cleanly", async () => {
  const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
  try {
    const data = payload(50_000, 6);
    const { torrent } = await createTorrent({ name: "r.bin", data }, { pieceLength: 16384 });
    const magnet = formatMagnet({ infoHash: torrent.infoHash, name: "r.bin" });
    const [first, second] = await Promise.allSettled([
      runtime.add(magnet, { storage: new MemoryStorage(), start: false }),
      runtime.add(magnet, { storage: new MemoryStorage() }),
    ]);
    assert.equal(first.status, "fulfilled");
    assert.equal(second.status, "rejected");
    assert.match(String(second.reason), /already in this runtime/);
    await assert.rejects(() => runtime.add(torrent), /already in this runtime/);
    const session = first.value;
    assert.equal(runtime.get(torrent.infoHashHex), session);
    const stalled = session.events.once("stalled");
    const progress = session.events.once("metadata-progress");
    session.start();
    assert.match((await within(stalled, 5000, "stalled")).reason, /no peers/);
    assert.equal((await within(progress, 5000, "metadata-progress")).peers, 0);
    assert.equal(session.stats().progress, 0, "nothing known is not complete");
    const stopped = session.events.once("stopped");
    await runtime.close();
    assert.equal((await within(stopped, 5000, "stopped")).reason, "runtime closed");
    await assert.rejects(session.completed, /before its metadata arrived/);
    await assert.rejects(session.metadata, /before its metadata arrived/);
  } finally {
    await runtime.close();
  }
});
