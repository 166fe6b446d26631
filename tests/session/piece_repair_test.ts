/**
 * PieceRepair: a failed v2 piece's leaf hashes are asked of one v2 peer that has the piece;
 * proven answers are accepted, lies are not, and a reject, a timeout or a drop moves the
 * request on until no peer is left (then the caller refetches the whole piece).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createTorrent, type HashesMessage, type HashRequestMessage } from "../../mod.ts";
import { PieceRepair } from "../../src/session/piece_repair.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { FakePeer } from "./fakes.ts";
import { payload } from "./helpers.ts";

const PIECE = 65536; // four leaves per piece

class V2Peer extends FakePeer {
  constructor(host: string, pieceCount: number, readonly v2 = true) {
    super(host, 6881, pieceCount);
    for (let piece = 0; piece < pieceCount; piece++) this.pieces.set(piece);
  }
}

async function setup() {
  const data = payload(5 * PIECE + 1000, 4);
  const { torrent } = await createTorrent({ name: "r.bin", data }, {
    pieceLength: PIECE,
    format: "v2",
  });
  /** The true leaves of piece 2, padded to the piece's four. */
  const leaves = concatBytes(
    [0, 1, 2, 3].map((leaf) =>
      createHash("sha256").update(
        data.subarray(2 * PIECE + leaf * 16384, 2 * PIECE + (leaf + 1) * 16384),
      )
        .digest()
    ),
  );
  let clock = 0;
  const repair = new PieceRepair(torrent, 10_000, () => clock);
  return { torrent, repair, leaves, advance: (ms: number) => clock += ms };
}

const answerTo = (request: HashRequestMessage, hashes: Uint8Array): HashesMessage => ({
  ...request,
  type: "hashes",
  hashes,
  proof: new Uint8Array(0),
});

Deno.test("PieceRepair: asks a v2 peer with the piece for its leaves, accepts only proven ones", async () => {
  const { torrent, repair, leaves } = await setup();
  const v1 = new V2Peer("10.0.0.1", torrent.pieceCount, false);
  const lacking = new V2Peer("10.0.0.2", torrent.pieceCount);
  lacking.pieces.set(2, false);
  const liar = new V2Peer("10.0.0.3", torrent.pieceCount);
  const honest = new V2Peer("10.0.0.4", torrent.pieceCount);
  const peers = [v1, lacking, liar, honest];
  assert.equal(repair.start(2, peers), true);
  assert.equal(v1.sent.length + lacking.sent.length, 0, "v1 and lacking peers are not asked");
  const request = liar.sent.pop() as HashRequestMessage;
  assert.deepEqual(
    { ...request, piecesRoot: undefined },
    {
      type: "hash-request",
      piecesRoot: undefined,
      baseLayer: 0,
      index: 8,
      length: 4,
      proofLayers: 0,
    },
  );
  // Unasked answers (another peer, another range) are not ours.
  assert.equal(repair.answer(honest, answerTo(request, leaves)), undefined);
  const forged = leaves.slice();
  forged[0] ^= 1;
  assert.deepEqual(repair.answer(liar, answerTo(request, forged)), { piece: 2, unproven: true });
  assert.equal(repair.retry(2, peers), true);
  const again = honest.sent.pop() as HashRequestMessage;
  const proven = repair.answer(honest, answerTo(again, leaves));
  assert.ok(proven && "leaves" in proven && proven.piece === 2);
  assert.equal(repair.has(2), false);
});

Deno.test("PieceRepair: a reject, a timeout and a drop move on; with nobody left it gives up", async () => {
  const { torrent, repair, advance } = await setup();
  const [a, b, c] = ["10.0.0.5", "10.0.0.6", "10.0.0.7"].map((host) =>
    new V2Peer(host, torrent.pieceCount)
  );
  const peers = [a, b, c];
  assert.equal(repair.start(2, peers), true);
  assert.equal(repair.rejected(a, a.sent.pop() as HashRequestMessage), 2);
  assert.equal(repair.retry(2, peers), true);
  assert.equal(b.sent.length, 1);
  // A peer that rejected is asked again after 3 s, as libtorrent does; meanwhile the piece waits.
  const alone = await setup();
  const busy = new V2Peer("10.0.0.9", torrent.pieceCount);
  assert.equal(alone.repair.start(2, [busy]), true);
  assert.equal(alone.repair.rejected(busy, busy.sent.pop() as HashRequestMessage), 2);
  assert.equal(alone.repair.retry(2, [busy]), true, "waiting for the back-off");
  assert.equal(busy.sent.length, 0);
  alone.advance(3000);
  assert.deepEqual(alone.repair.stalled(), [2]);
  assert.equal(alone.repair.retry(2, [busy]), true);
  assert.equal(busy.sent.length, 1, "asked again");
  assert.equal(alone.repair.rejected(busy, busy.sent.pop() as HashRequestMessage), 2);
  alone.advance(7000);
  assert.equal(alone.repair.retry(2, [busy]), false, "past the timeout: given up");
  assert.deepEqual(repair.stalled(), [], "not timed out yet");
  advance(10_000);
  assert.deepEqual(repair.stalled(), [2]);
  assert.equal(repair.retry(2, peers), true);
  assert.equal(c.sent.length, 1);
  c.close("gone");
  assert.deepEqual(repair.stalled(), [2]);
  assert.equal(repair.retry(2, peers), false, "every peer refused");
  assert.equal(repair.has(2), false);
  // A v1-only swarm: nothing to ask.
  assert.equal(repair.start(3, [new V2Peer("10.0.0.8", torrent.pieceCount, false)]), false);
});
