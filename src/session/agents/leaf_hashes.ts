/**
 * Answers BEP 52 `hash request`s for one verified piece's leaves (base layer 0), as a peer
 * repairing a failed piece asks them (libtorrent's `verify_block_hashes`): the piece is read
 * back 16 KiB at a time and each leaf hashed. Used by the `hashes` agent.
 */
import type { AgentPeer, AgentSession } from "../../agents/agent.ts";
import { MERKLE_BLOCK_SIZE, MERKLE_HASH_LENGTH } from "../../metainfo/merkle.ts";
import type { HashesMessage, HashRequestMessage } from "../../wire/messages.ts";
import { hashLeaves } from "../../storage/v2_pieces.ts";
import { PieceLeaves } from "../piece_leaves.ts";

/**
 * Serves one piece's leaf hashes per request; one request per peer at a time (its next ones
 * are rejected meanwhile), so a peer costs at most one 16 KiB read in flight.
 *
 * @example
 * ```ts ignore
 * import { LeafHashServer } from "./leaf_hashes.ts";
 *
 * const server = new LeafHashServer();
 * // in a `hash-request` handler, for base layer 0:
 * // const reply = await server.answer(session, peer, request, proofOf);
 * ```
 */
export class LeafHashServer {
  readonly #busy = new WeakSet<AgentPeer>();
  #leaves: PieceLeaves | undefined;
  #session: AgentSession | undefined;

  /**
   * The answer to `request` (base layer 0), or why it is rejected.
   *
   * @param session The session serving the torrent.
   * @param peer Who asks.
   * @param request The request.
   * @param proofOf The uncles above the piece, answered as a request for its piece-layer hash
   * with `proofLayers` lowered by the piece's height (a reason string when not servable).
   */
  async answer(
    session: AgentSession,
    peer: AgentPeer,
    request: HashRequestMessage,
    proofOf: (pieceRequest: HashRequestMessage) => HashesMessage | string,
  ): Promise<HashesMessage | string> {
    if (request.baseLayer !== 0) return "not the leaf layer";
    if (this.#session !== session) {
      this.#session = session;
      this.#leaves = new PieceLeaves(session.torrent);
    }
    const piece = this.#leaves!.pieceAt(request.piecesRoot, request.index, request.length);
    if (piece === undefined) return "not the leaves of one piece";
    if (!session.canServe || !session.verified.get(piece)) return "piece not verified";
    const range = this.#leaves!.rangeOf(piece)!;
    const height = Math.log2(range.length);
    let proof: Uint8Array = new Uint8Array(0);
    if (request.proofLayers >= height) {
      const above = proofOf({
        ...request,
        baseLayer: height,
        index: range.index / range.length,
        length: 1,
        proofLayers: request.proofLayers - height,
      });
      if (typeof above === "string") return above;
      proof = above.proof;
    }
    if (this.#busy.has(peer)) return "busy with this peer's last request";
    this.#busy.add(peer);
    try {
      const hashes = new Uint8Array(range.length * MERKLE_HASH_LENGTH);
      for (let begin = 0; begin < range.dataLength; begin += MERKLE_BLOCK_SIZE) {
        const length = Math.min(MERKLE_BLOCK_SIZE, range.dataLength - begin);
        const block = await session.readBlock({ index: piece, begin, length });
        try {
          hashLeaves(block.bytes, begin, range.dataLength, hashes);
        } finally {
          block.release();
        }
        if (peer.closed) return "peer gone";
      }
      return { ...request, type: "hashes", hashes, proof };
    } catch {
      return "piece could not be read";
    } finally {
      this.#busy.delete(peer);
    }
  }
}
