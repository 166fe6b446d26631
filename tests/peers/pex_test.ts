import assert from "node:assert/strict";
import {
  createTorrent,
  type HandshakeHandler,
  MemoryStorage,
  Runtime,
  type TorrentSession,
} from "../../mod.ts";
import { seededMemory } from "../session/helpers.ts";

const localhost = { hostname: "127.0.0.1", port: 0 };

function payload(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 7919) >>> 3);
}

function connectedTo(session: TorrentSession, address: string, ms: number): Promise<unknown> {
  if (session.peers().some((peer) => peer.address === address)) return Promise.resolve();
  return session.events.once(
    "peer-connected",
    (peer) => peer.address === address,
    AbortSignal.timeout(ms),
  )
    .catch(() => {
      throw new Error(
        `no connection to ${address} within ${ms} ms; peers: ${JSON.stringify(session.peers())}`,
      );
    });
}

Deno.test("pex: C knows only B and finds A through B's peer exchange", async () => {
  const data = payload(200_000);
  const { torrent } = await createTorrent({ name: "pex.bin", data }, { pieceLength: 16384 });
  const [a, b, c] = [0, 1, 2].map(() =>
    new Runtime({ maxConnectionsPerIp: 64, listen: localhost })
  );
  try {
    const pex = { intervalMs: 300 };
    await a.add(torrent, { storage: await seededMemory(torrent, data), pex });
    const sessionB = await b.add(torrent, {
      storage: new MemoryStorage(),
      pex,
      peers: [{ host: "127.0.0.1", port: a.port! }],
    });
    await connectedTo(sessionB, `127.0.0.1:${a.port}`, 10_000);
    const sessionC = await c.add(torrent, {
      storage: new MemoryStorage(),
      pex,
      peers: [{ host: "127.0.0.1", port: b.port! }],
    });
    await connectedTo(sessionC, `127.0.0.1:${a.port}`, 10_000);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

Deno.test("pex: a private torrent never advertises ut_pex, and completes from its peers", async () => {
  const data = payload(100_000);
  const { torrent } = await createTorrent({ name: "private.bin", data }, {
    pieceLength: 16384,
    private: true,
  });
  assert.equal(torrent.private, true);
  const advertised: string[][] = [];
  const spy: HandshakeHandler = {
    name: "spy",
    onRemoteExtendedHandshake(_context, handshake) {
      advertised.push([...handshake.m.keys()]);
    },
  };
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: localhost,
    handshakeHandlers: [spy],
  });
  const leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: localhost,
    handshakeHandlers: [spy],
  });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
      allowPrivatePeerSources: true,
    });
    assert.ok(!session.extensionNames.includes("ut_pex"));
    await session.completed;
    assert.equal(advertised.length, 2, "both sides exchanged extended handshakes");
    for (const names of advertised) assert.ok(!names.includes("ut_pex"), `advertised ${names}`);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});

Deno.test("private torrent: static peers are ignored unless explicitly allowed", async () => {
  const data = payload(50_000);
  const { torrent } = await createTorrent({ name: "private2.bin", data }, {
    pieceLength: 16384,
    private: true,
  });
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen: localhost });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    // With no tracker, nothing may be dialled: wait for a few ticks and check.
    await session.events.once("progress", () => true, AbortSignal.timeout(5000));
    await session.events.once("progress", () => true, AbortSignal.timeout(5000));
    assert.equal(session.peers().length, 0);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});
