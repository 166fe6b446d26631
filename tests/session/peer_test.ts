/**
 * Unit tests of Peer: the protocol state a connection owns, driven through a fake PeerLink
 * that records what would go on the wire.
 */
import assert from "node:assert/strict";
import type { BencodeDict } from "../../src/bencode/mod.ts";
import { Peer, type PeerLink, type PeerPolicy, PeerViolation } from "../../src/session/peer.ts";
import { Bitfield } from "../../src/util/bitfield.ts";
import type { Message } from "../../src/wire/messages.ts";

/** A connection that records queued messages instead of writing them. */
class FakeLink implements PeerLink {
  readonly peerId = new Uint8Array(20).fill(7);
  extendedHandshake: BencodeDict | undefined = undefined;
  remoteRequestQueue: number | undefined = undefined;
  remoteListenPort: number | undefined = undefined;
  fast = false;
  queuedBytes = 0;
  bufferedBytes = 0;
  readonly sent: Message[] = [];
  readonly extended: { name: string; payload: Uint8Array }[] = [];
  readonly extensions = new Set<string>();
  writable = true;
  closes = 0;

  supports(name: string): boolean {
    return this.extensions.has(name);
  }
  queue(message: Message): boolean {
    if (!this.writable) return false;
    this.sent.push(message);
    return true;
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  sendExtended(name: string, payload: Uint8Array): boolean {
    if (!this.extensions.has(name)) return false;
    this.extended.push({ name, payload });
    return true;
  }
  close(): void {
    this.closes++;
  }
  /** The types of the messages sent so far. */
  types(): string[] {
    return this.sent.map((message) => message.type);
  }
}

const PIECES = 10;

interface Harness {
  readonly peer: Peer;
  readonly link: FakeLink;
  /** Pieces we have (what `policy.has` answers). */
  readonly ours: Set<number>;
  readonly downloaded: number[];
  readonly uploaded: number[];
}

function makePeer(
  options: Partial<Omit<PeerPolicy, "has" | "countDownload" | "countUpload" | "requestProblem">> & {
    incoming?: boolean;
    ours?: number[];
  } = {},
): Harness {
  const link = new FakeLink();
  const ours = new Set(options.ours ?? [0, 1, 2]);
  const downloaded: number[] = [];
  const uploaded: number[] = [];
  const policy: PeerPolicy = {
    pieceCount: options.pieceCount ?? PIECES,
    maxQueueDepth: options.maxQueueDepth ?? 500,
    maxUploadQueue: options.maxUploadQueue ?? 4,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    maxUnrequestedBlocks: options.maxUnrequestedBlocks ?? 2,
    requestProblem: () => undefined,
    has: (index) => ours.has(index),
    countDownload: (bytes) => downloaded.push(bytes),
    countUpload: (bytes) => uploaded.push(bytes),
  };
  const peer = new Peer(link, "10.0.0.1", 6881, options.incoming ?? false, "Test 1.0", policy);
  return { peer, link, ours, downloaded, uploaded };
}

/** A peer that unchoked us and has every piece. */
function unchokedSeed(options: Parameters<typeof makePeer>[0] = {}): Harness {
  const harness = makePeer(options);
  const all = new Bitfield(options.pieceCount ?? PIECES);
  for (let i = 0; i < all.size; i++) all.set(i);
  harness.peer.receive({ type: "bitfield", bitfield: all.toBytes() });
  harness.peer.receive({ type: "unchoke" });
  return harness;
}

const block = (index: number, begin: number, length = 16384) => ({ index, begin, length });

function piece(index: number, begin: number, length = 16384): Message {
  return { type: "piece", index, begin, block: new Uint8Array(length) };
}

Deno.test("Peer: starts choked both ways and uninterested, with an empty bitfield", () => {
  const { peer, link } = makePeer();
  assert.equal(peer.amChoking, true);
  assert.equal(peer.peerChoking, true);
  assert.equal(peer.amInterested, false);
  assert.equal(peer.peerInterested, false);
  assert.equal(peer.pieces.size, PIECES);
  assert.equal(peer.pieces.count(), 0);
  assert.equal(peer.outstanding, 0);
  assert.equal(peer.peerRequests, 0);
  assert.equal(peer.key, "10.0.0.1:6881");
  assert.equal(peer.client, "Test 1.0");
  assert.deepEqual(peer.peerId, new Uint8Array(20).fill(7));
  assert.equal(peer.closed, false);
  assert.deepEqual(link.sent, []);
});

Deno.test("Peer: choke/unchoke/interested/not-interested from the peer set its state and are returned", () => {
  const { peer } = makePeer();
  const unchoke: Message = { type: "unchoke" };
  assert.equal(peer.receive(unchoke), unchoke);
  assert.equal(peer.peerChoking, false);
  const choke: Message = { type: "choke" };
  assert.equal(peer.receive(choke), choke);
  assert.equal(peer.peerChoking, true);
  const interested: Message = { type: "interested" };
  assert.equal(peer.receive(interested), interested);
  assert.equal(peer.peerInterested, true);
  const notInterested: Message = { type: "not-interested" };
  assert.equal(peer.receive(notInterested), notInterested);
  assert.equal(peer.peerInterested, false);
});

Deno.test("Peer: have sets the bit; a duplicate have is not returned", () => {
  const { peer } = makePeer();
  const have: Message = { type: "have", index: 4 };
  assert.equal(peer.receive(have), have);
  assert.equal(peer.pieces.get(4), true);
  assert.equal(peer.pieces.count(), 1);
  assert.equal(peer.receive({ type: "have", index: 4 }), undefined);
  assert.equal(peer.pieces.count(), 1);
});

Deno.test({
  name: "Peer: a have for a piece past the end is a PeerViolation",
  fn() {
    const { peer } = makePeer();
    assert.throws(
      () => peer.receive({ type: "have", index: PIECES }),
      (error: unknown) => error instanceof PeerViolation && error.code === "out-of-range",
    );
  },
});

Deno.test("Peer: bitfield sets the pieces; a bad one is PeerViolation bad-bitfield", () => {
  const { peer } = makePeer();
  // 10 pieces: 2 bytes; pieces 0 and 9.
  const message: Message = { type: "bitfield", bitfield: new Uint8Array([0x80, 0x40]) };
  assert.equal(peer.receive(message), message);
  assert.deepEqual([...peer.pieces.indices()], [0, 9]);

  const wrongLength = makePeer().peer;
  assert.throws(
    () => wrongLength.receive({ type: "bitfield", bitfield: new Uint8Array(3) }),
    (error: unknown) => error instanceof PeerViolation && error.code === "bad-bitfield",
  );
  const spareBits = makePeer().peer;
  assert.throws(
    () => spareBits.receive({ type: "bitfield", bitfield: new Uint8Array([0, 0x01]) }),
    (error: unknown) => error instanceof PeerViolation && error.code === "bad-bitfield",
  );
  assert.equal(spareBits.pieces.count(), 0);
});

Deno.test("Peer: a late bitfield replaces the pieces learned so far", () => {
  const { peer } = makePeer();
  peer.receive({ type: "have", index: 1 });
  peer.receive({ type: "have", index: 2 });
  peer.receive({ type: "bitfield", bitfield: new Uint8Array([0x00, 0x40]) });
  assert.deepEqual([...peer.pieces.indices()], [9]);
});

Deno.test("Peer: keep-alive, port and extended messages pass through unchanged", () => {
  const { peer } = makePeer();
  const messages: Message[] = [
    { type: "keep-alive" },
    { type: "port", port: 6881 },
    { type: "extended", id: 3, payload: new Uint8Array([1]) },
  ];
  for (const message of messages) assert.equal(peer.receive(message), message);
});

Deno.test("Peer: a requested block of the right length is returned and counted once", () => {
  const { peer, link, downloaded } = unchokedSeed();
  assert.equal(peer.request(block(3, 16384)), true);
  assert.deepEqual(link.sent.at(-1), { type: "request", index: 3, begin: 16384, length: 16384 });
  assert.equal(peer.outstanding, 1);
  assert.equal(peer.requested(3, 16384), true);
  const message = piece(3, 16384);
  assert.equal(peer.receive(message), message);
  assert.equal(peer.outstanding, 0);
  assert.equal(peer.requested(3, 16384), false);
  assert.deepEqual(downloaded, [16384]);
  assert.equal(peer.download.total, 16384);
  // The same block again is no longer requested.
  assert.equal(peer.receive(piece(3, 16384)), undefined);
  assert.deepEqual(downloaded, [16384]);
});

Deno.test("Peer: a block of another length than requested is dropped and the request stays", () => {
  const { peer, downloaded } = unchokedSeed();
  peer.request(block(3, 0));
  assert.equal(peer.receive(piece(3, 0, 100)), undefined);
  assert.equal(peer.outstanding, 1);
  assert.deepEqual(downloaded, []);
  assert.equal(peer.download.total, 0);
});

Deno.test("Peer: more than maxUnrequestedBlocks unrequested blocks throw unrequested-blocks", () => {
  const { peer } = unchokedSeed({ maxUnrequestedBlocks: 2 });
  peer.request(block(0, 0));
  assert.equal(peer.receive(piece(5, 0)), undefined); // never requested
  assert.equal(peer.receive(piece(0, 0, 10)), undefined); // wrong length
  assert.throws(
    () => peer.receive(piece(6, 0)),
    (error: unknown) =>
      error instanceof PeerViolation && error.code === "unrequested-blocks" &&
      error.name === "PeerViolation",
  );
});

Deno.test("Peer: a cancelled request's late block is tolerated (not counted, not returned)", () => {
  const { peer, link, downloaded } = unchokedSeed({ maxUnrequestedBlocks: 0 });
  peer.request(block(2, 0));
  peer.cancel(block(2, 0));
  assert.deepEqual(link.sent.at(-1), { type: "cancel", index: 2, begin: 0, length: 16384 });
  assert.equal(peer.outstanding, 0);
  assert.equal(peer.receive(piece(2, 0)), undefined);
  assert.deepEqual(downloaded, []);
  // Tolerated once: a second copy counts as unrequested.
  assert.throws(
    () => peer.receive(piece(2, 0)),
    (error: unknown) => error instanceof PeerViolation && error.code === "unrequested-blocks",
  );
});

Deno.test("Peer: cancel of a block never requested sends nothing", () => {
  const { peer, link } = unchokedSeed();
  const before = link.sent.length;
  peer.cancel(block(2, 0));
  assert.equal(link.sent.length, before);
});

Deno.test("Peer: a choke voids our requests only after settle; their late blocks are tolerated", () => {
  const { peer } = unchokedSeed({ maxUnrequestedBlocks: 0 });
  peer.request(block(1, 0));
  peer.request(block(1, 16384));
  const choke: Message = { type: "choke" };
  assert.equal(peer.receive(choke), choke);
  // Agents handling the choke still see what was outstanding.
  assert.equal(peer.outstanding, 2);
  assert.deepEqual([...peer.outstandingRequests()], [block(1, 0), block(1, 16384)]);
  peer.settle(choke);
  assert.equal(peer.outstanding, 0);
  assert.equal(peer.requested(1, 0), false);
  assert.equal(peer.receive(piece(1, 0)), undefined);
  assert.equal(peer.receive(piece(1, 16384)), undefined);
});

Deno.test("Peer: settle of other messages changes nothing", () => {
  const { peer } = unchokedSeed();
  peer.request(block(1, 0));
  peer.settle({ type: "unchoke" });
  peer.settle({ type: "have", index: 1 });
  assert.equal(peer.outstanding, 1);
});

Deno.test("Peer: request() refuses while choked, for a piece the peer lacks, and duplicates", () => {
  const { peer, link } = makePeer();
  peer.receive({ type: "have", index: 1 });
  assert.equal(peer.request(block(1, 0)), false); // choked
  peer.receive({ type: "unchoke" });
  assert.equal(peer.request(block(2, 0)), false); // peer lacks piece 2
  assert.equal(peer.request(block(1, 0)), true);
  assert.equal(peer.request(block(1, 0)), false); // duplicate
  assert.equal(peer.request(block(1, 16384)), true);
  assert.deepEqual(link.types(), ["request", "request"]);
  assert.equal(peer.outstanding, 2);
});

Deno.test("Peer: request() refuses once closed", () => {
  const { peer, link } = unchokedSeed();
  peer.close("done");
  assert.equal(peer.request(block(0, 0)), false);
  assert.deepEqual(link.sent, []);
});

Deno.test("Peer: outstandingRequests lists our requests oldest first, with their lengths", () => {
  const { peer } = unchokedSeed();
  peer.request(block(9, 32768, 100));
  peer.request(block(0, 0));
  peer.request(block(4, 16384));
  assert.deepEqual([...peer.outstandingRequests()], [
    block(9, 32768, 100),
    block(0, 0),
    block(4, 16384),
  ]);
});

Deno.test("Peer: the peer's requests are void while we choke it and for pieces we lack", () => {
  const { peer } = makePeer({ ours: [0, 1] });
  assert.equal(peer.receive({ type: "request", ...block(0, 0) }), undefined); // we choke
  assert.equal(peer.peerRequests, 0);
  peer.unchoke();
  assert.equal(peer.receive({ type: "request", ...block(5, 0) }), undefined); // we lack 5
  assert.equal(peer.peerRequests, 0);
  const request: Message = { type: "request", ...block(1, 0) };
  assert.equal(peer.receive(request), request);
  assert.equal(peer.peerRequests, 1);
  // A duplicate is not queued twice.
  assert.equal(peer.receive({ type: "request", ...block(1, 0) }), undefined);
  assert.equal(peer.peerRequests, 1);
});

Deno.test({
  name: "Peer: a request for a piece past the end is void, not a BitfieldError",
  fn() {
    const verified = new Bitfield(PIECES);
    verified.set(0);
    const policy: PeerPolicy = {
      pieceCount: PIECES,
      maxQueueDepth: 500,
      maxUploadQueue: 4,
      requestTimeoutMs: 60_000,
      maxUnrequestedBlocks: 2,
      requestProblem: () => undefined,
      has: (index) => verified.get(index), // as the session's policy does
      countDownload: () => {},
      countUpload: () => {},
    };
    const peer = new Peer(new FakeLink(), "10.0.0.1", 6881, false, "Test 1.0", policy);
    peer.unchoke();
    let applied: Message | undefined;
    try {
      applied = peer.receive({ type: "request", ...block(PIECES, 0) });
    } catch (error) {
      assert.ok(error instanceof PeerViolation, `expected a PeerViolation, got ${error}`);
      return;
    }
    assert.equal(applied, undefined);
    assert.equal(peer.peerRequests, 0);
  },
});

Deno.test("Peer: the peer's request queue is bounded by maxUploadQueue", async () => {
  const { peer } = makePeer({ ours: [0], maxUploadQueue: 3 });
  peer.unchoke();
  for (let i = 0; i < 3; i++) {
    assert.notEqual(peer.receive({ type: "request", ...block(0, i * 16384) }), undefined);
    assert.equal(peer.requestQueueFull, i === 2);
  }
  assert.equal(peer.receive({ type: "request", ...block(0, 3 * 16384) }), undefined);
  assert.equal(peer.peerRequests, 3);
  assert.equal(peer.requestQueueFull, true);
  let roomMade = false;
  const room = peer.requestRoom().then(() => roomMade = true);
  await Promise.resolve();
  assert.equal(roomMade, false); // still full: reading this peer waits
  assert.deepEqual(peer.nextPeerRequest(), block(0, 0));
  await room;
  assert.equal(roomMade, true);
  assert.equal(peer.requestQueueFull, false);
  assert.deepEqual(peer.nextPeerRequest(), block(0, 16384));
  assert.deepEqual(peer.nextPeerRequest(), block(0, 32768));
  assert.equal(peer.nextPeerRequest(), undefined);
});

Deno.test("Peer: a cancel from the peer removes its queued request", () => {
  const { peer } = makePeer({ ours: [0] });
  peer.unchoke();
  peer.receive({ type: "request", ...block(0, 0) });
  peer.receive({ type: "request", ...block(0, 16384) });
  const cancel: Message = { type: "cancel", ...block(0, 0) };
  assert.equal(peer.receive(cancel), cancel);
  assert.equal(peer.peerRequests, 1);
  assert.deepEqual(peer.nextPeerRequest(), block(0, 16384));
});

Deno.test("Peer: our choke() clears the peer's queued requests and sends choke once", () => {
  const { peer, link } = makePeer({ ours: [0] });
  peer.unchoke();
  peer.unchoke();
  peer.receive({ type: "request", ...block(0, 0) });
  peer.receive({ type: "request", ...block(0, 16384) });
  peer.choke();
  peer.choke();
  assert.equal(peer.amChoking, true);
  assert.equal(peer.peerRequests, 0);
  assert.equal(peer.nextPeerRequest(), undefined);
  assert.deepEqual(link.types(), ["unchoke", "choke"]);
});

Deno.test("Peer: setInterested sends only on change", () => {
  const { peer, link } = makePeer();
  peer.setInterested(false);
  peer.setInterested(true);
  peer.setInterested(true);
  assert.equal(peer.amInterested, true);
  peer.setInterested(false);
  assert.equal(peer.amInterested, false);
  assert.deepEqual(link.types(), ["interested", "not-interested"]);
});

Deno.test("Peer: send() of state-changing messages goes through the same state", () => {
  const { peer, link } = makePeer({ ours: [0] });
  peer.send({ type: "unchoke" });
  assert.equal(peer.amChoking, false);
  peer.send({ type: "interested" });
  assert.equal(peer.amInterested, true);
  peer.send({ type: "interested" }); // no change: nothing sent
  peer.send({ type: "request", ...block(3, 0) }); // peer chokes us: refused
  assert.equal(peer.outstanding, 0);
  peer.receive({ type: "have", index: 3 });
  peer.receive({ type: "unchoke" });
  peer.send({ type: "request", ...block(3, 0) });
  assert.equal(peer.requested(3, 0), true);
  peer.send({ type: "cancel", ...block(3, 0) });
  assert.equal(peer.outstanding, 0);
  peer.receive({ type: "request", ...block(0, 0) });
  assert.equal(peer.peerRequests, 1);
  peer.send({ type: "choke" });
  assert.equal(peer.amChoking, true);
  assert.equal(peer.peerRequests, 0);
  peer.send({ type: "not-interested" });
  assert.equal(peer.amInterested, false);
  const have: Message = { type: "have", index: 0 };
  peer.send(have);
  assert.deepEqual(link.types(), [
    "unchoke",
    "interested",
    "request",
    "cancel",
    "choke",
    "not-interested",
    "have",
  ]);
  assert.equal(link.sent.at(-1), have);
});

Deno.test("Peer: listenPort is the dialled port when outgoing, the handshake's p when incoming", () => {
  const outgoing = makePeer({ incoming: false });
  outgoing.link.remoteListenPort = 7000;
  assert.equal(outgoing.peer.listenPort, 6881);
  const incoming = makePeer({ incoming: true });
  assert.equal(incoming.peer.listenPort, undefined);
  incoming.link.remoteListenPort = 7000;
  assert.equal(incoming.peer.listenPort, 7000);
  assert.equal(incoming.peer.incoming, true);
});

Deno.test("Peer: maxOutstanding is the peer's reqq capped by maxQueueDepth, else min(250, max)", () => {
  const { peer, link } = makePeer({ maxQueueDepth: 100 });
  assert.equal(peer.maxOutstanding, 100);
  link.remoteRequestQueue = 30;
  assert.equal(peer.maxOutstanding, 30);
  link.remoteRequestQueue = 1000;
  assert.equal(peer.maxOutstanding, 100);
  link.remoteRequestQueue = 0;
  assert.equal(peer.maxOutstanding, 100);
  const deep = makePeer({ maxQueueDepth: 1000 });
  assert.equal(deep.peer.maxOutstanding, 250);
});

Deno.test("Peer: snubbed only while requests are outstanding past the timeout", () => {
  // A negative timeout is exceeded at once: snubbed is then exactly `outstanding > 0`.
  const { peer } = unchokedSeed({ requestTimeoutMs: -1 });
  assert.equal(peer.snubbed, false);
  peer.request(block(0, 0));
  assert.equal(peer.snubbed, true);
  peer.receive(piece(0, 0));
  assert.equal(peer.snubbed, false);
  // A generous timeout: outstanding requests alone do not snub.
  const patient = unchokedSeed({ requestTimeoutMs: 3_600_000 }).peer;
  patient.request(block(0, 0));
  assert.equal(patient.snubbed, false);
});

Deno.test("Peer: countUpload counts for the peer and the session", () => {
  const { peer, uploaded } = makePeer();
  peer.countUpload(500);
  peer.countUpload(250);
  assert.equal(peer.upload.total, 750);
  assert.deepEqual(uploaded, [500, 250]);
});

Deno.test("Peer: close() closes the link once and reports the reason", async () => {
  const { peer, link } = makePeer();
  const reasons: string[] = [];
  peer.onClose = (reason) => reasons.push(reason);
  peer.close("bye");
  peer.close("again");
  assert.equal(peer.closed, true);
  assert.equal(link.closes, 1);
  assert.deepEqual(reasons, ["bye"]);
  peer.unchoke();
  assert.deepEqual(link.sent, []);
  assert.equal(peer.sendExtended("ut_pex", new Uint8Array(1)), false);
  await assert.rejects(peer.flushed());
});

Deno.test("Peer: a write the link refuses closes the peer with 'write failed'", () => {
  const { peer, link } = makePeer();
  const reasons: string[] = [];
  peer.onClose = (reason) => reasons.push(reason);
  link.writable = false;
  peer.setInterested(true);
  assert.equal(peer.closed, true);
  assert.deepEqual(reasons, ["write failed"]);
});

Deno.test("Peer: supports and sendExtended go to the link", () => {
  const { peer, link } = makePeer();
  link.extensions.add("ut_metadata");
  assert.equal(peer.supports("ut_metadata"), true);
  assert.equal(peer.supports("ut_pex"), false);
  assert.equal(peer.sendExtended("ut_pex", new Uint8Array(1)), false);
  assert.equal(peer.sendExtended("ut_metadata", new Uint8Array([9])), true);
  assert.deepEqual(link.extended, [{ name: "ut_metadata", payload: new Uint8Array([9]) }]);
});
