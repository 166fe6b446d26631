/**
 * Hostile peers in a btmh magnet's piece-layer fetch (BEP 52), on real sockets: each is a
 * Bittern runtime made to misbehave (a tampered piece layer, so its `hashes` do not lead to
 * the file's root; an agent sending `hashes` nobody asked for; an agent sending a malformed
 * `hash request`). Each is dropped; the download completes from the honest seeder.
 */
import assert from "node:assert/strict";
import {
  createTorrent,
  formatMagnet,
  MemoryStorage,
  type MessagingAgent,
  Runtime,
  type Torrent,
} from "../../mod.ts";
import { payload, within } from "./helpers.ts";

const PIECE = 16384;

async function seeded(torrent: Torrent, data: Uint8Array): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const opened = await storage.open(torrent);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    await opened.write(piece, 0, data.subarray(piece * PIECE, (piece + 1) * PIECE));
  }
  await opened.close();
  return storage;
}

function runtime(): Runtime {
  return new Runtime({ maxConnectionsPerIp: 64, listen: { hostname: "127.0.0.1", port: 0 } });
}

Deno.test("hostile hashes: a wrong proof, unasked hashes and a malformed request drop their senders; the honest seeder completes it", async () => {
  const data = payload(600 * PIECE - 123, 21);
  const { torrent } = await createTorrent({ name: "h.bin", data }, {
    pieceLength: PIECE,
    format: "v2",
  });
  const root = torrent.files[0].piecesRoot!;
  const tampered = torrent.files[0].pieceLayer!.slice();
  for (let at = 0; at < tampered.length; at += 32) tampered[at] ^= 0xff;
  const liar: Torrent = {
    ...torrent,
    files: torrent.files.map((file, i) => i === 0 ? { ...file, pieceLayer: tampered } : file),
  };
  const unasked: MessagingAgent = {
    name: "unasked-hashes",
    connected: (peer) =>
      peer.send({
        type: "hashes",
        piecesRoot: root,
        baseLayer: 0,
        index: 0,
        length: 2,
        proofLayers: 0,
        hashes: new Uint8Array(64),
        proof: new Uint8Array(0),
      }),
  };
  const malformed: MessagingAgent = {
    name: "malformed-request",
    // A length of 3 is no power of two: the codec refuses it before any agent sees it.
    connected: (peer) =>
      peer.send({
        type: "hash-request",
        piecesRoot: root,
        baseLayer: 0,
        index: 0,
        length: 3,
        proofLayers: 0,
      }),
  };
  const cases: [string, Torrent, MessagingAgent[], RegExp][] = [
    ["hashes that do not lead to the root", liar, [], /hashes that do not lead to the pieces root/],
    ["unasked hashes", torrent, [unasked], /hashes it was not asked for/],
    ["a malformed hash request", torrent, [malformed], /hash-request message with a length of 3/],
  ];
  const honest = runtime();
  try {
    await honest.add(torrent, { storage: await seeded(torrent, data) });
    for (const [name, served, agents, reason] of cases) {
      const hostile = runtime();
      const leecher = runtime();
      try {
        await hostile.add(served, { storage: await seeded(torrent, data), agents });
        const storage = new MemoryStorage();
        const session = await leecher.add(formatMagnet({ infoHashV2: torrent.infoHashV2! }), {
          storage,
          peers: [{ host: "127.0.0.1", port: hostile.port! }],
          start: false,
        });
        const address = `127.0.0.1:${hostile.port}`;
        const dropped = new Promise<string>((resolve) =>
          session.events.on("peer-disconnected", (event) => {
            if (event.address === address) resolve(event.reason);
          })
        );
        session.start();
        assert.match(await within(dropped, 30_000, `${name}: dropped`), reason, name);
        // Only now the honest seeder: the hostile one never gave a layer that got in.
        session.addPeers([{ host: "127.0.0.1", port: honest.port! }]);
        const fetched = await within(session.metadata, 30_000, `${name}: piece layers`);
        assert.deepEqual(fetched.files[0].pieceLayer, torrent.files[0].pieceLayer, name);
        await within(session.completed, 60_000, `${name}: download`);
        const opened = await storage.open(fetched);
        for (let piece = 0; piece < fetched.pieceCount; piece += 97) {
          const length = Math.min(PIECE, data.length - piece * PIECE);
          assert.deepEqual(
            await opened.read(piece, 0, length),
            data.subarray(piece * PIECE, piece * PIECE + length),
            name,
          );
        }
        await opened.close();
      } finally {
        await leecher.close();
        await hostile.close();
      }
    }
  } finally {
    await honest.close();
  }
});
