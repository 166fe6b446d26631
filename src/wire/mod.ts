/**
 * The peer wire protocol (BEP 3) with the extension protocol (BEP 10):
 * a zero-copy frame decoder, {@linkcode MessageReader} and
 * {@linkcode MessageWriter} over any connection's streams, an encoder, the
 * handshake with pluggable {@linkcode HandshakeHandler}s, named extended
 * messages, and {@linkcode PeerWire}, one connection.
 *
 * @example Decoding a stream of bytes
 * ```ts
 * import { encodeMessage, MessageReader } from "@bittern/bittern";
 *
 * const bytes = ReadableStream.from([encodeMessage({ type: "have", index: 1 })]);
 * for await (const message of new MessageReader(bytes)) {
 *   console.log(message); // { type: "have", index: 1 }
 * }
 * ```
 *
 * @module
 */
export { ProtocolError, WireOptionsError } from "./errors.ts";
export type { ProtocolErrorCode } from "./errors.ts";
export { MessageId, Messages } from "./messages.ts";
export type {
  BitfieldMessage,
  BlockRequestMessage,
  ExtendedMessage,
  FastPieceMessage,
  HashesMessage,
  HashRequestMessage,
  HaveAllMessage,
  HaveMessage,
  KeepAliveMessage,
  Message,
  MessageType,
  PieceMessage,
  PortMessage,
  RejectRequestMessage,
  StateMessage,
  UnknownMessage,
} from "./messages.ts";
export { DEFAULT_WIRE_LIMITS, resolveWireLimits } from "./limits.ts";
export type { ResolvedWireLimits, WireContext, WireLimits } from "./limits.ts";
export { encodeMessage } from "./encode.ts";
export { FrameDecoder } from "./decode.ts";
export type { DecoderOptions } from "./decode.ts";
export { MessageWriter } from "./message_writer.ts";
export type { ByteSink, MessageWriterOptions } from "./message_writer.ts";
export { WriteBufferPool } from "./write_buffers.ts";
export { MessageReader } from "./message_reader.ts";
export { StreamSink, StreamSource } from "./stream_io.ts";
export type { ByteSource, MessageReaderOptions } from "./message_reader.ts";
export {
  encodeHandshake,
  HANDSHAKE_LENGTH,
  hasReservedBit,
  readHandshake,
  ReservedBits,
  setReservedBit,
  writeHandshake,
} from "./handshake.ts";
export type { Handshake, ReadHandshakeOptions, ReservedBit } from "./handshake.ts";
export type { HandshakeContext, HandshakeHandler } from "./handlers.ts";
export { ExtensionIds, ExtensionRegistry, parseExtendedHandshake } from "./extensions.ts";
export type { ExtendedHandshake, ExtensionMessageType } from "./extensions.ts";
export { ExtensionProtocol } from "./extension_protocol.ts";
export type { ExtensionProtocolOptions } from "./extension_protocol.ts";
export { FastExtension } from "./fast_extension.ts";
export { V2Extension } from "./v2_extension.ts";
export { allowedFastAddress, allowedFastSet } from "./allowed_fast.ts";
export type { AllowedFastOptions } from "./allowed_fast.ts";
export { PeerWire } from "./peer_wire.ts";
export * from "./mse/mod.ts";
export type {
  AcceptOptions,
  ConnectOptions,
  IncomingTorrent,
  PeerWireOptions,
} from "./peer_wire.ts";
