/**
 * Unit tests of Peer with the fast extension (BEP 6) negotiated: every request answered,
 * choke semantics, rejects, allowed-fast and suggestions, one piece announcement.
 */
import assert from "node:assert/strict";
import type { BencodeDict } from "../../src/bencode/mod.ts";
import {
  MAX_INVALID_REQUESTS,
  Peer,
  type PeerLink,
  PeerViolation,
} from "../../src/session/peer.ts";
import { Bitfield } from "../../src/util/bitfield.ts";
import type { Message } from "../../src/wire/messages.ts";
import { requestProblem } from "../../src/wire/request_check.ts";

class FakeLink implements PeerLink {
  readonly peerId = new Uint8Array(20).fill(7);
  readonly extendedHandshake: BencodeDict | undefined = undefined;
  readonly remoteRequestQueue: number | undefined = undefined;
  readonly remoteListenPort: number | undefined = undefined;
  readonly queuedBytes = 0;
  readonly bufferedBytes = 0;
  readonly sent: Message[] = [];
  constructor(readonly fast: boolean) {}
  supports(): boolean {
    return false;
  }
  queue(message: Message): boolean {
    this.sent.push(message);
    return true;
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  sendExtended(): boolean {
    return false;
  }
  close(): void {}
  /** Takes what was sent so far. */
  take(): Message[] {
    return this.sent.splice(0);
  }
}

const PIECES = 10;
/** 1 MiB pieces, the last one 20 000 bytes. */
const CONTEXT = { pieceCount: PIECES, pieceLength: 1 << 20, length: 9 * (1 << 20) + 20_000 };

function makePeer(fast = true, ours = [0, 1, 2]) {
  const link = new FakeLink(fast);
  const peer = new Peer(link, "10.0.0.1", 6881, false, "Test", {
    pieceCount: PIECES,
    maxQueueDepth: 500,
    maxUploadQueue: 4,
    requestTimeoutMs: 60_000,
    maxUnrequestedBlocks: 2,
    requestProblem: (b) => requestProblem(CONTEXT, 16384, b.index, b.begin, b.length),
    has: (index) => ours.includes(index),
    countDownload: () => {},
    countUpload: () => {},
  });
  return { peer, link };
}

const block = (index: number, begin = 0, length = 16384) => ({ index, begin, length });
const request = (index: number, begin = 0): Message => ({
  type: "request",
  ...block(index, begin),
});
const reject = (index: number, begin = 0): Message => ({
  type: "reject-request",
  ...block(index, begin),
});
const violation = (code: string) => (error: unknown) =>
  error instanceof PeerViolation && error.code === code;

Deno.test("Peer fast: have-all and have-none set the pieces; fast is the link's", () => {
  const { peer } = makePeer();
  assert.equal(peer.fast, true);
  const haveAll: Message = { type: "have-all" };
  assert.equal(peer.receive(haveAll), haveAll);
  assert.equal(peer.pieces.hasAll(), true);
  const other = makePeer().peer;
  other.receive({ type: "have-none" });
  assert.equal(other.pieces.hasNone(), true);
  assert.equal(makePeer(false).peer.fast, false);
});

Deno.test("Peer fast: a later announcement may add pieces, never take one back", () => {
  const one = new Bitfield(PIECES);
  one.set(1);
  for (
    const [first, second] of [
      [{ type: "have-all" }, { type: "bitfield", bitfield: new Bitfield(PIECES).toBytes() }],
      [{ type: "bitfield", bitfield: one.toBytes() }, { type: "have-none" }],
      [{ type: "have", index: 1 }, { type: "have-none" }],
    ] as Message[][]
  ) {
    const { peer } = makePeer();
    peer.receive(first);
    assert.throws(() => peer.receive(second), violation("retracted-pieces"));
  }
  // aria2: have_none, then a bitfield once it has pieces; have_all after haves.
  const { peer } = makePeer();
  peer.receive({ type: "have-none" });
  peer.receive({ type: "bitfield", bitfield: one.toBytes() });
  assert.equal(peer.pieces.get(1), true);
  peer.receive({ type: "have", index: 2 });
  peer.receive({ type: "have-all" });
  assert.equal(peer.pieces.hasAll(), true);
  // Without the fast extension a later bitfield replaces the pieces, as before.
  const plain = makePeer(false).peer;
  plain.receive({ type: "bitfield", bitfield: one.toBytes() });
  plain.receive({ type: "bitfield", bitfield: new Bitfield(PIECES).toBytes() });
  assert.equal(plain.pieces.count(), 0);
});

Deno.test("Peer fast: each request we will not serve is rejected", () => {
  const { peer, link } = makePeer();
  // Choked: rejected.
  assert.equal(peer.receive(request(0)), undefined);
  assert.deepEqual(link.take(), [reject(0)]);
  peer.unchoke();
  link.take();
  // A piece we lack, and out of range: rejected.
  assert.equal(peer.receive(request(5)), undefined);
  assert.equal(peer.receive(request(10)), undefined);
  assert.deepEqual(link.take(), [reject(5), reject(10)]);
  // Queue full (4): the fifth is rejected.
  for (let begin = 0; begin < 4 * 16384; begin += 16384) peer.receive(request(1, begin));
  assert.equal(peer.peerRequests, 4);
  peer.receive(request(0, 0));
  assert.deepEqual(link.take().map((m) => m.type), ["reject-request"]);
  // A cancelled request still queued is answered with a reject.
  peer.receive({ type: "cancel", ...block(1, 16384) });
  assert.deepEqual(link.take(), [reject(1, 16384)]);
  // Our choke: choke first, then a reject for each queued request.
  peer.choke();
  assert.deepEqual(link.take().map((m) => m.type), [
    "choke",
    "reject-request",
    "reject-request",
    "reject-request",
  ]);
  assert.equal(peer.peerRequests, 0);
});

Deno.test("Peer fast: granted allowed-fast pieces are queued while choked and survive our choke", () => {
  const { peer, link } = makePeer();
  peer.allowFast(1);
  peer.allowFast(1);
  peer.allowFast(99); // out of range: nothing
  assert.deepEqual(link.take(), [{ type: "allowed-fast", index: 1 }]);
  assert.deepEqual([...peer.grantedFast], [1]);
  assert.ok(peer.receive(request(1)));
  assert.equal(peer.receive(request(0)), undefined);
  peer.unchoke();
  peer.receive(request(2));
  link.take();
  peer.choke();
  assert.deepEqual(link.take(), [{ type: "choke" }, reject(2)]);
  assert.deepEqual(peer.nextPeerRequest(), block(1));
  // Without fast: no allowed-fast goes out, nothing is rejected.
  const plain = makePeer(false);
  plain.peer.allowFast(1);
  plain.peer.receive(request(0));
  plain.peer.reject(block(0));
  plain.peer.send({ type: "have-all" });
  assert.deepEqual(plain.link.sent, []);
});

Deno.test("Peer fast: a choke keeps our requests; a reject frees one; unasked rejects are bounded", () => {
  const { peer } = makePeer();
  peer.receive({ type: "have-all" });
  peer.receive({ type: "unchoke" });
  assert.ok(peer.request(block(3)));
  assert.ok(peer.request(block(4)));
  const choke: Message = { type: "choke" };
  peer.receive(choke);
  peer.settle(choke);
  assert.equal(peer.outstanding, 2);
  assert.ok(peer.requested(3, 0));
  const rejected = reject(3);
  assert.equal(peer.receive(rejected), rejected);
  assert.equal(peer.requested(3, 0), false);
  // A block still served after the choke is taken.
  assert.ok(peer.receive({ type: "piece", index: 4, begin: 0, block: new Uint8Array(16384) }));
  // A reject answering our cancel is fine.
  peer.receive({ type: "unchoke" });
  peer.request(block(5));
  peer.cancel(block(5));
  assert.equal(peer.receive(reject(5)), undefined);
  // Rejects for requests never made: tolerated up to maxUnrequestedBlocks (2), then dropped.
  assert.equal(peer.receive(reject(6)), undefined);
  assert.equal(peer.receive(reject(7, 7)), undefined);
  assert.throws(() => peer.receive(reject(8)), violation("unrequested-rejects"));
});

Deno.test("Peer fast: allowed-fast lets us request while choked; out-of-range hints are ignored", () => {
  const { peer } = makePeer();
  peer.receive({ type: "have-all" });
  assert.equal(peer.request(block(3)), false);
  assert.equal(peer.receive({ type: "allowed-fast", index: 99 }), undefined);
  assert.ok(peer.receive({ type: "allowed-fast", index: 3 }));
  assert.equal(peer.receive({ type: "allowed-fast", index: 3 }), undefined);
  assert.deepEqual([...peer.allowedFast], [3]);
  assert.equal(peer.request(block(3)), true);
  assert.equal(peer.request(block(4)), false);
});

Deno.test("Peer fast: suggestions are kept in range, de-duplicated, latest last, bounded", () => {
  const { peer } = makePeer();
  assert.equal(peer.receive({ type: "suggest-piece", index: 10 }), undefined);
  for (const index of [1, 2, 1]) peer.receive({ type: "suggest-piece", index });
  assert.deepEqual(peer.suggested, [2, 1]);
  for (let i = 0; i < 1000; i++) peer.receive({ type: "suggest-piece", index: i % PIECES });
  assert.ok(peer.suggested.length <= PIECES);
});

Deno.test("Peer fast: a flood of requests while choked is requests-while-choked", () => {
  const { peer } = makePeer();
  assert.throws(() => {
    for (let i = 0; i < 1000; i++) peer.receive(request(0, (i % 64) * 16384));
  }, violation("requests-while-choked"));
});

Deno.test("Peer fast: a malformed request is rejected, not queued, and the peer stays", () => {
  const { peer, link } = makePeer(true, [0, 1, 2, 9]);
  peer.unchoke();
  link.take();
  const malformed = [
    block(0, 0, 0), // zero length
    block(0, 0, 16385), // over the 16 KiB block limit
    block(0, (1 << 20) - 100, 16384), // past the end of the piece
    block(9, 16384, 16384), // past the end of the short last piece
    block(PIECES, 0, 16384), // no such piece
  ];
  for (const bad of malformed) {
    assert.equal(peer.receive({ type: "request", ...bad }), undefined);
  }
  assert.deepEqual(link.take(), malformed.map((bad) => ({ type: "reject-request", ...bad })));
  assert.equal(peer.peerRequests, 0);
  // A malformed cancel matches nothing and reaches no agent.
  assert.equal(peer.receive({ type: "cancel", ...block(0, 0, 0) }), undefined);
  assert.deepEqual(link.take(), []);
  // The same peer's good requests are still served.
  const good = request(9, 0);
  assert.equal(peer.receive(good), good);
  assert.equal(peer.peerRequests, 1);
  assert.equal(peer.closed, false);
});

Deno.test("Peer fast: past MAX_INVALID_REQUESTS malformed requests the peer is invalid-requests", () => {
  const { peer, link } = makePeer();
  peer.unchoke();
  for (let i = 0; i < MAX_INVALID_REQUESTS; i++) {
    assert.equal(peer.receive({ type: "request", ...block(0, 0, 32768) }), undefined);
  }
  assert.equal(link.take().filter((m) => m.type === "reject-request").length, MAX_INVALID_REQUESTS);
  assert.throws(
    () => peer.receive({ type: "request", ...block(0, 0, 32768) }),
    (error: unknown) =>
      error instanceof PeerViolation && error.code === "invalid-requests" &&
      /301 invalid requests, the last for 32768 bytes, over the 16384-byte block limit/.test(
        error.message,
      ),
  );
});
