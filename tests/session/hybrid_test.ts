/**
 * Hybrid torrents (BEP 52) between Bittern runtimes: one session reachable under its v1 and its
 * truncated v2 info hash (plain and MSE), a v1 connection speaking v2 when both set the v2 bit
 * (BEP 52's upgrade), peers of the v2 swarm dialled under the v2 hash, duplicates refused under
 * either hash, trackers told both.
 */
import assert from "node:assert/strict";
import {
  createTorrent,
  type HandshakeHandler,
  hasReservedBit,
  MemoryStorage,
  type MessagingAgent,
  PeerWire,
  ReservedBits,
  Runtime,
  toHex,
  type Torrent,
  TrackerServer,
  V2Extension,
} from "../../mod.ts";
import { payload, seededMemory, within } from "./helpers.ts";

const LISTEN = { hostname: "127.0.0.1", port: 0 };

async function hybrid(announce?: string): Promise<{ torrent: Torrent; data: Uint8Array }> {
  const data = payload(150_000, 52);
  const { torrent } = await createTorrent({ name: "hybrid.bin", data }, {
    format: "hybrid",
    pieceLength: 16384,
    announce: announce ? [announce] : undefined,
  });
  assert.equal(torrent.version, "hybrid");
  return { torrent, data };
}

function v2Of(torrent: Torrent): Uint8Array {
  return torrent.infoHashV2Truncated!;
}

/** What each handshake of a runtime asked for and answered with, as hex. */
function recorder(): { handler: HandshakeHandler; seen: { asked: string; answered: string }[] } {
  const seen: { asked: string; answered: string }[] = [];
  return {
    seen,
    handler: {
      name: "record",
      onRemoteHandshake(context, remote) {
        // Outgoing: we asked context.infoHash, the peer answered remote's. Incoming: reversed.
        seen.push(
          context.direction === "outgoing"
            ? { asked: toHex(context.infoHash), answered: toHex(remote.infoHash) }
            : { asked: toHex(remote.infoHash), answered: toHex(context.infoHash) },
        );
      },
    },
  };
}

/** A bare handshake with the runtime listening on `port`. */
async function handshake(
  port: number,
  infoHash: Uint8Array,
  options: { v2Bit?: boolean; answers?: Uint8Array[] } = {},
): Promise<PeerWire> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return await PeerWire.connect(conn, {
    infoHash,
    answerInfoHashes: options.answers,
    peerId: new TextEncoder().encode("-XX0001-hybridtest01"),
    handlers: options.v2Bit ? [new V2Extension()] : [],
  });
}

Deno.test("hybrid: one session under both info hashes; the v2 bit upgrades a v1 connection", async () => {
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen: LISTEN, dht: false });
  try {
    const { torrent, data } = await hybrid();
    const session = await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const port = seeder.port!;
    const v1 = torrent.infoHash;
    const v2 = v2Of(torrent);
    assert.equal(seeder.get(toHex(v2)), session);
    assert.equal(seeder.get(toHex(v1)), session);
    assert.equal(seeder.sessions().length, 1);

    // A v1-only peer: asked and answered under the v1 hash, no v2.
    const plain = await handshake(port, v1);
    assert.equal(toHex(plain.remote.infoHash), toHex(v1));
    assert.ok(hasReservedBit(plain.remote.reserved, ReservedBits.v2), "the seeder sets the v2 bit");
    assert.equal(plain.supportsV2, false);
    plain.close();
    // Under the truncated v2 hash: answered with it.
    const second = await handshake(port, v2, { v2Bit: true });
    assert.equal(toHex(second.remote.infoHash), toHex(v2));
    assert.equal(second.supportsV2, true);
    second.close();
    // Under the v1 hash with the v2 bit: answered under the v1 hash (as libtorrent 2.0.8), and
    // the connection speaks v2 (BEP 52's upgrade).
    const upgraded = await handshake(port, v1, { v2Bit: true, answers: [v2] });
    assert.equal(toHex(upgraded.remote.infoHash), toHex(v1));
    assert.equal(upgraded.supportsV2, true);
    upgraded.close();
    // An unknown info hash is refused.
    await assert.rejects(handshake(port, new Uint8Array(20).fill(7)), /closed|handshake/);
  } finally {
    await seeder.close();
  }
});

Deno.test("hybrid: a second add under either info hash is refused", async () => {
  const runtime = new Runtime({ listen: LISTEN, dht: false });
  try {
    const { torrent } = await hybrid();
    await runtime.add(torrent, { storage: new MemoryStorage(), start: false });
    await assert.rejects(runtime.add(torrent, { storage: new MemoryStorage() }), /already/);
    for (const hash of [torrent.infoHash, v2Of(torrent)]) {
      await assert.rejects(
        runtime.add(`magnet:?xt=urn:btih:${toHex(hash)}`, { storage: new MemoryStorage() }),
        /already/,
      );
    }
    assert.equal(runtime.sessions().length, 1);
  } finally {
    await runtime.close();
  }
});

Deno.test("hybrid: leechers download under the v1 hash and the v2 swarm's hash, plain and MSE", async () => {
  const seen = recorder();
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: LISTEN,
    dht: false,
    handshakeHandlers: [seen.handler],
  });
  const leechers = [0, 1, 2].map(() => new Runtime({ listen: LISTEN, dht: false }));
  // What the leechers' agents see: every connection speaks v2 (BEP 52).
  const v2: boolean[] = [];
  const agent: MessagingAgent = {
    name: "v2-probe",
    opened: (peer) => void v2.push(peer.v2 === true),
  };
  try {
    const { torrent, data } = await hybrid();
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const host = "127.0.0.1", port = seeder.port!;
    const runs = [
      { peers: [{ host, port }], encryption: "off" as const },
      { peers: [{ host, port, swarm: "v2" as const }], encryption: "off" as const },
      { peers: [{ host, port, swarm: "v2" as const }], encryption: "require" as const },
    ];
    const sessions = await Promise.all(
      runs.map((run, i) =>
        leechers[i].add(torrent, { ...run, agents: [agent], storage: new MemoryStorage() })
      ),
    );
    await within(Promise.all(sessions.map((s) => s.completed)), 30_000, "three downloads");
    const v1 = toHex(torrent.infoHash), v2Hex = toHex(v2Of(torrent));
    // Each connection is answered under the hash it asked for: the v1 peer's and the v2 swarm's.
    const asked = seen.seen.map((entry) => entry.asked);
    assert.ok(seen.seen.every((entry) => entry.answered === entry.asked), JSON.stringify(seen));
    assert.ok(asked.includes(v1), "a v1 handshake");
    assert.equal(asked.filter((hash) => hash === v2Hex).length, 2, "two v2 handshakes");
    assert.deepEqual(v2, [true, true, true]);
  } finally {
    await Promise.all([seeder.close(), ...leechers.map((l) => l.close())]);
  }
});

Deno.test("hybrid: the tracker is told both info hashes; peers of either swarm feed one pool", async () => {
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 60 });
  await tracker.start();
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen: LISTEN, dht: false });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: LISTEN, dht: false });
  try {
    const { torrent, data } = await hybrid(tracker.url);
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const session = await leecher.add(torrent, { storage: new MemoryStorage() });
    await within(session.completed, 20_000, "download via the tracker");
    assert.equal(tracker.peersOf(torrent.infoHash).length, 2);
    assert.equal(tracker.peersOf(v2Of(torrent)).length, 2);
    // The seeder, found in both swarms, is one candidate: one connection.
    assert.equal(session.peers().length, 1);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
    await tracker.close();
  }
});

Deno.test("hybrid: a magnet link's session is reachable under the v2 hash once the metadata shows a hybrid", async () => {
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen: LISTEN, dht: false });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: LISTEN, dht: false });
  try {
    const { torrent, data } = await hybrid();
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const v2Hex = toHex(v2Of(torrent));
    const session = await leecher.add(`magnet:?xt=urn:btih:${torrent.infoHashHex}`, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    assert.equal(leecher.get(v2Hex), undefined, "not known as a hybrid yet");
    await within(session.completed, 20_000, "download from the magnet link");
    assert.equal(leecher.get(v2Hex), session);
    // Now a peer reaches it under the v2 hash, and the v1 hash's handshake carries the v2 bit.
    const wire = await handshake(leecher.port!, v2Of(torrent), { v2Bit: true });
    assert.equal(wire.supportsV2, true);
    wire.close();
    const v1 = await handshake(leecher.port!, torrent.infoHash);
    assert.ok(hasReservedBit(v1.remote.reserved, ReservedBits.v2));
    v1.close();
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});

Deno.test("hybrid: a magnet link with both `xt`s holds both info hashes", async () => {
  const runtime = new Runtime({ listen: LISTEN, dht: false });
  try {
    const { torrent } = await hybrid();
    const link =
      `magnet:?xt=urn:btih:${torrent.infoHashHex}&xt=urn:btmh:1220${torrent.infoHashV2Hex}`;
    const session = await runtime.add(link, { storage: new MemoryStorage(), start: false });
    assert.equal(runtime.get(toHex(v2Of(torrent))), session);
    await assert.rejects(runtime.add(torrent, { storage: new MemoryStorage() }), /already/);
    await session.stop();
    assert.equal(runtime.get(toHex(v2Of(torrent))), undefined, "both keys go with the session");
  } finally {
    await runtime.close();
  }
});
