/**
 * `verifyPayload` reads pieces back through each leecher's own storage: a back-end that keeps
 * its bytes per `open` (like the README's) passes, one that misplaces writes fails, although
 * `allComplete` passes for both (pieces verify as they stream in).
 */
import assert from "node:assert/strict";
import type { Storage, Torrent, TorrentStorage } from "../../mod.ts";
import { createSwarm, SwarmError } from "../../src/testing/mod.ts";

const payload = { size: 256 * 1024, files: 2, pieceLength: 32768, seed: 5 };

/** Pieces in a Map made at `open`; `misplace` moves writes at one offset of one piece. */
class MapStorage implements Storage {
  constructor(readonly misplace?: { piece: number; offset: number }) {}
  open(torrent: Torrent): Promise<TorrentStorage> {
    const pieces = new Map<number, Uint8Array>();
    const piece = (index: number) => {
      let bytes = pieces.get(index);
      if (!bytes) pieces.set(index, bytes = new Uint8Array(torrent.pieceLength));
      return bytes;
    };
    return Promise.resolve({
      read: (index, offset, length) => Promise.resolve(piece(index).slice(offset, offset + length)),
      write: (index, offset, data) => {
        const wrong = this.misplace?.piece === index && this.misplace.offset === offset;
        // A seek-then-write race in miniature: the block lands 1 byte off.
        piece(index).set(data.subarray(0, data.length - (wrong ? 1 : 0)), offset + (wrong ? 1 : 0));
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

Deno.test("swarm verifyPayload: a storage that keeps its bytes per open is read where it wrote", async () => {
  await using swarm = await createSwarm({
    seeders: 1,
    leechers: 1,
    payload,
    peer: (role) => role === "leecher" ? { storage: new MapStorage() } : {},
  });
  await swarm.start();
  await swarm.allComplete({ timeoutMs: 30_000 });
  await swarm.verifyPayload();
});

Deno.test("swarm verifyPayload: a storage that misplaces a write fails, naming the piece", async () => {
  await using swarm = await createSwarm({
    seeders: 1,
    leechers: 1,
    payload,
    peer: (role) =>
      role === "leecher" ? { storage: new MapStorage({ piece: 3, offset: 16384 }) } : {},
  });
  await swarm.start();
  await swarm.allComplete({ timeoutMs: 30_000 });
  await assert.rejects(
    swarm.verifyPayload(),
    (error: Error) =>
      error instanceof SwarmError &&
      /leecher-0 has wrong bytes in piece 3 at offset 16384/.test(error.message),
  );
});
