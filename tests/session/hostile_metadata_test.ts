/**
 * Hostile peers in a magnet link's metadata phase: one serving metadata with a flipped
 * byte, one announcing a 2 GiB `metadata_size`, one rejecting every request. Each is
 * the only peer until it has done its worst; then an honest seeder is offered, and the
 * download must complete from it, byte-exact, with the honest peer never banned.
 */
import assert from "node:assert/strict";
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  ExtensionProtocol,
  ExtensionRegistry,
  formatMagnet,
  MemoryStorage,
  METADATA_PIECE_SIZE,
  PeerWire,
  Runtime,
  type Torrent,
} from "../../mod.ts";
import { payload, readAll, seededMemory, within } from "./helpers.ts";

type Behaviour = "flipped" | "huge" | "rejecting";

/** What a hostile metadata peer did. */
interface Counts {
  connections: number;
  requests: number;
  dataSent: number;
  rejectsSent: number;
}

/**
 * A listener that speaks BEP 10 with `ut_metadata` for `torrent` and misbehaves about
 * the metadata; it claims no pieces. Every connection ends when the other side closes
 * it or `close()` runs.
 */
function hostileMetadataPeer(torrent: Torrent, behaviour: Behaviour) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counts: Counts = { connections: 0, requests: 0, dataSent: 0, rejectsSent: 0 };
  const wires = new Set<PeerWire>();
  const registry = new ExtensionRegistry().register({
    name: "ut_metadata",
    encode: (payload: Uint8Array) => payload,
    decode: (payload) => payload,
  });
  const info = torrent.infoBytes.slice();
  info[Math.floor(info.length / 2)] ^= 0x01;
  const announced = behaviour === "huge" ? 2 * 1024 * 1024 * 1024 : info.length;
  const tasks = new Set<Promise<void>>();
  const serve = async (conn: Deno.TcpConn) => {
    const wire = await PeerWire.accept(conn, {
      peerId: new TextEncoder().encode(`-HM0001-${behaviour}`.padEnd(20, "-").slice(0, 20)),
      handlers: [new ExtensionProtocol({ registry, metadataSize: announced })],
      findTorrent: () => ({}),
    });
    wires.add(wire);
    try {
      for await (const message of wire) {
        if (message.type !== "extended" || message.id === 0) continue;
        const decoded = wire.decodeExtended(message);
        if (decoded?.name !== "ut_metadata") continue;
        const request = decodeMetadataMessage(decoded.value as Uint8Array);
        if (request.type !== "request") continue;
        counts.requests++;
        if (behaviour === "flipped") {
          const begin = request.piece * METADATA_PIECE_SIZE;
          counts.dataSent++;
          await wire.sendExtended(
            "ut_metadata",
            encodeMetadataMessage({
              type: "data",
              piece: request.piece,
              totalSize: info.length,
              bytes: info.subarray(begin, begin + METADATA_PIECE_SIZE),
            }),
          );
        } else {
          counts.rejectsSent++;
          await wire.sendExtended(
            "ut_metadata",
            encodeMetadataMessage({ type: "reject", piece: request.piece }),
          );
        }
      }
    } catch {
      /* closed by the other side, or by close() */
    } finally {
      wires.delete(wire);
      wire.close();
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        counts.connections++;
        const task = serve(conn).catch(() => {});
        tasks.add(task);
        void task.finally(() => tasks.delete(task));
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    counts,
    async close() {
      listener.close();
      for (const wire of wires) wire.close();
      await within(Promise.all([accepting, ...tasks]), 10_000, "closing the hostile peer");
    },
  };
}

/** Resolves when `test` holds, checking every 20 ms; rejects after `ms`. */
async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function hostileThenHonest(
  behaviour: Behaviour,
  hostileDone: (counts: Counts) => boolean,
  check: (events: { banned: string[]; hostile: string; counts: Counts }) => void,
  options: { maxHashFailures?: number } = {},
) {
  // Several metadata pieces (long file names), so assembly spans pieces.
  const files = Array.from({ length: 300 }, (_, i) => ({
    path: [`${"a-rather-long-directory-name-".repeat(4)}${i}`, `file-${i}.bin`],
    data: payload(2000 + i, i + 1),
  }));
  const { createTorrent } = await import("../../mod.ts");
  const { torrent } = await createTorrent({ name: "hostile-metadata", files }, {
    pieceLength: 16384,
  });
  assert.ok(torrent.infoBytes.length > 2 * METADATA_PIECE_SIZE, "metadata of several pieces");
  const data = new Uint8Array(torrent.length);
  let at = 0;
  for (const file of files) {
    data.set(file.data, at);
    at += file.data.length;
  }
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  const leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  const hostile = hostileMetadataPeer(torrent, behaviour);
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    const session = await leecher.add(
      formatMagnet({
        infoHash: torrent.infoHash,
        peers: [{ host: "127.0.0.1", port: hostile.port }],
      }),
      { storage, start: false, maxHashFailures: options.maxHashFailures },
    );
    const banned: string[] = [];
    session.events.on("peer-banned", ({ address }) => banned.push(address));
    session.start();
    await until(() => hostileDone(hostile.counts), 15_000, `the ${behaviour} peer at work`);
    session.addPeers([{ host: "127.0.0.1", port: seeder.port! }]);
    const torrentKnown = await within(session.metadata, 20_000, "metadata");
    assert.equal(torrentKnown.infoHashHex, torrent.infoHashHex);
    await within(session.completed, 30_000, "download");
    assert.deepEqual(await readAll(storage, torrentKnown), data);
    assert.ok(!banned.includes(`127.0.0.1:${seeder.port}`), "the honest seeder is never banned");
    check({ banned, hostile: `127.0.0.1:${hostile.port}`, counts: hostile.counts });
  } finally {
    await leecher.close();
    await seeder.close();
    await hostile.close();
  }
}

Deno.test("magnet, hostile: metadata with one flipped byte is discarded, its sender banned; the honest peer's is used", async () => {
  await hostileThenHonest(
    "flipped",
    // Every piece of the (wrong) metadata was sent.
    (counts) => counts.dataSent >= 3,
    ({ banned, hostile }) => assert.deepEqual(banned, [hostile]),
    { maxHashFailures: 1 },
  );
});

Deno.test("magnet, hostile: a peer announcing a 2 GiB metadata_size is never asked for metadata", async () => {
  await hostileThenHonest(
    "huge",
    (counts) => counts.connections >= 1,
    ({ counts }) => assert.equal(counts.requests, 0),
  );
});

Deno.test("magnet, hostile: a peer rejecting every metadata request does not stop the download", async () => {
  await hostileThenHonest(
    "rejecting",
    (counts) => counts.rejectsSent >= 3,
    ({ banned }) => assert.deepEqual(banned, [], "rejecting is allowed: nobody banned"),
  );
});
