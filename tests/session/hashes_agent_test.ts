/**
 * Unit tests of the BEP 52 hashes agent's serving side against fake peers: piece-layer
 * and upper-layer answers whose proofs reach the root, and `hash reject` for the rest.
 */
import assert from "node:assert/strict";
import {
  type AgentPeer,
  createTorrent,
  type HashRequestMessage,
  merkleRoot,
  type MetadataSession,
  pieceLayerRoot,
  type Torrent,
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
  return { torrent, file, ask, agent, peer, peerOf: () => peer };
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

Deno.test("hashes agent: leaf-layer requests other than one verified piece's leaves are rejected", async () => {
  const { file, agent, peer } = await setup();
  const cases: [string, Partial<HashRequestMessage>][] = [
    ["not one piece's leaves", { index: 0, length: 32 }],
    ["unaligned", { index: 1, length: 2 }],
    ["a piece not verified", { index: 2, length: 2 }],
  ];
  for (const [name, fields] of cases) {
    const request: HashRequestMessage = {
      type: "hash-request",
      piecesRoot: file.piecesRoot!,
      baseLayer: 0,
      index: 0,
      length: 2,
      proofLayers: 0,
      ...fields,
    };
    agent.consumes!["hash-request"]!(peer, request);
    // Leaf answers are read back from storage: they come asynchronously.
    for (let turn = 0; turn < 10 && peer.sent.length === 0; turn++) await Promise.resolve();
    const answer = peer.sent.pop()!;
    assert.equal(answer?.type, "hash-reject", name);
  }
});

Deno.test("hashes agent: past maxServedPerSecond a peer's requests are rejected", async () => {
  let clock = 0;
  const { ask, peerOf } = await setup({ maxServedPerSecond: 3, now: () => clock });
  const types = [0, 1, 2, 3, 4].map(() => ask({}).type);
  assert.deepEqual(types, ["hashes", "hashes", "hashes", "hash-reject", "hash-reject"]);
  clock += 1000;
  assert.equal(ask({}).type, "hashes");
  // Four times the limit in a second is a flood: the peer is closed.
  for (let i = 0; i < 11; i++) ask({});
  assert.equal(peerOf().closeReason, undefined);
  ask({});
  assert.match(peerOf().closeReason ?? "", /more than 12 hash requests a second/);
});

/** A v2 connection (hash requests allowed) that records what it is sent. */
class V2Peer extends FakePeer {
  readonly v2 = true;
}

/** A metadata phase with a torrent whose piece layers are wanted. */
class LayerPhase implements MetadataSession {
  readonly infoHash = new Uint8Array(20);
  readonly maxMetadataSize = 1 << 24;
  readonly peerList: AgentPeer[] = [];
  readonly strikes: string[] = [];
  layers: ReadonlyMap<number, Uint8Array> | undefined;
  constructor(readonly torrent: Torrent) {}
  peers(): Iterable<AgentPeer> {
    return this.peerList.filter((peer) => !peer.closed);
  }
  addPeers(): void {}
  strike(peer: AgentPeer): void {
    this.strikes.push(peer.key);
  }
  ban(): void {}
  metadataReceived(): void {}
  pieceLayersReceived(layers: ReadonlyMap<number, Uint8Array>): void {
    this.layers = layers;
  }
}

async function fetchSetup(format: "v2" | "hybrid", now: () => number) {
  const { torrent } = await createTorrent(
    { name: "f.bin", data: payload(100 * PIECE - 10, 8) },
    { pieceLength: PIECE, format },
  );
  // The fetch sees the torrent as an info dictionary gives it: no piece layers.
  const bare: Torrent = {
    ...torrent,
    files: torrent.files.map(({ pieceLayer: _, ...file }) => file),
  };
  const serving = hashesAgent();
  serving.attach!(new FakeSession(torrent));
  const agent = hashesAgent({ hashesPerRequest: 64, requestTimeoutMs: 1000, now });
  const phase = new LayerPhase(bare);
  agent.beforeMetadata!.start!(phase);
  const join = (peer: FakePeer) => {
    phase.peerList.push(peer);
    agent.beforeMetadata!.connected!(peer);
  };
  /** Answers `peer`'s hash requests as an honest seeder would. */
  const answer = (peer: FakePeer) => {
    for (const request of peer.sent.splice(0)) {
      if (request.type !== "hash-request") continue;
      const responder = new FakePeer("10.9.9.9");
      serving.consumes!["hash-request"]!(responder, request);
      const reply = responder.sent[0];
      if (reply.type === "hashes") agent.beforeMetadata!.consumes!.hashes!(peer, reply);
    }
  };
  return { torrent, agent, phase, join, answer };
}

Deno.test("hashes fetch: runs of 64 with proofs; a reject and a timeout move a run to another peer", async () => {
  let clock = 0;
  const { torrent, agent, phase, join, answer } = await fetchSetup("v2", () => clock);
  const refuser = new V2Peer("10.0.0.1");
  const sleeper = new V2Peer("10.0.0.2");
  const v1Only = new FakePeer("10.0.0.3"); // no v2: never asked
  join(refuser);
  join(sleeper);
  join(v1Only);
  agent.beforeMetadata!.pieceLayersWanted!(phase.torrent);
  const requests = [...refuser.sent, ...sleeper.sent];
  // 100 pieces, 128 wide: two runs of 64 with uncles up to a child of the root.
  assert.deepEqual(
    requests.map((m) => m.type === "hash-request" && [m.index, m.length, m.proofLayers]).sort(),
    [[0, 64, 6], [64, 64, 6]],
  );
  assert.equal(v1Only.sent.length, 0);
  // The refuser rejects its run: it goes to the sleeper at once.
  for (const request of refuser.sent.splice(0)) {
    if (request.type === "hash-request") {
      agent.beforeMetadata!.consumes!["hash-reject"]!(refuser, { ...request, type: "hash-reject" });
    }
  }
  assert.equal(sleeper.sent.length, 2);
  assert.equal(refuser.sent.length, 0, "a rejected run is not asked again of its refuser at once");
  // The sleeper lets both time out: the one the refuser never saw goes to it.
  clock += 1500;
  agent.beforeMetadata!.tick!();
  assert.equal(refuser.sent.length, 1);
  answer(refuser);
  assert.equal(phase.layers?.size, undefined, "one run still missing");
  // The other run, refused by both, is asked again only after the refusal back-off.
  agent.beforeMetadata!.tick!();
  assert.equal(refuser.sent.length + sleeper.sent.length, 2, "nothing new before the back-off");
  clock += 10_000;
  agent.beforeMetadata!.tick!();
  answer(refuser);
  assert.deepEqual(phase.layers?.get(0), torrent.files[0].pieceLayer);
  // The sleeper's late answers are not held against it.
  answer(sleeper);
  assert.deepEqual(phase.strikes, []);
  assert.equal(sleeper.closeReason, undefined);
});

Deno.test("hashes fetch: a hybrid with nobody serving layers goes on without them", async () => {
  let clock = 0;
  const { agent, phase, join } = await fetchSetup("hybrid", () => clock);
  join(new FakePeer("10.0.0.3")); // v1 only
  agent.beforeMetadata!.pieceLayersWanted!(phase.torrent);
  clock += 19_000;
  agent.beforeMetadata!.tick!();
  assert.equal(phase.layers, undefined);
  clock += 2_000;
  agent.beforeMetadata!.tick!();
  assert.deepEqual(phase.layers && [...phase.layers], []);
});

Deno.test("hashes agent: a large file's tree is built in the background; requests are rejected until then", async () => {
  const { torrent } = await createTorrent(
    { name: "s.bin", data: payload(100 * PIECE - 10, 8) },
    { pieceLength: PIECE, format: "v2" },
  );
  const agent = hashesAgent({ maxSyncTreePieces: 10 });
  agent.attach!(new FakeSession(torrent));
  const peer = new FakePeer("10.0.0.9");
  const request: HashRequestMessage = {
    type: "hash-request",
    piecesRoot: torrent.files[0].piecesRoot!,
    baseLayer: 1,
    index: 0,
    length: 32,
    proofLayers: 6,
  };
  agent.consumes!["hash-request"]!(peer, request);
  assert.equal(peer.sent.pop()?.type, "hash-reject");
  // 127 pair hashes: one slice, then the tree is there.
  for (let tries = 0; tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    agent.consumes!["hash-request"]!(peer, request);
    if (peer.sent.pop()?.type === "hashes") return;
  }
  assert.fail("the tree was never built");
});
