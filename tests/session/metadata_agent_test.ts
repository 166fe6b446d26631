/**
 * Unit tests of the ut_metadata agent (BEP 9) against fake peers: piece assembly from
 * several peers, reject, a bad hash, oversized announcements, malformed data, serving.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { AgentPeer, MetadataSession } from "../../src/agents/agent.ts";
import { BencodeDict } from "../../src/bencode/mod.ts";
import type { Torrent } from "../../src/metainfo/torrent.ts";
import { metadataAgent } from "../../src/session/agents/metadata.ts";
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
  type MetadataMessage,
} from "../../src/session/agents/metadata_message.ts";
import { FakePeer, FakeSession } from "./fakes.ts";
import { payload } from "./helpers.ts";

/** A peer that speaks ut_metadata, announces `size`, and records what it is sent. */
class MetadataPeer extends FakePeer {
  readonly requests: number[] = [];
  readonly answers: MetadataMessage[] = [];
  constructor(host: string, size: number | undefined) {
    super(host);
    this.extendedHandshake = new BencodeDict(
      size === undefined ? [] : [["metadata_size", size]],
    );
  }
  override supports(name: string): boolean {
    return name === "ut_metadata" && !this.closed;
  }
  override sendExtended(name: string, payload: Uint8Array): boolean {
    assert.equal(name, "ut_metadata");
    const message = decodeMetadataMessage(payload);
    if (message.type === "request") this.requests.push(message.piece);
    else {this.answers.push(
        message.type === "data" ? { ...message, bytes: message.bytes.slice() } : message,
      );}
    return true;
  }
}

/** A metadata phase with a list of peers, recording strikes and the result. */
class Phase implements MetadataSession {
  readonly peerList: AgentPeer[] = [];
  readonly strikes: string[] = [];
  readonly bans: string[] = [];
  received: Uint8Array | undefined;
  infoHashV2: Uint8Array | undefined;
  constructor(public infoHash: Uint8Array, readonly maxMetadataSize = 16 * 1024 * 1024) {}
  peers(): Iterable<AgentPeer> {
    return this.peerList.filter((peer) => !peer.closed);
  }
  addPeers(): void {}
  strike(peer: AgentPeer): void {
    this.strikes.push(peer.key);
  }
  ban(peer: AgentPeer): void {
    this.bans.push(peer.key);
  }
  metadataReceived(info: Uint8Array): void {
    this.received = info;
  }
  readonly torrent = undefined;
  pieceLayersReceived(): void {}
}

const INFO = payload(40_000, 11); // three pieces: 16 KiB, 16 KiB, 7232 bytes
const INFO_HASH = new Uint8Array(createHash("sha1").update(INFO).digest());

function setup(peers: MetadataPeer[], now = () => 0, maxRequestsPerPeer = 16) {
  const agent = metadataAgent({
    now,
    rejectBackoffMs: 1000,
    requestTimeoutMs: 500,
    maxRequestsPerPeer,
  });
  const phase = new Phase(INFO_HASH);
  agent.beforeMetadata!.start!(phase);
  const deliver = (peer: MetadataPeer, message: MetadataMessage) =>
    agent.beforeMetadata!.consumesExtended!.ut_metadata(peer, encodeMetadataMessage(message));
  const join = (peer: MetadataPeer) => {
    phase.peerList.push(peer);
    agent.beforeMetadata!.connected!(peer);
  };
  for (const peer of peers) join(peer);
  return { agent, phase, deliver, join };
}

/** Answers every outstanding request of `peer` from `info`. */
function answerAll(
  peer: MetadataPeer,
  deliver: (peer: MetadataPeer, message: MetadataMessage) => void,
  info = INFO,
) {
  for (const piece of peer.requests.splice(0)) {
    const begin = piece * METADATA_PIECE_SIZE;
    deliver(peer, {
      type: "data",
      piece,
      totalSize: info.length,
      bytes: info.subarray(begin, begin + METADATA_PIECE_SIZE),
    });
  }
}

/** Answers `peer`'s requests until it has none (it may be asked a few pieces at a time). */
function drain(
  peer: MetadataPeer,
  deliver: (peer: MetadataPeer, message: MetadataMessage) => void,
  info = INFO,
) {
  for (let round = 0; round < 10 && peer.requests.length; round++) answerAll(peer, deliver, info);
}

Deno.test("metadata agent: assembles the pieces from several peers and hands over the checked bytes", () => {
  const a = new MetadataPeer("10.0.0.1", INFO.length);
  const b = new MetadataPeer("10.0.0.2", INFO.length);
  const { phase, deliver } = setup([a, b], () => 0, 2);
  // Three pieces spread over both peers (at most two each), none asked twice.
  assert.deepEqual([...a.requests, ...b.requests].sort(), [0, 1, 2]);
  assert.ok(a.requests.length > 0 && b.requests.length > 0);
  answerAll(a, deliver);
  assert.equal(phase.received, undefined);
  answerAll(b, deliver);
  assert.deepEqual(phase.received, INFO);
  assert.deepEqual(phase.strikes, []);
});

Deno.test("metadata agent: a reject sends the piece to another peer and rests the rejecting one", () => {
  const clock = 0;
  const refuser = new MetadataPeer("10.0.0.1", INFO.length);
  const { phase, deliver, join } = setup([refuser], () => clock);
  assert.deepEqual(refuser.requests, [0, 1, 2]);
  for (const piece of refuser.requests.splice(0)) deliver(refuser, { type: "reject", piece });
  assert.deepEqual(refuser.requests, [], "not asked again at once");
  const honest = new MetadataPeer("10.0.0.2", INFO.length);
  join(honest);
  assert.deepEqual(honest.requests, [0, 1, 2]);
  answerAll(honest, deliver);
  assert.deepEqual(phase.received, INFO);
  assert.equal(refuser.closed, false, "rejecting is allowed");
});

Deno.test("metadata agent: a request left unanswered goes to another peer after the timeout", () => {
  let clock = 0;
  const silent = new MetadataPeer("10.0.0.1", INFO.length);
  const { phase, deliver, join, agent } = setup([silent], () => clock);
  const honest = new MetadataPeer("10.0.0.2", INFO.length);
  silent.requests.splice(0);
  join(honest);
  assert.deepEqual(honest.requests, []);
  clock = 600;
  agent.beforeMetadata!.tick!();
  assert.deepEqual(honest.requests, [0, 1, 2]);
  answerAll(honest, deliver);
  assert.deepEqual(phase.received, INFO);
});

Deno.test("metadata agent: a bad hash is discarded, its senders struck, then peers are asked one at a time", () => {
  const flipped = INFO.slice();
  for (const at of [100, 20_000, 35_000]) flipped[at] ^= 0x01; // one flipped bit in every piece
  const liar = new MetadataPeer("10.0.0.1", INFO.length);
  const honest = new MetadataPeer("10.0.0.2", INFO.length);
  const { phase, deliver } = setup([liar, honest], () => 0, 2);
  // Answer the first round: the liar with its bytes, the honest peer with the right ones.
  answerAll(liar, deliver, flipped);
  answerAll(honest, deliver);
  assert.equal(phase.received, undefined);
  // Nobody knows who lied: both get a strike.
  assert.deepEqual(phase.strikes.sort(), [liar.key, honest.key].sort());
  // From now on one peer at a time: every piece from one of them.
  const asked = [liar, honest].filter((peer) => peer.requests.length > 0);
  assert.equal(asked.length, 1);
  if (asked[0] === liar) {
    drain(liar, deliver, flipped);
    assert.deepEqual(phase.strikes.filter((key) => key === liar.key).length, 2);
    assert.ok(honest.requests.length > 0, "the next peer, alone");
    assert.deepEqual(liar.requests, [], "a peer that failed alone is not asked again");
  }
  drain(honest, deliver);
  assert.deepEqual(phase.received, INFO);
  assert.equal(phase.strikes.filter((key) => key === honest.key).length, 1);
});

Deno.test("metadata agent: peers announcing more than maxMetadataSize (2 GiB) or nothing are not asked", () => {
  const huge = new MetadataPeer("10.0.0.1", 2 * 1024 * 1024 * 1024);
  const silent = new MetadataPeer("10.0.0.2", undefined);
  const negative = new MetadataPeer("10.0.0.3", -5);
  const { phase, join, deliver } = setup([huge, silent, negative]);
  assert.deepEqual([huge, silent, negative].map((peer) => peer.requests.length), [0, 0, 0]);
  const honest = new MetadataPeer("10.0.0.4", INFO.length);
  join(honest);
  answerAll(honest, deliver);
  assert.deepEqual(phase.received, INFO);
  assert.equal(huge.closed, false, "ignored for metadata, not dropped");
});

Deno.test("metadata agent: data of the wrong size, a wrong total_size or a malformed message close the peer", () => {
  const cases: [
    string,
    (peer: MetadataPeer, deliver: (p: MetadataPeer, m: MetadataMessage) => void) => void,
  ][] = [
    [
      "short piece",
      (peer, deliver) =>
        deliver(peer, {
          type: "data",
          piece: 0,
          totalSize: INFO.length,
          bytes: INFO.subarray(0, 100),
        }),
    ],
    [
      "wrong total_size",
      (peer, deliver) =>
        deliver(peer, {
          type: "data",
          piece: 0,
          totalSize: 99,
          bytes: INFO.subarray(0, METADATA_PIECE_SIZE),
        }),
    ],
  ];
  for (const [what, misbehave] of cases) {
    const peer = new MetadataPeer("10.0.0.1", INFO.length);
    const { deliver } = setup([peer]);
    misbehave(peer, deliver);
    assert.equal(peer.closed, true, what);
    assert.match(peer.closeReason!, /ut_metadata/, what);
  }
  const peer = new MetadataPeer("10.0.0.1", INFO.length);
  const { agent } = setup([peer]);
  agent.beforeMetadata!.consumesExtended!.ut_metadata(
    peer,
    new TextEncoder().encode("d8:msg_typei9ee"),
  );
  assert.equal(peer.closed, true);
  assert.match(peer.closeReason!, /unknown msg_type 9/);
});

Deno.test("metadata agent: unrequested data is dropped; requests before the metadata are rejected", () => {
  const peer = new MetadataPeer("10.0.0.1", INFO.length);
  const { phase, deliver } = setup([peer]);
  peer.requests.splice(0);
  deliver(peer, { type: "data", piece: 5, totalSize: INFO.length, bytes: new Uint8Array(10) });
  assert.equal(peer.closed, false);
  deliver(peer, { type: "request", piece: 0 });
  assert.deepEqual(peer.answers, [{ type: "reject", piece: 0 }]);
  assert.equal(phase.received, undefined);
});

Deno.test("metadata agent: serves data with total_size once the torrent is known; rejects out of range and private", () => {
  const torrent = { infoBytes: INFO, private: false } as unknown as Torrent;
  for (const isPrivate of [false, true]) {
    const agent = metadataAgent();
    agent.attach!(new FakeSession({ ...torrent, private: isPrivate, pieceCount: 1 } as Torrent));
    const peer = new MetadataPeer("10.0.0.1", undefined);
    for (const piece of [2, 3]) {
      agent.consumesExtended!.ut_metadata(peer, encodeMetadataMessage({ type: "request", piece }));
    }
    if (isPrivate) {
      assert.deepEqual(peer.answers, [{ type: "reject", piece: 2 }, { type: "reject", piece: 3 }]);
    } else {
      assert.deepEqual(peer.answers, [
        { type: "data", piece: 2, totalSize: INFO.length, bytes: INFO.subarray(32768) },
        { type: "reject", piece: 3 },
      ]);
    }
  }
});

Deno.test("metadata messages: round trip, and malformed ones named", () => {
  for (
    const message of [
      { type: "request", piece: 7 },
      { type: "reject", piece: 0 },
      { type: "data", piece: 1, totalSize: 20000, bytes: new Uint8Array([1, 2, 3]) },
    ] as MetadataMessage[]
  ) {
    assert.deepEqual(decodeMetadataMessage(encodeMetadataMessage(message)), message);
  }
  const text = new TextEncoder();
  for (
    const [payload, expected] of [
      ["i3e", /not a dictionary/],
      ["d8:msg_typei0e5:piecei-1ee", /request with piece -1/],
      ["d8:msg_typei1e5:piecei0ee", /total_size/],
      ["d8:msg_typei0e5:piecei0eeXX", /followed by 2 bytes/],
      ["garbage", /not bencode/],
    ] as const
  ) {
    assert.throws(() => decodeMetadataMessage(text.encode(payload)), expected);
  }
});

const INFO_HASH_V2 = new Uint8Array(createHash("sha256").update(INFO).digest());

Deno.test("metadata agent: a btmh link's info dictionary is checked by SHA-256 (and SHA-1 with btih too)", () => {
  for (
    const [name, v1, v2, accepted] of [
      ["v2-only, right", INFO_HASH_V2.slice(0, 20), INFO_HASH_V2, true],
      ["hybrid, both right", INFO_HASH, INFO_HASH_V2, true],
      [
        "hybrid, SHA-256 wrong",
        INFO_HASH,
        INFO_HASH_V2.map((byte, i) => i ? byte : byte ^ 1),
        false,
      ],
      ["hybrid, SHA-1 wrong", INFO_HASH.map((byte, i) => i ? byte : byte ^ 1), INFO_HASH_V2, false],
    ] as const
  ) {
    const peer = new MetadataPeer("10.0.0.1", INFO.length);
    const { phase, deliver, join } = setup([]);
    phase.infoHash = v1;
    phase.infoHashV2 = v2;
    join(peer);
    drain(peer, deliver);
    assert.deepEqual(phase.received, accepted ? INFO : undefined, name);
    assert.deepEqual(phase.strikes, accepted ? [] : [peer.key], name);
  }
});
