/**
 * The download agent with stream priorities, over fakes of the agent seam: urgent pieces
 * come before the selector's choice, a waiting reader withdraws a peer's ordinary requests,
 * the critical piece is asked of a second peer, and a user's selector still picks the rest.
 */
import assert from "node:assert/strict";
import type { BlockRef } from "../../src/agents/agent.ts";
import { createTorrent, PiecePriorities, SequentialSelector } from "../../mod.ts";
import { downloadAgent } from "../../src/session/agents/download.ts";
import { FakePeer, FakeSession } from "./fakes.ts";

const BLOCK = 16384;

/** A fake peer that keeps the requests agents make, in order, and their cancels. */
class RequestingPeer extends FakePeer {
  readonly #outstanding = new Map<string, BlockRef>();
  /** Every request made, in order (`piece:begin`). */
  readonly log: string[] = [];
  /** Every cancel, in order. */
  readonly cancels: string[] = [];

  override request(block: BlockRef): boolean {
    const key = `${block.index}:${block.begin}`;
    if (this.peerChoking || this.#outstanding.has(key)) return false;
    this.#outstanding.set(key, block);
    this.outstanding = this.#outstanding.size;
    this.log.push(key);
    return true;
  }
  override requested(index?: number, begin?: number): boolean {
    return this.#outstanding.has(`${index}:${begin}`);
  }
  override outstandingRequests(): Iterable<BlockRef> {
    return [...this.#outstanding.values()];
  }
  override cancel(block?: BlockRef): void {
    const key = `${block!.index}:${block!.begin}`;
    if (!this.#outstanding.delete(key)) return;
    this.outstanding = this.#outstanding.size;
    this.cancels.push(key);
  }
  /** Pieces of the outstanding requests, in order. */
  requestedPieces(): number[] {
    return [...this.#outstanding.values()].map((block) => block.index);
  }
}

async function setup(peerCount: number) {
  // 64 pieces of two blocks each.
  const { torrent } = await createTorrent({ name: "p.bin", data: new Uint8Array(64 * 2 * BLOCK) }, {
    pieceLength: 2 * BLOCK,
  });
  const session = new FakeSession(torrent);
  const priorities = new PiecePriorities(torrent.pieceCount, { windowPieces: 3 });
  const agent = downloadAgent({
    selector: new SequentialSelector(),
    blockSize: BLOCK,
    initialQueueDepth: 8,
    priorities,
  });
  agent.attach!(session);
  const peers: RequestingPeer[] = [];
  for (let i = 0; i < peerCount; i++) {
    const peer = new RequestingPeer("127.0.0.1", 7000 + i, torrent.pieceCount).seed();
    peer.maxOutstanding = 8;
    session.peerList.push(peer);
    agent.opened!(peer);
    agent.consumes!.bitfield!(peer, { type: "bitfield", bitfield: new Uint8Array(8) });
    peer.peerChoking = false;
    agent.consumes!.unchoke!(peer, { type: "unchoke" });
    peers.push(peer);
  }
  return { agent, priorities, peers, session };
}

Deno.test("download agent: a stream's window goes before the selector, withdrawing ordinary requests", async () => {
  const { priorities, peers: [peer] } = await setup(1);
  assert.equal(peer.amInterested, true);
  assert.deepEqual(peer.requestedPieces(), [0, 0, 1, 1, 2, 2, 3, 3], "the selector's order first");
  priorities.open({ position: 40, last: 63, fetchUnwanted: false });
  // The reader waits on piece 40: every ordinary request is withdrawn, the window asked first.
  assert.deepEqual(peer.cancels.length, 8);
  assert.deepEqual(peer.log.slice(8, 14), [
    "40:0",
    "40:16384",
    "41:0",
    "41:16384",
    "42:0",
    "42:16384",
  ]);
  // The rest of the pipeline goes back to the selector's pieces, behind the window.
  assert.deepEqual(peer.requestedPieces(), [40, 40, 41, 41, 42, 42, 0, 0]);
});

Deno.test("download agent: a seek moves the window; a full pipeline makes room for it", async () => {
  const { priorities, peers: [peer] } = await setup(1);
  const reader = priorities.open({ position: 10, last: 63, fetchUnwanted: false });
  assert.deepEqual(peer.requestedPieces().slice(0, 6), [10, 10, 11, 11, 12, 12]);
  reader.move(30);
  assert.deepEqual(peer.requestedPieces().slice(0, 6), [30, 30, 31, 31, 32, 32]);
  assert.equal(peer.outstanding, 8, "never beyond the peer's depth");
  reader.close();
  // Without windows, nothing is withdrawn any more.
  const cancels = peer.cancels.length;
  priorities.open({ position: 30, last: 31, fetchUnwanted: false }).close();
  assert.equal(peer.cancels.length, cancels);
});

Deno.test("download agent: the critical piece is also asked of a second peer", async () => {
  const { priorities, peers: [first, second], agent } = await setup(2);
  // Both pipelines full of ordinary work; then only `first` gets the window (it is filled first).
  priorities.open({ position: 50, last: 50, fetchUnwanted: false });
  assert.ok(first.requestedPieces().filter((piece) => piece === 50).length === 2);
  // `second` asks for piece 50's blocks too (duplicates), since a reader waits on it.
  agent.produce!(second);
  assert.ok(second.log.includes("50:0") && second.log.includes("50:16384"), second.log.join(" "));
});
