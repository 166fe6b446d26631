/**
 * Message ids of the peer wire protocol (BEP 3, plus `port` from BEP 5, the fast extension's
 * five from BEP 6 and `extended` from BEP 10).
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
