import { WireOptionsError } from "./errors.ts";
import { type Message, MessageId } from "./messages.ts";

/** Length prefix + id + index + begin: the bytes before a piece message's block (internal). */
export const PIECE_HEADER_LENGTH = 13;

/** Writes `value` as a 32-bit big-endian unsigned integer at `offset`. */
export function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

/** Reads a 32-bit big-endian unsigned integer at `offset`. */
export function readUint32(source: Uint8Array, offset: number): number {
  return (
    (source[offset] * 0x1000000) +
    ((source[offset + 1] << 16) | (source[offset + 2] << 8) | source[offset + 3])
  );
}

function frame(id: number, payloadLength: number): Uint8Array {
  const bytes = new Uint8Array(5 + payloadLength);
  writeUint32(bytes, 0, payloadLength + 1);
  bytes[4] = id;
  return bytes;
}

function checkUint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new WireOptionsError(
      `wire encode: ${what} must be an integer in 0..2^32-1, got ${value}`,
    );
  }
  return value;
}

function checkByte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new WireOptionsError(`wire encode: ${what} must be an integer in 0..255, got ${value}`);
  }
  return value;
}

const KEEP_ALIVE_BYTES = new Uint8Array(4);
const STATE_IDS = {
  choke: MessageId.choke,
  unchoke: MessageId.unchoke,
  interested: MessageId.interested,
  "not-interested": MessageId.notInterested,
} as const;

/**
 * Writes the 13-byte header of a `piece` message (length prefix, id, index,
 * begin) for a block of `blockLength` bytes, so the block itself can be
 * written after it without being copied (internal to the writer).
 *
 * @param index Piece index.
 * @param begin Offset of the block within the piece.
 * @param blockLength Length of the block that follows.
 * @param target Where to write (at offset 0); a new 13-byte array by default.
 * @returns `target`.
 */
export function encodePieceHeader(
  index: number,
  begin: number,
  blockLength: number,
  target: Uint8Array = new Uint8Array(PIECE_HEADER_LENGTH),
): Uint8Array {
  writeUint32(target, 0, checkUint32(blockLength + 9, "piece frame length"));
  target[4] = MessageId.piece;
  writeUint32(target, 5, checkUint32(index, "piece index"));
  writeUint32(target, 9, checkUint32(begin, "piece begin"));
  return target;
}

/** A message the writer encodes straight into its buffer: fixed size, no payload. */
export type FixedFrameMessage = Extract<Message, { type: "have" | "request" | "cancel" }>;

/**
 * The frame length of a `have`, `request` or `cancel` message after checking
 * its fields (throws {@linkcode WireOptionsError} as `encodeMessage` does), or
 * 0 for other messages (internal to the writer).
 */
export function fixedFrameLength(message: Message): number {
  switch (message.type) {
    case "have":
      checkUint32(message.index, "have index");
      return 9;
    case "request":
    case "cancel":
      checkUint32(message.index, `${message.type} index`);
      checkUint32(message.begin, `${message.type} begin`);
      checkUint32(message.length, `${message.type} length`);
      return 17;
    default:
      return 0;
  }
}

/** Writes a checked (see {@linkcode fixedFrameLength}) fixed-size frame at `offset` (internal). */
export function encodeFixedFrameInto(
  message: FixedFrameMessage,
  target: Uint8Array,
  offset: number,
): void {
  if (message.type === "have") {
    writeUint32(target, offset, 5);
    target[offset + 4] = MessageId.have;
    writeUint32(target, offset + 5, message.index);
    return;
  }
  writeUint32(target, offset, 13);
  target[offset + 4] = message.type === "request" ? MessageId.request : MessageId.cancel;
  writeUint32(target, offset + 5, message.index);
  writeUint32(target, offset + 9, message.begin);
  writeUint32(target, offset + 13, message.length);
}

/**
 * Encodes one message as a complete length-prefixed frame in a single new
 * buffer (piece blocks are copied once into it).
 *
 * Throws {@linkcode WireOptionsError} for values that do not fit the wire format.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "@bittern/bittern";
 *
 * const bytes = encodeMessage({ type: "have", index: 7 });
 * console.log([...bytes]); // [0, 0, 0, 5, 4, 0, 0, 0, 7]
 * ```
 *
 * @param message The message to encode.
 * @returns The frame bytes.
 */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.type) {
    case "keep-alive":
      return KEEP_ALIVE_BYTES.slice();
    case "choke":
    case "unchoke":
    case "interested":
    case "not-interested":
      return frame(STATE_IDS[message.type], 0);
    case "have": {
      const bytes = frame(MessageId.have, 4);
      writeUint32(bytes, 5, checkUint32(message.index, "have index"));
      return bytes;
    }
    case "bitfield": {
      const bytes = frame(MessageId.bitfield, message.bitfield.length);
      bytes.set(message.bitfield, 5);
      return bytes;
    }
    case "request":
    case "cancel": {
      const bytes = frame(message.type === "request" ? MessageId.request : MessageId.cancel, 12);
      writeUint32(bytes, 5, checkUint32(message.index, `${message.type} index`));
      writeUint32(bytes, 9, checkUint32(message.begin, `${message.type} begin`));
      writeUint32(bytes, 13, checkUint32(message.length, `${message.type} length`));
      return bytes;
    }
    case "piece": {
      const bytes = new Uint8Array(PIECE_HEADER_LENGTH + message.block.length);
      encodePieceHeader(message.index, message.begin, message.block.length, bytes);
      bytes.set(message.block, PIECE_HEADER_LENGTH);
      return bytes;
    }
    case "port": {
      if (!Number.isInteger(message.port) || message.port < 0 || message.port > 0xffff) {
        throw new WireOptionsError(`wire encode: port must be in 0..65535, got ${message.port}`);
      }
      const bytes = frame(MessageId.port, 2);
      bytes[5] = message.port >>> 8;
      bytes[6] = message.port;
      return bytes;
    }
    case "have-all":
    case "have-none":
      return frame(message.type === "have-all" ? MessageId.haveAll : MessageId.haveNone, 0);
    case "suggest-piece":
    case "allowed-fast": {
      const id = message.type === "suggest-piece" ? MessageId.suggestPiece : MessageId.allowedFast;
      const bytes = frame(id, 4);
      writeUint32(bytes, 5, checkUint32(message.index, `${message.type} index`));
      return bytes;
    }
    case "reject-request": {
      const bytes = frame(MessageId.rejectRequest, 12);
      writeUint32(bytes, 5, checkUint32(message.index, "reject-request index"));
      writeUint32(bytes, 9, checkUint32(message.begin, "reject-request begin"));
      writeUint32(bytes, 13, checkUint32(message.length, "reject-request length"));
      return bytes;
    }
    case "extended": {
      const bytes = frame(MessageId.extended, 1 + message.payload.length);
      bytes[5] = checkByte(message.id, "extended id");
      bytes.set(message.payload, 6);
      return bytes;
    }
    case "hash-request":
    case "hash-reject":
    case "hashes": {
      const hashes = message.type === "hashes" ? message.hashes.length + message.proof.length : 0;
      const id = message.type === "hash-request"
        ? MessageId.hashRequest
        : message.type === "hash-reject"
        ? MessageId.hashReject
        : MessageId.hashes;
      if (message.piecesRoot.length !== 32) {
        throw new WireOptionsError(
          `wire encode: ${message.type} pieces root must be 32 bytes, got ${message.piecesRoot.length}`,
        );
      }
      const bytes = frame(id, 48 + hashes);
      bytes.set(message.piecesRoot, 5);
      writeUint32(bytes, 37, checkUint32(message.baseLayer, `${message.type} base layer`));
      writeUint32(bytes, 41, checkUint32(message.index, `${message.type} index`));
      writeUint32(bytes, 45, checkUint32(message.length, `${message.type} length`));
      writeUint32(bytes, 49, checkUint32(message.proofLayers, `${message.type} proof layers`));
      if (message.type === "hashes") {
        bytes.set(message.hashes, 53);
        bytes.set(message.proof, 53 + message.hashes.length);
      }
      return bytes;
    }
    case "unknown": {
      const bytes = frame(checkByte(message.id, "message id"), message.payload.length);
      bytes.set(message.payload, 5);
      return bytes;
    }
  }
}
