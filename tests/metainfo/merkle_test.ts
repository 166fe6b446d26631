import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  hashPair,
  MERKLE_BLOCK_SIZE,
  MerkleFileHasher,
  merkleLayers,
  merkleLayersInSteps,
  merkleRoot,
  pieceLayerRoot,
  proofFor,
  sha256,
  verifyProof,
  zeroSubtreeRoot,
} from "../../src/metainfo/merkle.ts";
import { hasLibtorrent } from "../interop/lt_process.ts";

// Expectations are built from Web Crypto's SHA-256, independent of node:crypto
// and of the helpers under test.
async function h(...parts: Uint8Array[]): Promise<Uint8Array> {
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

const ZERO = new Uint8Array(32);

/** Deterministic non-repeating bytes. */
function data(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function leavesOf(bytes: Uint8Array): Promise<Uint8Array[]> {
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += MERKLE_BLOCK_SIZE) {
    leaves.push(await h(bytes.subarray(i, i + MERKLE_BLOCK_SIZE)));
  }
  return leaves;
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes ? Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") : "none";
}

function feed(hasher: MerkleFileHasher, bytes: Uint8Array, chunk: number): void {
  for (let i = 0; i < bytes.length; i += chunk) hasher.update(bytes.subarray(i, i + chunk));
}

Deno.test("zero subtree roots: 32 zero bytes, then pairs of the level below", async () => {
  assert.deepEqual(zeroSubtreeRoot(0), ZERO);
  const one = await h(ZERO, ZERO);
  assert.deepEqual(zeroSubtreeRoot(1), one);
  assert.deepEqual(zeroSubtreeRoot(2), await h(one, one));
  assert.ok(zeroSubtreeRoot(5) === zeroSubtreeRoot(5), "memoised");
  assert.throws(() => zeroSubtreeRoot(-1), RangeError);
  assert.throws(() => zeroSubtreeRoot(1.5), RangeError);
});

Deno.test("hashPair and sha256 match Web Crypto", async () => {
  const a = await h(new Uint8Array([1]));
  const b = await h(new Uint8Array([2]));
  assert.deepEqual(sha256(new Uint8Array([1])), a);
  assert.deepEqual(hashPair(a, b), await h(a, b));
});

Deno.test("hashPair (a TypeScript SHA-256 of 64 bytes) matches node:crypto on 2,000 inputs", () => {
  const input = new Uint8Array(64);
  for (let i = 0; i < 2000; i++) {
    if (i === 0) input.fill(0);
    else if (i === 1) input.fill(0xff);
    else crypto.getRandomValues(input);
    const expected = new Uint8Array(createHash("sha256").update(input).digest());
    assert.deepEqual(hashPair(input.subarray(0, 32), input.subarray(32)), expected);
  }
  assert.throws(() => hashPair(new Uint8Array(31), new Uint8Array(32)), RangeError);
});

Deno.test("merkleRoot pads to a power of two with zero hashes", async () => {
  const [a, b, c] = [
    await h(new Uint8Array([1])),
    await h(new Uint8Array([2])),
    await h(new Uint8Array([3])),
  ];
  assert.deepEqual(merkleRoot([a]), a);
  assert.deepEqual(merkleRoot([a, b]), await h(a, b));
  assert.deepEqual(merkleRoot([a, b, c]), await h(await h(a, b), await h(c, ZERO)));
  // A wider tree than needed: the extra half is an all-zero subtree.
  assert.deepEqual(merkleRoot([a], 4), await h(await h(a, ZERO), await h(ZERO, ZERO)));
  assert.deepEqual(merkleRoot([], 4), zeroSubtreeRoot(2));
  assert.throws(() => merkleRoot([a, b, c], 2), RangeError);
  assert.throws(() => merkleRoot([a], 3), RangeError);
});

Deno.test("merkleLayers: every layer, the root last", async () => {
  const leaves = [1, 2, 3].map((n) => sha256(new Uint8Array([n])));
  const layers = merkleLayers(leaves);
  assert.deepEqual(layers.length, 3);
  assert.deepEqual(layers[0], leaves);
  assert.deepEqual(layers[1], [await h(leaves[0], leaves[1]), await h(leaves[2], ZERO)]);
  assert.deepEqual(layers[2], [merkleRoot(leaves)]);
});

Deno.test("merkleLayersInSteps: pauses every `slice` hashes; the same layers, and each layer's padding", async () => {
  const leaves = Array.from({ length: 5 }, (_, n) => sha256(new Uint8Array([n])));
  const pad = await h(ZERO, ZERO);
  const steps = merkleLayersInSteps(leaves, 8, pad, 2);
  let pauses = 0;
  let step = steps.next();
  for (; !step.done; step = steps.next()) pauses++;
  // 3 + 2 + 1 pair hashes over layers of 5, 3 and 2 nodes: a pause after the 2nd, 4th and 6th.
  assert.equal(pauses, 3);
  const { layers, pads } = step.value;
  assert.deepEqual(layers, merkleLayers(leaves, 8, pad));
  const pads1 = await h(pad, pad);
  const pads2 = await h(pads1, pads1);
  assert.deepEqual(pads, [pad, pads1, pads2, await h(pads2, pads2)], "one per layer, root's too");
});

Deno.test("pieceLayerRoot pads a piece layer with all-zero piece roots", async () => {
  const p = [1, 2, 3].map((n) => sha256(new Uint8Array([n])));
  // 64 KiB pieces: four leaves each, so the padding is the height-2 zero root.
  const pad = await h(await h(ZERO, ZERO), await h(ZERO, ZERO));
  assert.deepEqual(pieceLayerRoot(p, 65536), await h(await h(p[0], p[1]), await h(p[2], pad)));
  assert.deepEqual(pieceLayerRoot([p[0]], 65536), p[0]);
  assert.throws(() => pieceLayerRoot(p, 65536 + 1), RangeError);
  assert.throws(() => pieceLayerRoot(p, 8192), RangeError);
});

Deno.test("MerkleFileHasher: one block is its own root", async () => {
  const bytes = data(1000);
  const hasher = new MerkleFileHasher();
  hasher.update(bytes);
  assert.deepEqual(hasher.root, await h(bytes));
  assert.deepEqual(hasher.length, 1000);
  const full = data(MERKLE_BLOCK_SIZE);
  const exact = new MerkleFileHasher(32768);
  exact.update(full);
  assert.deepEqual(exact.root, await h(full));
});

Deno.test("MerkleFileHasher: an empty file has no root and no piece layer", () => {
  const hasher = new MerkleFileHasher(32768);
  hasher.update(new Uint8Array(0));
  assert.deepEqual(hasher.root, undefined);
  assert.deepEqual(hasher.pieceLayer(32768), []);
});

Deno.test("MerkleFileHasher: a file shorter than a piece has the root of its own leaves", async () => {
  // Two full blocks and a short third: the root is over 4 leaves, not over a whole 128 KiB piece.
  const bytes = data(2 * MERKLE_BLOCK_SIZE + 100);
  const [l0, l1, l2] = await leavesOf(bytes);
  const root = await h(await h(l0, l1), await h(l2, ZERO));
  const hasher = new MerkleFileHasher(131072);
  feed(hasher, bytes, 7000);
  assert.deepEqual(hex(hasher.root), hex(root));
  // Its one piece hash is padded to the whole 128 KiB piece (8 leaves).
  const zero2 = zeroSubtreeRoot(2);
  assert.deepEqual(hasher.pieceLayer(131072), [await h(root, zero2)]);
});

Deno.test("MerkleFileHasher: piece layer and root of a multi-piece file, any chunking", async () => {
  // Five blocks (the last short) in 32 KiB pieces: pieces (l0 l1) (l2 l3) (l4 0).
  const bytes = data(4 * MERKLE_BLOCK_SIZE + 5);
  const [l0, l1, l2, l3, l4] = await leavesOf(bytes);
  const pieces = [await h(l0, l1), await h(l2, l3), await h(l4, ZERO)];
  const zeroPiece = await h(ZERO, ZERO);
  const root = await h(await h(pieces[0], pieces[1]), await h(pieces[2], zeroPiece));
  for (const kept of [MERKLE_BLOCK_SIZE, 32768]) {
    for (const chunk of [1 << 20, MERKLE_BLOCK_SIZE, 4096, 12345, 1]) {
      if (chunk === 1 && kept !== 32768) continue; // byte-by-byte once is enough
      const hasher = new MerkleFileHasher(kept);
      feed(hasher, bytes, chunk);
      assert.deepEqual(hex(hasher.root), hex(root), `kept ${kept}, chunk ${chunk}`);
      assert.deepEqual(hasher.pieceLayer(32768).map(hex), pieces.map(hex), `kept ${kept}`);
    }
  }
  // A wider piece layer derived from a narrower kept one: 64 KiB pieces.
  const hasher = new MerkleFileHasher();
  hasher.update(bytes);
  assert.deepEqual(hasher.pieceLayer(65536), [
    await h(pieces[0], pieces[1]),
    await h(pieces[2], zeroPiece),
  ]);
  assert.deepEqual(pieceLayerRoot(hasher.pieceLayer(32768), 32768), root);
  assert.throws(() => new MerkleFileHasher(65536).pieceLayer(32768), RangeError);
});

Deno.test("MerkleFileHasher: a file of exactly whole pieces", async () => {
  const bytes = data(4 * MERKLE_BLOCK_SIZE);
  const [l0, l1, l2, l3] = await leavesOf(bytes);
  const hasher = new MerkleFileHasher(32768);
  feed(hasher, bytes, MERKLE_BLOCK_SIZE);
  assert.deepEqual(hasher.pieceLayer(32768), [await h(l0, l1), await h(l2, l3)]);
  assert.deepEqual(hasher.root, await h(await h(l0, l1), await h(l2, l3)));
  // Exactly one piece: its hash is the root.
  const one = new MerkleFileHasher(65536);
  one.update(bytes);
  assert.deepEqual(one.pieceLayer(65536), [one.root]);
});

Deno.test("proofFor and verifyProof: every node of a padded layer", () => {
  const leaves = [1, 2, 3, 4, 5].map((n) => sha256(new Uint8Array([n])));
  const root = merkleRoot(leaves);
  for (let i = 0; i < leaves.length; i++) {
    const proof = proofFor(leaves, i);
    assert.deepEqual(proof.length, 3);
    assert.ok(verifyProof(leaves[i], i, proof, root), `leaf ${i}`);
    assert.ok(!verifyProof(leaves[i], i ^ 1, proof, root), `leaf ${i} at the wrong index`);
    const bad = proof.map((p) => p.slice());
    bad[proof.length - 1][0] ^= 1;
    assert.ok(!verifyProof(leaves[i], i, bad, root), `leaf ${i} with a bad uncle`);
    assert.ok(!verifyProof(leaves[i], i, proof.slice(1), root), `leaf ${i} with a short proof`);
  }
  assert.ok(!verifyProof(leaves[0], 8, proofFor(leaves, 0), root), "index beyond the tree");
  assert.ok(!verifyProof(leaves[0].subarray(1), 0, proofFor(leaves, 0), root), "short hash");
  assert.throws(() => proofFor(leaves, 5), RangeError);
  // A piece layer with its own padding proves against the file root.
  const pieceRoots = leaves.slice(0, 3);
  const fileRoot = pieceLayerRoot(pieceRoots, 65536);
  const proof = proofFor(pieceRoots, 2, zeroSubtreeRoot(2));
  assert.ok(verifyProof(pieceRoots[2], 2, proof, fileRoot));
  assert.deepEqual(proof[0], zeroSubtreeRoot(2));
});

const LT_SCRIPT = `
import json, sys, libtorrent as lt
path, piece = sys.argv[1], int(sys.argv[2])
fs = lt.file_storage()
lt.add_files(fs, path)
ct = lt.create_torrent(fs, piece, lt.create_torrent.v2_only)
lt.set_piece_hashes(ct, sys.argv[3])
meta = ct.generate()
node = meta[b"info"][b"file tree"][path.rsplit("/", 1)[1].encode()][b""]
root = node.get(b"pieces root", b"")
layer = meta.get(b"piece layers", {}).get(root, b"")
print(json.dumps({"root": root.hex(), "layer": layer.hex()}))
`;

const libtorrent = await hasLibtorrent();
if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the test below is skipped
  console.warn("libtorrent merkle cross-check skipped: /usr/bin/python3 cannot import libtorrent");
}

Deno.test({
  name: "MerkleFileHasher agrees with libtorrent on a file's root and piece layer",
  ignore: !libtorrent,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    try {
      const cases = [[5 * 65536 + 777, 65536], [3 * MERKLE_BLOCK_SIZE + 1, 32768], [100, 16384]];
      for (const [size, piece] of cases) {
        await t.step(`${size} bytes in ${piece}-byte pieces`, async () => {
          const bytes = data(size, size);
          const path = `${dir}/f${size}.bin`;
          await Deno.writeFile(path, bytes);
          const out = await new Deno.Command("/usr/bin/python3", {
            args: ["-c", LT_SCRIPT, path, String(piece), dir],
            stdout: "piped",
            stderr: "piped",
            signal: AbortSignal.timeout(30_000),
          }).output();
          assert.ok(out.success, new TextDecoder().decode(out.stderr));
          const lt = JSON.parse(new TextDecoder().decode(out.stdout));
          const hasher = new MerkleFileHasher(piece);
          feed(hasher, bytes, 10_000);
          assert.deepEqual(hex(hasher.root), lt.root);
          const layer = size > piece ? hasher.pieceLayer(piece).map(hex).join("") : "";
          assert.deepEqual(layer, lt.layer);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
