/**
 * BEP 6's allowed-fast set is drawn from the info hash the connection was made under (as
 * libtorrent does): a hybrid's peer in the v2 swarm gets the set of the truncated v2 hash.
 */
import assert from "node:assert/strict";
import { allowedFastAddress, allowedFastSet, createTorrent } from "../../mod.ts";
import { uploadAgent } from "../../src/session/agents/upload.ts";
import { FakePeer, FakeSession } from "./fakes.ts";
import { payload } from "./helpers.ts";

class FastPeer extends FakePeer {
  override fast = true;
  override peerInterested = true;
  readonly offered: number[] = [];
  constructor(pieceCount: number, readonly infoHash?: Uint8Array) {
    super("10.1.2.3", 6881, pieceCount);
  }
  override allowFast(...args: number[]): void {
    this.offered.push(args[0]);
  }
}

Deno.test("upload agent: the allowed-fast set follows the connection's info hash", async () => {
  const { torrent } = await createTorrent(
    { name: "h.bin", data: payload(64 * 16384, 3) },
    { pieceLength: 16384, format: "hybrid" },
  );
  const session = new FakeSession(torrent);
  for (let piece = 0; piece < torrent.pieceCount; piece++) session.verified.set(piece);
  const agent = uploadAgent({ maxQueuedBytes: 1 << 20 });
  agent.attach!(session);
  const setFor = (infoHash: Uint8Array) =>
    allowedFastSet({
      address: allowedFastAddress("10.1.2.3")!,
      infoHash,
      pieceCount: torrent.pieceCount,
      size: 10,
    });
  const v2 = new FastPeer(torrent.pieceCount, torrent.infoHashV2Truncated);
  const v1 = new FastPeer(torrent.pieceCount, torrent.infoHash);
  const unnamed = new FastPeer(torrent.pieceCount);
  for (const peer of [v2, v1, unnamed]) agent.produce!(peer);
  assert.deepEqual(v2.offered, setFor(torrent.infoHashV2Truncated!));
  assert.deepEqual(v1.offered, setFor(torrent.infoHash));
  assert.deepEqual(unnamed.offered, setFor(torrent.infoHash));
  assert.notDeepEqual(v2.offered, v1.offered, "the two hashes draw different sets");
});
