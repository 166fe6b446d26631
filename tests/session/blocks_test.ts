/** Unit tests of BlockTracker: which blocks are requested, received, and from whom. */
import assert from "node:assert/strict";
import { type BlockOrigin, BlockTracker } from "../../src/session/blocks.ts";
import { FakePeer } from "./fakes.ts";
import { singleFile } from "./helpers.ts";

const BLOCK = 16384;
const PIECE = 4 * BLOCK;
// Three pieces: two of four blocks, the last of 20,000 bytes (a full block and 3,616 bytes).
const { torrent } = await singleFile("blocks.bin", 2 * PIECE + 20000, PIECE);

function tracker(): BlockTracker {
  return new BlockTracker(torrent, BLOCK);
}

function origin(sender: FakePeer, hash?: string): BlockOrigin {
  return { sender, hash };
}

Deno.test("BlockTracker: keys name blocks; keyOf rejects unaligned and wrong-length blocks", () => {
  const blocks = tracker();
  assert.equal(torrent.pieceCount, 3);
  assert.equal(blocks.blocksPerPiece, 4);
  assert.equal(blocks.blockSize, BLOCK);
  assert.equal(blocks.key(1, 2), 6);
  assert.equal(blocks.keyOf(0, 0, BLOCK), 0);
  assert.equal(blocks.keyOf(1, 3 * BLOCK, BLOCK), 7);
  assert.equal(blocks.keyOf(0, 100, BLOCK), undefined); // unaligned
  assert.equal(blocks.keyOf(0, BLOCK, BLOCK - 1), undefined); // short
  assert.equal(blocks.keyOf(0, BLOCK, BLOCK + 1), undefined); // long
  assert.equal(blocks.keyOf(0, PIECE, BLOCK), undefined); // past the piece
  assert.deepEqual(blocks.refOf(7), { index: 1, begin: 3 * BLOCK, length: BLOCK });
});

Deno.test("BlockTracker: the last piece is short, and so is its last block", () => {
  const blocks = tracker();
  assert.equal(blocks.keyOf(2, BLOCK, 20000 - BLOCK), 9);
  assert.equal(blocks.keyOf(2, BLOCK, BLOCK), undefined);
  assert.equal(blocks.keyOf(2, 2 * BLOCK, BLOCK), undefined);
  assert.deepEqual(blocks.refOf(9), { index: 2, begin: BLOCK, length: 3616 });
  const last = blocks.start(2);
  assert.equal(last.states.length, 2);
  assert.equal(last.free, 2);
  assert.equal(blocks.claimIn(last), 8);
  assert.equal(blocks.claimIn(last), 9);
  assert.equal(blocks.claimIn(last), undefined);
  assert.equal(last.free, 0);
});

Deno.test("BlockTracker: start adds a piece once", () => {
  const blocks = tracker();
  const first = blocks.start(1);
  assert.equal(blocks.start(1), first);
  assert.equal(first.piece, 1);
  assert.equal(first.free, 4);
  assert.equal(first.received, 0);
  assert.deepEqual([...blocks.downloads.keys()], [1]);
});

Deno.test("BlockTracker: claimFree gives free blocks of pieces in progress that the peer has", () => {
  const blocks = tracker();
  const peer = new FakePeer("10.0.0.1");
  blocks.start(0);
  blocks.start(1);
  assert.equal(blocks.claimFree(peer), undefined); // has neither piece
  peer.pieces.set(1);
  assert.deepEqual([1, 2, 3, 4].map(() => blocks.claimFree(peer)), [4, 5, 6, 7]);
  assert.equal(blocks.claimFree(peer), undefined);
  assert.equal(blocks.downloads.get(1)!.free, 0);
  assert.equal(blocks.downloads.get(0)!.free, 4);
});

Deno.test("BlockTracker: release makes a requested block free again, and it is claimed first", () => {
  const blocks = tracker();
  const peer = new FakePeer("10.0.0.1").seed();
  const download = blocks.start(0);
  assert.deepEqual([0, 1, 2].map(() => blocks.claimIn(download)), [0, 1, 2]);
  blocks.release(1);
  assert.equal(download.free, 2);
  assert.equal(blocks.claimFree(peer), 1);
  assert.equal(blocks.claimFree(peer), 3);
  // Releasing a free or received block changes nothing.
  blocks.release(1);
  blocks.release(1);
  assert.equal(download.free, 1);
  blocks.receive(0, origin(peer));
  blocks.release(0);
  assert.equal(blocks.isReceived(0), true);
  assert.equal(download.free, 1);
});

Deno.test("BlockTracker: receive returns the download once; isReceived; unreceive frees the block", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const download = blocks.start(0);
  const key = blocks.claimFree(a)!;
  assert.equal(blocks.isReceived(key), false);
  assert.equal(blocks.receive(key, origin(a, "h")), download);
  assert.equal(download.received, 1);
  assert.equal(download.free, 3);
  assert.equal(blocks.isReceived(key), true);
  assert.equal(blocks.receive(key, origin(a, "h")), undefined);
  assert.equal(download.received, 1);
  blocks.unreceive(key);
  assert.equal(blocks.isReceived(key), false);
  assert.equal(download.received, 0);
  assert.equal(download.free, 4);
  assert.equal(download.origins[0], undefined);
  assert.equal(blocks.claimFree(a), key);
  // A block of a piece not in progress counts as received (nothing to do with it).
  assert.equal(blocks.isReceived(blocks.key(2, 0)), true);
  assert.equal(blocks.receive(blocks.key(2, 0), origin(a)), undefined);
});

Deno.test("BlockTracker: a block received without a request still leaves the free count right", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const download = blocks.start(1);
  blocks.receive(blocks.key(1, 2), origin(a));
  assert.equal(download.free, 3);
  assert.deepEqual([1, 2, 3].map(() => blocks.claimFree(a)), [4, 5, 7]);
  assert.equal(blocks.claimFree(a), undefined);
});

Deno.test("BlockTracker: finish forgets the piece and returns who sent each block", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const b = new FakePeer("10.0.0.2").seed();
  const download = blocks.start(2);
  blocks.receive(blocks.claimIn(download)!, origin(a, "x"));
  blocks.receive(blocks.claimIn(download)!, origin(b, "y"));
  const origins = blocks.finish(2);
  assert.equal(origins.length, 2);
  assert.equal(origins[0]!.sender, a);
  assert.equal(origins[0]!.hash, "x");
  assert.equal(origins[1]!.sender, b);
  assert.equal(blocks.downloads.has(2), false);
  assert.deepEqual(blocks.finish(2), []);
});

Deno.test("BlockTracker: after fail the piece is exclusive to its first claimer; disown frees it", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const b = new FakePeer("10.0.0.2").seed();
  const download = blocks.start(0);
  for (let i = 0; i < 4; i++) blocks.receive(blocks.claimIn(download)!, origin(i < 2 ? a : b));
  const origins = blocks.fail(0);
  assert.deepEqual(origins.map((o) => o?.sender), [a, a, b, b]);
  assert.equal(download.exclusive, true);
  assert.equal(download.owner, undefined);
  assert.equal(download.free, 4);
  assert.equal(download.received, 0);
  assert.deepEqual(download.origins, [undefined, undefined, undefined, undefined]);

  assert.equal(blocks.claimFree(b), 0);
  assert.equal(download.owner, b);
  assert.equal(blocks.claimFree(a), undefined); // not the owner
  assert.equal(blocks.claimFree(b), 1);
  // Endgame duplicates never go to an exclusive piece.
  assert.equal(blocks.claimDuplicate(a.pieces, () => false), undefined);

  // b stops: its requests are released and the piece goes to the next claimer.
  blocks.release(0);
  blocks.release(1);
  blocks.disown(b);
  assert.equal(download.owner, undefined);
  assert.deepEqual([1, 2, 3, 4].map(() => blocks.claimFree(a)), [0, 1, 2, 3]);
  assert.equal(download.owner, a);
  assert.equal(blocks.claimFree(b), undefined);
  assert.deepEqual(blocks.fail(3), []);
});

Deno.test("BlockTracker: disown leaves other owners' pieces alone", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const b = new FakePeer("10.0.0.2").seed();
  const zero = blocks.start(0);
  const one = blocks.start(1);
  blocks.fail(0);
  blocks.fail(1);
  assert.equal(blocks.claimFree(a), 0);
  // Piece 0 is a's; b takes piece 1.
  assert.equal(blocks.claimFree(b), 4);
  blocks.disown(a);
  assert.equal(zero.owner, undefined);
  assert.equal(one.owner, b);
});

Deno.test("BlockTracker: endgame duplicates go to at most two requesters, never the same peer twice", () => {
  const blocks = tracker();
  const a = new FakePeer("10.0.0.1").seed();
  const b = new FakePeer("10.0.0.2").seed();
  const c = new FakePeer("10.0.0.3").seed();
  const download = blocks.start(2);
  const first = blocks.claimFree(a)!;
  const second = blocks.claimFree(a)!;
  const askedOfA = new Set([first, second]);
  const askedOfB = new Set<number>();
  // a was asked for both blocks: no duplicate for it.
  assert.equal(blocks.claimDuplicate(a.pieces, (key) => askedOfA.has(key)), undefined);
  // A peer without the piece gets none.
  const none = new FakePeer("10.0.0.4");
  assert.equal(blocks.claimDuplicate(none.pieces, () => false), undefined);
  const dup = blocks.claimDuplicate(b.pieces, (key) => askedOfB.has(key))!;
  assert.equal(dup, first);
  askedOfB.add(dup);
  assert.equal(download.requesters[0], 2);
  assert.equal(blocks.claimDuplicate(b.pieces, (key) => askedOfB.has(key)), second);
  // Both blocks have two requesters now.
  assert.equal(blocks.claimDuplicate(c.pieces, () => false), undefined);
  // One requester gives up: the block stays requested by the other.
  blocks.release(first);
  assert.equal(download.requesters[0], 1);
  assert.equal(download.free, 0);
  assert.equal(blocks.claimDuplicate(c.pieces, () => false), first);
  // A received block is not duplicated.
  blocks.receive(second, origin(b));
  assert.equal(download.requesters[1], 0);
  assert.equal(blocks.claimDuplicate(c.pieces, (key) => key === first), undefined);
  // Released by both: free again.
  blocks.release(first);
  blocks.release(first);
  assert.equal(download.free, 1);
  assert.equal(blocks.claimFree(c), first);
});

Deno.test("BlockTracker: clear forgets every piece", () => {
  const blocks = tracker();
  blocks.start(0);
  blocks.start(2);
  blocks.clear();
  assert.equal(blocks.downloads.size, 0);
});
