/**
 * Message ids of the peer wire protocol (BEP 3, plus `port` from BEP 5, the fast extension's
 * five from BEP 6, `extended` from BEP 10 and BEP 52's three merkle hash messages).
 *
 * @example
 * ```ts
 * import { MessageId } from "@bittern/bittern";
 *
 * console.log(MessageId.piece, MessageId.extended); // 7 20
 * ```
 */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggestPiece: 13,
  haveAll: 14,
  haveNone: 15,
  rejectRequest: 16,
  allowedFast: 17,
  extended: 20,
  hashRequest: 21,
  hashes: 22,
  hashReject: 23,
} as const;

/**
 * A keep-alive: a zero-length frame.
 *
 * @example
 * ```ts
 * import type { KeepAliveMessage } from "@bittern/bittern";
 *
 * const message: KeepAliveMessage = { type: "keep-alive" };
 * ```
 */
export interface KeepAliveMessage {
  /** Discriminant. */
  readonly type: "keep-alive";
}
/**
 * One of the four state messages, which carry no payload.
 *
 * @example
 * ```ts
 * import type { StateMessage } from "@bittern/bittern";
 *
 * const message: StateMessage = { type: "unchoke" };
 * ```
 */
export interface StateMessage {
  /** Discriminant. */
  readonly type: "choke" | "unchoke" | "interested" | "not-interested";
}
/**
 * The sender has verified piece `index`.
 *
 * @example
 * ```ts
 * import type { HaveMessage } from "@bittern/bittern";
 *
 * const message: HaveMessage = { type: "have", index: 12 };
 * ```
 */
export interface HaveMessage {
  /** Discriminant. */
  readonly type: "have";
  /** Zero-based piece index. */
  readonly index: number;
}
/**
 * The pieces the sender has, one bit per piece, high bit first.
 *
 * @example
 * ```ts
 * import { Bitfield, type BitfieldMessage } from "@bittern/bittern";
 *
 * declare const message: BitfieldMessage;
 * const have = Bitfield.fromBytes(message.bitfield, 100); // throws on a wrong size
 * ```
 */
export interface BitfieldMessage {
  /** Discriminant. */
  readonly type: "bitfield";
  /** `ceil(pieceCount / 8)` bytes; spare bits are zero. */
  readonly bitfield: Uint8Array;
}
/**
 * A request for, or the cancellation of a request for, one block.
 *
 * @example
 * ```ts
 * import type { BlockRequestMessage } from "@bittern/bittern";
 *
 * const message: BlockRequestMessage = { type: "request", index: 0, begin: 16384, length: 16384 };
 * ```
 */
export interface BlockRequestMessage {
  /** Discriminant. */
  readonly type: "request" | "cancel";
  /** Piece index. */
  readonly index: number;
  /** Byte offset within the piece. */
  readonly begin: number;
  /** Number of bytes. */
  readonly length: number;
}
/**
 * One block of piece data.
 *
 * @example
 * ```ts
 * import type { PieceMessage } from "@bittern/bittern";
 *
 * const message: PieceMessage = { type: "piece", index: 0, begin: 0, block: new Uint8Array(16384) };
 * ```
 */
export interface PieceMessage {
  /** Discriminant. */
  readonly type: "piece";
  /** Piece index. */
  readonly index: number;
  /** Byte offset within the piece. */
  readonly begin: number;
  /**
   * The block's bytes. When decoded this is usually a view into the socket's
   * read buffer (not a copy); it stays valid as long as it is referenced.
   */
  readonly block: Uint8Array;
}
/**
 * The sender's DHT port (BEP 5).
 *
 * @example
 * ```ts
 * import type { PortMessage } from "@bittern/bittern";
 *
 * const message: PortMessage = { type: "port", port: 6881 };
 * ```
 */
export interface PortMessage {
  /** Discriminant. */
  readonly type: "port";
  /** UDP port, 0-65535. */
  readonly port: number;
}
/**
 * BEP 6 (fast extension): the sender has every piece (`have-all`) or none
 * (`have-none`), sent instead of a bitfield as the first message.
 *
 * @example
 * ```ts
 * import type { HaveAllMessage } from "@bittern/bittern";
 *
 * const message: HaveAllMessage = { type: "have-all" };
 * ```
 */
export interface HaveAllMessage {
  /** Discriminant. */
  readonly type: "have-all" | "have-none";
}
/**
 * BEP 6 (fast extension): a piece the sender suggests downloading from it
 * (`suggest-piece`, advisory), or one the receiver may request even while
 * choked (`allowed-fast`).
 *
 * @example
 * ```ts
 * import type { FastPieceMessage } from "@bittern/bittern";
 *
 * const message: FastPieceMessage = { type: "allowed-fast", index: 42 };
 * ```
 */
export interface FastPieceMessage {
  /** Discriminant. */
  readonly type: "suggest-piece" | "allowed-fast";
  /** Zero-based piece index (not range-checked by the codec: it may precede the metadata). */
  readonly index: number;
}
/**
 * BEP 6 (fast extension): the sender will not serve the receiver's request
 * for this block.
 *
 * @example
 * ```ts
 * import type { RejectRequestMessage } from "@bittern/bittern";
 *
 * const message: RejectRequestMessage = { type: "reject-request", index: 0, begin: 0, length: 16384 };
 * ```
 */
export interface RejectRequestMessage {
  /** Discriminant. */
  readonly type: "reject-request";
  /** Piece index. */
  readonly index: number;
  /** Byte offset within the piece. */
  readonly begin: number;
  /** Number of bytes. */
  readonly length: number;
}
/**
 * A BEP 10 extended message: `id` 0 is the extended handshake, others are per-connection ids.
 *
 * @example
 * ```ts
 * import type { ExtendedMessage } from "@bittern/bittern";
 *
 * const message: ExtendedMessage = { type: "extended", id: 1, payload: new Uint8Array() };
 * ```
 */
export interface ExtendedMessage {
  /** Discriminant. */
  readonly type: "extended";
  /** Extended message id (0 = extended handshake). */
  readonly id: number;
  /** The message body after the extended id byte. */
  readonly payload: Uint8Array;
}
/**
 * BEP 52: a request for `length` hashes of layer `baseLayer` (0: the 16 KiB blocks' layer)
 * of the merkle tree whose root is `piecesRoot`, from `index` on, with the uncle hashes of
 * `proofLayers` layers above them (`hash-request`); or the refusal to answer one, echoing
 * its fields (`hash-reject`).
 *
 * The codec checks the shape: `length` a power of two up to `WireLimits.maxHashCount`,
 * `index` a multiple of `length`, `proofLayers` at most 64.
 *
 * @example Asking for the first 512 piece hashes of a file (64 KiB pieces: layer 2)
 * ```ts
 * import type { HashRequestMessage } from "@bittern/bittern";
 *
 * declare const piecesRoot: Uint8Array; // a file of 2000 pieces: 2048 wide, 11 layers to the root
 * const message: HashRequestMessage = {
 *   type: "hash-request",
 *   piecesRoot,
 *   baseLayer: 2,
 *   index: 0,
 *   length: 512,
 *   proofLayers: 10, // the uncles of 2 layers, up to a child of the root
 * };
 * ```
 */
export interface HashRequestMessage {
  /** Discriminant. */
  readonly type: "hash-request" | "hash-reject";
  /** The file's 32-byte `pieces root`. */
  readonly piecesRoot: Uint8Array;
  /** The layer asked for, counted from the leaves (16 KiB blocks) up. */
  readonly baseLayer: number;
  /** The first hash's position in its layer; a multiple of `length`. */
  readonly index: number;
  /** How many hashes: a power of two. */
  readonly length: number;
  /** How many layers, from the base layer up, the proof covers. */
  readonly proofLayers: number;
}

/**
 * BEP 52: the answer to a {@linkcode HashRequestMessage}, echoing its fields: the `length`
 * hashes of the base layer, then the uncle hashes proving their subtree, bottom up: the
 * sibling of the subtree's root (`log2(length)` layers above the base) and of each ancestor up
 * to `proofLayers` layers above the base, so `max(0, proofLayers - log2(length) + 1)` of them
 * (libtorrent's count; `proofLayers` below the base-to-root height, so the last is a child of
 * the root).
 *
 * @example Checking an answer with the merkle helpers
 * ```ts
 * import { type HashesMessage, merkleRoot, verifyProof } from "@bittern/bittern";
 *
 * declare const message: HashesMessage;
 * const hashes = [];
 * for (let at = 0; at < message.hashes.length; at += 32) hashes.push(message.hashes.subarray(at, at + 32));
 * const subtree = merkleRoot(hashes, hashes.length);
 * const uncles = [];
 * for (let at = 0; at < message.proof.length; at += 32) uncles.push(message.proof.subarray(at, at + 32));
 * console.log(verifyProof(subtree, message.index / message.length, uncles, message.piecesRoot));
 * ```
 */
export interface HashesMessage {
  /** Discriminant. */
  readonly type: "hashes";
  /** The file's 32-byte `pieces root`. */
  readonly piecesRoot: Uint8Array;
  /** The layer of `hashes`, counted from the leaves up. */
  readonly baseLayer: number;
  /** The first hash's position in its layer. */
  readonly index: number;
  /** How many base-layer hashes: a power of two. */
  readonly length: number;
  /** How many layers, from the base layer up, the answer covers. */
  readonly proofLayers: number;
  /** `length` 32-byte hashes of the base layer (a view, valid during the handler). */
  readonly hashes: Uint8Array;
  /** The uncle hashes, 32 bytes each, bottom up (a view, valid during the handler). */
  readonly proof: Uint8Array;
}

/**
 * A message with an id this codec does not know; it is passed on, never fatal.
 *
 * @example
 * ```ts
 * import type { UnknownMessage } from "@bittern/bittern";
 *
 * // An Azureus-style message (id 255), sent by hand.
 * const message: UnknownMessage = { type: "unknown", id: 255, payload: new Uint8Array() };
 * ```
 */
export interface UnknownMessage {
  /** Discriminant. */
  readonly type: "unknown";
  /** The message id byte. */
  readonly id: number;
  /** The body after the id byte. */
  readonly payload: Uint8Array;
}

/**
 * Every peer wire message, discriminated by `type`.
 *
 * @example Switching on a message
 * ```ts
 * import type { Message } from "@bittern/bittern";
 *
 * function describe(message: Message): string {
 *   switch (message.type) {
 *     case "piece":
 *       return `block ${message.index}:${message.begin} (${message.block.length} bytes)`;
 *     case "have":
 *       return `has ${message.index}`;
 *     default:
 *       return message.type;
 *   }
 * }
 * ```
 */
export type Message =
  | KeepAliveMessage
  | StateMessage
  | HaveMessage
  | BitfieldMessage
  | BlockRequestMessage
  | PieceMessage
  | PortMessage
  | HaveAllMessage
  | FastPieceMessage
  | RejectRequestMessage
  | ExtendedMessage
  | HashRequestMessage
  | HashesMessage
  | UnknownMessage;

/**
 * The `type` of a {@linkcode Message}.
 *
 * @example
 * ```ts
 * import type { MessageType } from "@bittern/bittern";
 *
 * const counts = new Map<MessageType, number>();
 * ```
 */
export type MessageType = Message["type"];

/**
 * Shared instances of the payload-less messages, so decoding them allocates nothing.
 *
 * @example Sending interest
 * ```ts
 * import { Messages } from "@bittern/bittern";
 *
 * console.log(Messages.interested.type); // "interested"
 * ```
 */
export const Messages: {
  readonly keepAlive: KeepAliveMessage;
  readonly choke: StateMessage;
  readonly unchoke: StateMessage;
  readonly interested: StateMessage;
  readonly notInterested: StateMessage;
  readonly haveAll: HaveAllMessage;
  readonly haveNone: HaveAllMessage;
} = Object.freeze({
  keepAlive: Object.freeze({ type: "keep-alive" }),
  choke: Object.freeze({ type: "choke" }),
  unchoke: Object.freeze({ type: "unchoke" }),
  interested: Object.freeze({ type: "interested" }),
  notInterested: Object.freeze({ type: "not-interested" }),
  haveAll: Object.freeze({ type: "have-all" }),
  haveNone: Object.freeze({ type: "have-none" }),
});
