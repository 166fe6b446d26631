import { type DecoderOptions, FrameDecoder } from "./decode.ts";
import { encodeMessage, encodePieceHeader, PIECE_HEADER_LENGTH } from "./encode.ts";
import type { Message } from "./messages.ts";

/**
 * Options for {@linkcode MessageDecoderStream}.
 *
 * @example
 * ```ts
 * import { MessageDecoderStream } from "@bittern/bittern";
 *
 * const decoder = new MessageDecoderStream({ highWaterMark: 16, limits: { maxExtendedLength: 32768 } });
 * ```
 */
export interface MessageDecoderStreamOptions extends DecoderOptions {
  /**
   * How many decoded messages may wait for the reader before the stream stops
   * pulling from the socket (back-pressure). Default 64.
   */
  readonly highWaterMark?: number;
}

/**
 * The wire decoder as a Web Streams `TransformStream`: socket bytes in
 * (`Deno.Conn.readable`), typed {@linkcode Message}s out. It respects
 * back-pressure: when the reader falls behind it stops reading the socket.
 * A protocol violation errors the stream with a {@linkcode ProtocolError}.
 *
 * @example Reading messages from a connection
 * ```ts
 * import { MessageDecoderStream } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn; // after the handshake
 * for await (const message of conn.readable.pipeThrough(new MessageDecoderStream())) {
 *   if (message.type === "piece") console.log(message.index, message.block.length);
 * }
 * ```
 */
export class MessageDecoderStream extends TransformStream<Uint8Array, Message> {
  /** The underlying decoder; set its `context` once the torrent's shape is known. */
  readonly decoder: FrameDecoder;

  /**
   * Creates a decoding stream.
   *
   * @param options Limits, torrent context and queue size.
   */
  constructor(options: MessageDecoderStreamOptions = {}) {
    const decoder = new FrameDecoder(options);
    let emit: (message: Message) => void = () => {};
    super(
      {
        start(controller) {
          emit = (message) => controller.enqueue(message);
        },
        transform(chunk) {
          decoder.push(chunk, emit);
        },
        flush() {
          decoder.end();
        },
      },
      undefined,
      { highWaterMark: options.highWaterMark ?? 64 },
    );
    this.decoder = decoder;
  }
}

/**
 * The wire encoder as a Web Streams `TransformStream`: {@linkcode Message}s in,
 * frame bytes out, ready to pipe into `Deno.Conn.writable`. A `piece`
 * message becomes its 13-byte header followed by the block itself, uncopied.
 *
 * @example Writing messages to a connection
 * ```ts
 * import { MessageEncoderStream } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn; // after the handshake
 * const encoder = new MessageEncoderStream();
 * const piping = encoder.readable.pipeTo(conn.writable);
 * const writer = encoder.writable.getWriter();
 * await writer.write({ type: "interested" });
 * await writer.close();
 * await piping;
 * ```
 */
export class MessageEncoderStream extends TransformStream<Message, Uint8Array> {
  /**
   * Creates an encoding stream.
   *
   * @param highWaterMark How many messages may queue before writers are held back. Default 16.
   */
  constructor(highWaterMark = 16) {
    super(
      {
        transform(message, controller) {
          if (message.type === "piece") {
            // One chunk per message: a socket write each for header and block costs more
            // than copying the block once.
            const frame = new Uint8Array(PIECE_HEADER_LENGTH + message.block.length);
            encodePieceHeader(message.index, message.begin, message.block.length, frame);
            frame.set(message.block, PIECE_HEADER_LENGTH);
            controller.enqueue(frame);
          } else {
            controller.enqueue(encodeMessage(message));
          }
        },
      },
      { highWaterMark },
    );
  }
}
