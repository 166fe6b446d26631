/**
 * Unit tests of the BEP 52 hashes agent's serving side against fake peers: piece-layer
 * and upper-layer answers whose proofs reach the root, and `hash reject` for the rest.
 */
import assert from "node:assert/strict";
import {
  createTorrent,
  type HashRequestMessage,
  merkleRoot,
  pieceLayerRoot,
  verifyProof,
} from "../../mod.ts";
import { hashesAgent } from "../../src/session/agents/hashes.ts";
import { FakePeer, FakeSession } from "./fakes.ts";
import { payload } from "./helpers.ts";

const PIECE = 32768; // piece layer = layer 1 (two 16 KiB blocks per piece)

async function setup(options: Parameters<typeof hashesAgent>[0] = {}) {
  // 100 pieces: a 128-wide piece layer, 7 layers above it.
  const { torrent } = await createTorrent(
    { name: "s.bin", data: payload(100 * PIECE - 10, 8) },
    { pieceLength: PIECE, format: "v2" },
  );
  const agent = hashesAgent(options);
  agent.attach!(new FakeSession(torrent));
  const peer = new FakePeer("10.0.0.9");
  const file = torrent.files[0];
  const ask = (fields: Partial<HashRequestMessage>) => {
    const request: HashRequestMessage = {
      type: "hash-request",
      piecesRoot: file.piecesRoot!,
      baseLayer: 1,
      index: 0,
      length: 32,
      proofLayers: 6, // the most libtorrent allows: uncles up to a child of the root
      ...fields,
    };
    agent.consumes!["hash-request"]!(peer, request);
    return peer.sent.pop()!;
  };
  return { torrent, file, ask };
}

const split = (bytes: Uint8Array) => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += 32) out.push(bytes.subarray(at, at + 32));
  return out;
};

Deno.test("hashes agent: piece-layer runs come with uncles that prove them to the root", async () => {
  const { file, ask } = await setup();
  const layer = split(file.pieceLayer!);
  for (const [index, length] of [[0, 32], [96, 32], [64, 64], [0, 128], [99, 1]]) {
    const answer = ask({ index, length });
    assert.equal(answer.type, "hashes", `${index}+${length}`);
    if (answer.type !== "hashes") continue;
    const hashes = split(answer.hashes);
    assert.equal(hashes.length, length);
    // Real hashes first; past piece 99, the padding of an all-zero piece.
    for (let i = 0; i < length && index + i < 100; i++) {
      assert.deepEqual(hashes[i], layer[index + i]);
    }
    assert.equal(answer.proof.length / 32, 7 - Math.log2(length));
    const subtree = merkleRoot(hashes, length);
    assert.ok(verifyProof(subtree, index / length, split(answer.proof), file.piecesRoot!));
  }
});

Deno.test("hashes agent: a layer above the piece layer is served too", async () => {
  const { file, ask } = await setup();
  // Layer 2 (pairs of pieces): 64 nodes; ask 16 from 16 with proof to the root.
  const answer = ask({ baseLayer: 2, index: 16, length: 16, proofLayers: 5 });
  assert.equal(answer.type, "hashes");
  if (answer.type !== "hashes") return;
  const layer = split(file.pieceLayer!);
  const pair = merkleRoot([layer[32], layer[33]], 2);
  assert.deepEqual(split(answer.hashes)[0], pair);
  assert.ok(
    verifyProof(merkleRoot(split(answer.hashes), 16), 1, split(answer.proof), file.piecesRoot!),
  );
  assert.deepEqual(pieceLayerRoot(layer, PIECE), file.piecesRoot);
});

Deno.test("hashes agent: rejects unknown roots, block layers, out of bounds, proofs past the root", async () => {
  const { ask } = await setup();
  const cases: [string, Partial<HashRequestMessage>][] = [
    ["unknown root", { piecesRoot: new Uint8Array(32).fill(1) }],
    ["block layer", { baseLayer: 0 }],
    ["past the layer", { index: 128, length: 32 }],
    ["the root layer", { baseLayer: 8, length: 1, proofLayers: 0 }],
    ["above the root", { baseLayer: 9, length: 1, proofLayers: 0 }],
    ["proof up to the root", { proofLayers: 7 }],
  ];
  for (const [name, fields] of cases) {
    const answer = ask(fields);
    assert.equal(answer.type, "hash-reject", name);
    if (answer.type === "hash-reject") assert.equal(answer.length, fields.length ?? 32, name);
  }
});

Deno.test("hashes agent: past maxServedPerSecond a peer's requests are rejected", async () => {
  let clock = 0;
  const { ask } = await setup({ maxServedPerSecond: 3, now: () => clock });
  const types = [0, 1, 2, 3, 4].map(() => ask({}).type);
  assert.deepEqual(types, ["hashes", "hashes", "hashes", "hash-reject", "hash-reject"]);
  clock += 1000;
  assert.equal(ask({}).type, "hashes");
});
