import { createHash, type Hash } from "node:crypto";
import { sha256Of64 } from "./sha256_pair.ts";

/**
 * SHA-256 merkle trees of BitTorrent v2 (BEP 52): each file is cut into
 * 16 KiB blocks, the leaves are the SHA-256 of each block (the last block
 * hashed as it is, not padded), the leaf layer is padded with zero hashes to a
 * power of two, and each node is the SHA-256 of its two children.
 */

/** Bytes per merkle leaf block (BEP 52): 16 KiB. */
export const MERKLE_BLOCK_SIZE = 16384;

/** Bytes per merkle node hash (SHA-256). */
export const MERKLE_HASH_LENGTH = 32;

/**
 * SHA-256 of `bytes`, as BEP 52 hashes one leaf block.
 *
 * @example
 * ```ts
 * import { sha256 } from "@bittern/bittern";
 *
 * console.log(sha256(new Uint8Array(16384)).length); // 32
 * ```
 *
 * @param bytes The data (a block of at most 16 KiB for a leaf).
 * @returns The 32-byte digest.
 */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/**
 * A merkle node: SHA-256 of the left child's hash followed by the right's.
 *
 * @example
 * ```ts
 * import { hashPair, zeroSubtreeRoot } from "@bittern/bittern";
 *
 * const zero = zeroSubtreeRoot(0);
 * console.log(hashPair(zero, zero).length); // 32
 * ```
 *
 * @param left The left child's 32-byte hash.
 * @param right The right child's 32-byte hash.
 * @returns The parent's 32-byte hash.
 */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== MERKLE_HASH_LENGTH || right.length !== MERKLE_HASH_LENGTH) {
    throw new RangeError(`merkle nodes are 32 bytes (got ${left.length} and ${right.length})`);
  }
  return sha256Of64(left, right);
}

const zeroRoots: Uint8Array[] = [new Uint8Array(MERKLE_HASH_LENGTH)];

/**
 * The root of a subtree whose leaves are all zero hashes (the padding beyond
 * a file's end): height 0 is 32 zero bytes, height `h` is the pair of two
 * height `h - 1` roots. Memoised; do not modify the returned bytes.
 *
 * @example
 * ```ts
 * import { zeroSubtreeRoot } from "@bittern/bittern";
 *
 * // The padding hash of one 16 KiB-per-leaf piece of 64 KiB (4 leaves).
 * console.log(zeroSubtreeRoot(2).length); // 32
 * ```
 *
 * @param height Levels above the leaves (0 to 63).
 * @returns The subtree's 32-byte root.
 */
export function zeroSubtreeRoot(height: number): Uint8Array {
  if (!Number.isInteger(height) || height < 0 || height > 63) {
    throw new RangeError(`merkle subtree height must be an integer 0..63 (got ${height})`);
  }
  while (zeroRoots.length <= height) {
    const below = zeroRoots[zeroRoots.length - 1];
    zeroRoots.push(hashPair(below, below));
  }
  return zeroRoots[height];
}

/**
 * The smallest power of two at least `count` (1 for 0).
 *
 * @example
 * ```ts
 * import { nextPowerOfTwo } from "@bittern/bittern";
 *
 * console.log(nextPowerOfTwo(5)); // 8
 * ```
 *
 * @param count A non-negative integer.
 * @returns The power of two.
 */
export function nextPowerOfTwo(count: number): number {
  let power = 1;
  while (power < count) power *= 2;
  return power;
}

/**
 * Every layer of a merkle tree, leaves first and the one-hash root layer last.
 * The leaf layer is padded with `pad` up to `leafCount` (the next power of two
 * by default); padding above the leaves is the pair of paddings below. Each
 * layer lists only the nodes covering at least one given leaf (with no leaves,
 * the one padding node), so padding is never stored.
 *
 * @example
 * ```ts
 * import { merkleLayers, sha256 } from "@bittern/bittern";
 *
 * const layers = merkleLayers([sha256(new Uint8Array(1)), sha256(new Uint8Array(2))]);
 * console.log(layers.length); // 2 (two leaves, one root)
 * ```
 *
 * @param leaves The leaf hashes, 32 bytes each.
 * @param leafCount Leaves after padding: a power of two at least `leaves.length`.
 * @param pad The padding leaf (a zero hash; or, for a piece layer, the root of an all-zero piece).
 * @returns The layers; `layers[layers.length - 1][0]` is the root.
 */
export function merkleLayers(
  leaves: readonly Uint8Array[],
  leafCount: number = nextPowerOfTwo(leaves.length),
  pad: Uint8Array = zeroSubtreeRoot(0),
): Uint8Array[][] {
  const steps = merkleLayersInSteps(leaves, leafCount, pad);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value.layers;
}

/** A merkle tree's layers (as {@linkcode merkleLayers} gives them) and each layer's padding node. */
export interface MerkleLayers {
  /** Leaves first, the one-hash root layer last; padding nodes are not stored. */
  readonly layers: Uint8Array[][];
  /** The padding node of each layer: `pad`, then the pair of paddings below. */
  readonly pads: Uint8Array[];
}

/**
 * {@linkcode merkleLayers} in steps: pauses (`yield`) after every `slice` hashes, so a caller
 * can build a large tree over several turns of the event loop, and returns the layers with
 * the padding node of each.
 *
 * @param leaves The leaf hashes, 32 bytes each.
 * @param leafCount Leaves after padding: a power of two at least `leaves.length`.
 * @param pad The padding leaf.
 * @param slice Hashes between pauses (no pause by default).
 * @returns A generator whose return value is the tree.
 */
export function* merkleLayersInSteps(
  leaves: readonly Uint8Array[],
  leafCount: number = nextPowerOfTwo(leaves.length),
  pad: Uint8Array = zeroSubtreeRoot(0),
  slice: number = Number.POSITIVE_INFINITY,
): Generator<void, MerkleLayers> {
  checkLeafCount(leaves.length, leafCount);
  const layers: Uint8Array[][] = [[...leaves]];
  const pads = [pad];
  let hashed = 0;
  for (let width = leafCount; width > 1; width /= 2) {
    const below = layers[layers.length - 1];
    const padding = pads[pads.length - 1];
    const above: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) {
      above.push(hashPair(below[i], i + 1 < below.length ? below[i + 1] : padding));
      if (++hashed % slice === 0) yield;
    }
    const abovePadding = hashPair(padding, padding);
    // A layer wholly made of padding still needs its one node at the root.
    if (above.length === 0) above.push(abovePadding);
    layers.push(above);
    pads.push(abovePadding);
  }
  if (layers[0].length === 0) layers[0].push(pad);
  return { layers, pads };
}

/**
 * The root of a merkle tree over `leaves`, padded with zero hashes (or `pad`)
 * up to `leafCount` leaves (the next power of two by default).
 *
 * @example
 * ```ts
 * import { hashPair, merkleRoot, sha256, zeroSubtreeRoot } from "@bittern/bittern";
 *
 * const leaf = sha256(new TextEncoder().encode("hello"));
 * const root = merkleRoot([leaf], 2);
 * console.log(root.every((b, i) => b === hashPair(leaf, zeroSubtreeRoot(0))[i])); // true
 * ```
 *
 * @param leaves The leaf hashes, 32 bytes each.
 * @param leafCount Leaves after padding: a power of two at least `leaves.length`.
 * @param pad The padding leaf, 32 zero bytes by default.
 * @returns The 32-byte root.
 */
export function merkleRoot(
  leaves: readonly Uint8Array[],
  leafCount: number = nextPowerOfTwo(leaves.length),
  pad: Uint8Array = zeroSubtreeRoot(0),
): Uint8Array {
  checkLeafCount(leaves.length, leafCount);
  let layer: readonly Uint8Array[] = leaves;
  let padding = pad;
  let width = leafCount;
  if (layer.length === 0) return padAbove(pad, width);
  while (width > 1) {
    const above: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) {
      above.push(hashPair(layer[i], i + 1 < layer.length ? layer[i + 1] : padding));
    }
    padding = hashPair(padding, padding);
    width /= 2;
    layer = above;
  }
  return layer[0];
}

/**
 * Views of the 32-byte hashes concatenated in `bytes` (a piece layer, a `hashes` message's
 * hashes or proof), the first `count` of them (all by default). No bytes are copied.
 *
 * @example
 * ```ts ignore
 * import { splitHashes } from "./merkle.ts";
 *
 * console.log(splitHashes(new Uint8Array(96)).length); // 3
 * ```
 *
 * @param bytes Hashes, 32 bytes each.
 * @param count How many to take from the start.
 * @returns One 32-byte view per hash.
 */
export function splitHashes(
  bytes: Uint8Array,
  count: number = Math.floor(bytes.length / MERKLE_HASH_LENGTH),
): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    hashes.push(bytes.subarray(i * MERKLE_HASH_LENGTH, (i + 1) * MERKLE_HASH_LENGTH));
  }
  return hashes;
}

/**
 * The root of a file's merkle tree from its piece layer (the hashes of its
 * `pieceLength`-byte subtrees, as in `piece layers`): the layer is padded up to
 * a power of two with the root of an all-zero piece-sized subtree.
 *
 * @example
 * ```ts
 * import { pieceLayerRoot, zeroSubtreeRoot } from "@bittern/bittern";
 *
 * // One piece: its hash is the file's root.
 * const piece = zeroSubtreeRoot(3);
 * console.log(pieceLayerRoot([piece], 131072) === piece); // true
 * ```
 *
 * @param layerHashes The piece hashes, 32 bytes each, at least one.
 * @param pieceLength Bytes per piece: a power of two, at least 16 KiB.
 * @returns The file's 32-byte root.
 */
export function pieceLayerRoot(
  layerHashes: readonly Uint8Array[],
  pieceLength: number,
): Uint8Array {
  return merkleRoot(
    layerHashes,
    nextPowerOfTwo(layerHashes.length),
    zeroSubtreeRoot(pieceHeight(pieceLength)),
  );
}

/**
 * Levels between the leaves and the piece layer: log2(pieceLength / 16 KiB).
 *
 * @example
 * ```ts
 * import { pieceHeight } from "@bittern/bittern";
 *
 * console.log(pieceHeight(65536)); // 2
 * ```
 *
 * @param pieceLength Bytes per piece: a power of two, at least 16 KiB.
 * @returns The height of one piece's subtree.
 */
export function pieceHeight(pieceLength: number): number {
  if (
    !Number.isSafeInteger(pieceLength) || pieceLength < MERKLE_BLOCK_SIZE ||
    nextPowerOfTwo(pieceLength) !== pieceLength
  ) {
    throw new RangeError(
      `v2 piece length must be a power of two of at least 16 KiB (got ${pieceLength})`,
    );
  }
  return Math.log2(pieceLength / MERKLE_BLOCK_SIZE);
}

/**
 * The uncle hashes proving `layer[index]`: the sibling at each level from
 * `layer` up to (not including) the root. The layer is padded with `pad` to a
 * power of two, as {@linkcode merkleLayers} does.
 *
 * @example
 * ```ts
 * import { merkleRoot, proofFor, sha256, verifyProof } from "@bittern/bittern";
 *
 * const leaves = [1, 2, 3].map((n) => sha256(new Uint8Array([n])));
 * const proof = proofFor(leaves, 2);
 * console.log(verifyProof(leaves[2], 2, proof, merkleRoot(leaves))); // true
 * ```
 *
 * @param layer A whole layer of the tree (leaves, or a piece layer with its `pad`).
 * @param index The node to prove, `0 <= index < layer.length`.
 * @param pad The padding of that layer, 32 zero bytes by default.
 * @returns One hash per level, bottom up.
 */
export function proofFor(
  layer: readonly Uint8Array[],
  index: number,
  pad: Uint8Array = zeroSubtreeRoot(0),
): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= layer.length) {
    throw new RangeError(`merkle proof index ${index} outside a layer of ${layer.length}`);
  }
  const layers = merkleLayers(layer, nextPowerOfTwo(layer.length), pad);
  const proof: Uint8Array[] = [];
  let padding = pad;
  let position = index;
  for (let level = 0; level < layers.length - 1; level++) {
    const sibling = position ^ 1;
    const nodes = layers[level];
    proof.push(sibling < nodes.length ? nodes[sibling] : padding);
    padding = hashPair(padding, padding);
    position >>= 1;
  }
  return proof;
}

/**
 * Whether `proof` (uncle hashes, bottom up, as {@linkcode proofFor} gives)
 * leads from `node` at `index` of its layer to `root`. A proof of the wrong
 * shape is simply false.
 *
 * @example
 * ```ts
 * import { hashPair, sha256, verifyProof } from "@bittern/bittern";
 *
 * const a = sha256(new Uint8Array([1]));
 * const b = sha256(new Uint8Array([2]));
 * console.log(verifyProof(b, 1, [a], hashPair(a, b))); // true
 * ```
 *
 * @param node The 32-byte hash being proved.
 * @param index Its position in its layer.
 * @param proof The uncle hashes, bottom up.
 * @param root The expected 32-byte root.
 * @returns True when the hashes lead to `root`.
 */
export function verifyProof(
  node: Uint8Array,
  index: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** proof.length) return false;
  if (node.length !== MERKLE_HASH_LENGTH || root.length !== MERKLE_HASH_LENGTH) return false;
  let hash = node;
  let position = index;
  for (const uncle of proof) {
    if (uncle.length !== MERKLE_HASH_LENGTH) return false;
    hash = position & 1 ? hashPair(uncle, hash) : hashPair(hash, uncle);
    position >>= 1;
  }
  return bytesEqual(hash, root);
}

/**
 * A file's BEP 52 merkle tree, computed while its bytes stream past: feed
 * chunks of any size in order, then read {@linkcode MerkleFileHasher.root}
 * and {@linkcode MerkleFileHasher.pieceLayer}. It keeps one hash per
 * `keptPieceLength` bytes (the piece layer) and the leaves of the current
 * piece, never the data.
 *
 * @example
 * ```ts
 * import { MerkleFileHasher } from "@bittern/bittern";
 *
 * const hasher = new MerkleFileHasher(65536);
 * hasher.update(new Uint8Array(100000));
 * console.log(hasher.pieceLayer(65536).length); // 2
 * console.log(hasher.root?.length); // 32
 * ```
 */
export class MerkleFileHasher {
  readonly #keptHeight: number;
  readonly #blocksPerPiece: number;
  readonly #pieceRoots: Uint8Array[] = [];
  #leaves: Uint8Array[] = [];
  #block: Hash = createHash("sha256");
  #blockFilled = 0;
  #total = 0;

  /**
   * Creates a hasher that keeps the layer of `keptPieceLength`-byte subtrees,
   * the smallest piece length {@linkcode MerkleFileHasher.pieceLayer} can give.
   *
   * @param keptPieceLength A power of two of at least 16 KiB (16 KiB by default: every leaf kept).
   */
  constructor(keptPieceLength: number = MERKLE_BLOCK_SIZE) {
    this.#keptHeight = pieceHeight(keptPieceLength);
    this.#blocksPerPiece = 2 ** this.#keptHeight;
  }

  /** Bytes fed so far. */
  get length(): number {
    return this.#total;
  }

  /**
   * Feeds the next bytes of the file. The chunk is not kept.
   *
   * @param chunk The next bytes.
   */
  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      // A full block is closed only when more bytes come, so the last block
      // of the file stays open for root and pieceLayer to read.
      if (this.#blockFilled === MERKLE_BLOCK_SIZE) this.#closeBlock();
      const take = Math.min(MERKLE_BLOCK_SIZE - this.#blockFilled, chunk.length - offset);
      this.#block.update(chunk.subarray(offset, offset + take));
      this.#blockFilled += take;
      offset += take;
    }
    this.#total += chunk.length;
  }

  /**
   * The file's merkle root (`pieces root`), or undefined for an empty file
   * (BEP 52 gives empty files no root). Reading it does not end the stream.
   */
  get root(): Uint8Array | undefined {
    if (this.#total === 0) return undefined;
    const leaves = this.#currentLeaves();
    if (this.#pieceRoots.length === 0) return merkleRoot(leaves);
    const layer = [...this.#pieceRoots, this.#pieceRootOf(leaves)];
    return merkleRoot(layer, nextPowerOfTwo(layer.length), zeroSubtreeRoot(this.#keptHeight));
  }

  /**
   * The file's piece layer for `pieceLength`: one hash per piece, the last
   * piece padded with zero leaves to a whole piece. A torrent's `piece
   * layers` holds it only for files longer than one piece; for a shorter
   * file this is that one padded hash, which is not the file's root.
   *
   * @param pieceLength A power of two, at least the one given to the constructor.
   * @returns The hashes, 32 bytes each (none for an empty file).
   */
  pieceLayer(pieceLength: number): Uint8Array[] {
    const height = pieceHeight(pieceLength);
    if (height < this.#keptHeight) {
      throw new RangeError(
        `piece layer of ${pieceLength} bytes is below the kept layer of ${
          this.#blocksPerPiece * MERKLE_BLOCK_SIZE
        }`,
      );
    }
    if (this.#total === 0) return [];
    let layer = [...this.#pieceRoots, this.#pieceRootOf(this.#currentLeaves())];
    for (let level = this.#keptHeight; level < height; level++) {
      const padding = zeroSubtreeRoot(level);
      const above: Uint8Array[] = [];
      for (let i = 0; i < layer.length; i += 2) {
        above.push(hashPair(layer[i], i + 1 < layer.length ? layer[i + 1] : padding));
      }
      layer = above;
    }
    return layer;
  }

  #closeBlock(): void {
    this.#leaves.push(new Uint8Array(this.#block.digest()));
    this.#block = createHash("sha256");
    this.#blockFilled = 0;
    // The open block is always a later one, so a full piece can be reduced now.
    if (this.#leaves.length === this.#blocksPerPiece) {
      this.#pieceRoots.push(merkleRoot(this.#leaves));
      this.#leaves = [];
    }
  }

  /** The current piece's leaves with the open block's hash, without closing it. */
  #currentLeaves(): Uint8Array[] {
    if (this.#blockFilled === 0) return this.#leaves;
    return [...this.#leaves, new Uint8Array(this.#block.copy().digest())];
  }

  #pieceRootOf(leaves: readonly Uint8Array[]): Uint8Array {
    return merkleRoot(leaves, this.#blocksPerPiece);
  }
}

function padAbove(pad: Uint8Array, width: number): Uint8Array {
  let hash = pad;
  for (let w = width; w > 1; w /= 2) hash = hashPair(hash, hash);
  return hash;
}

function checkLeafCount(leaves: number, leafCount: number): void {
  if (
    !Number.isSafeInteger(leafCount) || leafCount < Math.max(1, leaves) ||
    nextPowerOfTwo(leafCount) !== leafCount
  ) {
    throw new RangeError(
      `merkle leaf count must be a power of two of at least ${leaves} (got ${leafCount})`,
    );
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
