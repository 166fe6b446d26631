import assert from "node:assert/strict";
import {
  createTorrent,
  decodeMetadataMessage,
  encodeMetadataMessage,
  ExtensionProtocol,
  ExtensionRegistry,
  formatMagnet,
  MagnetError,
  MemoryStorage,
  METADATA_PIECE_SIZE,
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

Deno.test("magnet: haves sent before the metadata are held, then applied (a seeder that announces only by have)", async () => {
  const data = payload(200_000, 8);
  const { torrent } = await createTorrent({ name: "h.bin", data }, { pieceLength: 16384 });
  const registry = new ExtensionRegistry().register({
    name: "ut_metadata",
    encode: (bytes: Uint8Array) => bytes,
    decode: (bytes) => bytes,
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let havesSent = 0;
  // One connection: haves for every piece at once, then metadata and blocks on request.
  const serving = (async () => {
    const conn = await listener.accept();
    const wire = await PeerWire.accept(conn, {
      peerId: new TextEncoder().encode("-HV0001-000000000000"),
      handlers: [new ExtensionProtocol({ registry, metadataSize: torrent.infoBytes.length })],
      findTorrent: () => ({}),
    });
    try {
      for (let index = 0; index < torrent.pieceCount; index++) {
        await wire.send({ type: "have", index });
        havesSent++;
      }
      await wire.send({ type: "unchoke" });
      for await (const message of wire) {
        if (message.type === "request") {
          const start = message.index * torrent.pieceLength + message.begin;
          await wire.send({
            type: "piece",
            index: message.index,
            begin: message.begin,
            block: data.slice(start, start + message.length),
          });
        } else if (message.type === "extended" && message.id !== 0) {
          const decoded = wire.decodeExtended(message);
          if (decoded?.name !== "ut_metadata") continue;
          const request = decodeMetadataMessage(decoded.value as Uint8Array);
          if (request.type !== "request") continue;
          const begin = request.piece * METADATA_PIECE_SIZE;
          await wire.sendExtended(
            "ut_metadata",
            encodeMetadataMessage({
              type: "data",
              piece: request.piece,
              totalSize: torrent.infoBytes.length,
              bytes: torrent.infoBytes.subarray(begin, begin + METADATA_PIECE_SIZE),
            }),
          );
        }
      }
    } catch {
      /* the leecher closed the connection */
    } finally {
      wire.close();
    }
  })();
  // The fake seeder accepts one connection and speaks plain BitTorrent only.
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false, encryption: "off" });
  try {
    const storage = new MemoryStorage();
    const session = await leecher.add(formatMagnet({ infoHash: torrent.infoHash }), {
      storage,
      peers: [{ host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port }],
      seed: false,
    });
    const known = await within(session.metadata, 20_000, "metadata");
    await within(session.completed, 30_000, "download from a have-only seeder");
    assert.equal(havesSent, torrent.pieceCount);
    assert.deepEqual(await readAll(storage, known), data);
  } finally {
    await leecher.close();
    listener.close();
    await within(serving, 10_000, "the seeder's end");
  }
});
