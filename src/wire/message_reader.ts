import { type DecoderOptions, FrameDecoder } from "./decode.ts";
import type { WireContext } from "./limits.ts";
import type { Message } from "./messages.ts";
import { StreamSource } from "./stream_io.ts";

/**
 * Where a {@linkcode MessageReader} reads from: `Deno.Conn` and
 * {@linkcode StreamSource} (over any `ReadableStream`) satisfy this.
 *
 * @example
 * ```ts
 * import { type ByteSource, MessageReader } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const source: ByteSource = conn;
 * const reader = new MessageReader(source);
 * ```
 */
export interface ByteSource {
  /** Reads into `buffer`, returning the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Optional zero-copy read (a BYOB stream read): may transfer `view`'s
   * `ArrayBuffer` and return the filled bytes in the same memory under a new
   * one, or `null` at end of stream. Preferred over `read` when present.
   */
  readInto?(view: Uint8Array): Promise<Uint8Array | null>;
}

/**
 * Options for {@linkcode MessageReader}.
 *
 * @example
 * ```ts
 * import { MessageReader, type MessageReaderOptions } from "@bittern/bittern";
 *
 * declare const conn: Deno.Conn;
 * const options: MessageReaderOptions = { bufferLength: 256 * 1024, limits: { maxBlockLength: 32768 } };
 * const reader = new MessageReader(conn, options);
 * ```
 */
export interface MessageReaderOptions extends DecoderOptions {
  /**
   * Largest read buffer. Buffers start at 32 KiB and double (up to this) while
   * reads keep filling them; after two small reads in a row (under 32 KiB
   * each) the next read goes into a 32 KiB buffer again, so idle peers cost
   * little. Default 1 MiB.
   */
  readonly bufferLength?: number;
  /** Bytes that arrived with the handshake, decoded before anything is read. */
  readonly initialBytes?: Uint8Array;
  /**
   * Read every time into one buffer, overwriting it once the messages decoded
   * from it have been taken. A message, and every view in it (a `piece`
   * block, a `bitfield`, an extended message's `payload`), is then valid only
   * until the next call to `next`: a consumer that keeps any of it must copy
   * it. Saves an allocation per read and keeps memory flat under load.
   * Default `false` (messages stay valid).
   */
  readonly reuseBuffer?: boolean;
}

/**
 * Below this much free space a read buffer is retired and a fresh one
 * allocated; a read shorter than this is "small": a burst is over.
 */
const MIN_READ_SPACE = 16 * 1024;
/** Small reads in a row after which a large read buffer is dropped for the smallest. */
const SMALL_READS_TO_SHRINK = 2;
/** The first (and smallest) read buffer. */
const MIN_BUFFER_LENGTH = 32 * 1024;

/**
 * Reads messages from a connection's `ReadableStream` (with a BYOB reader:
 * the bytes land in this reader's buffer, no copy) or any
 * {@linkcode ByteSource}. This is the codec path {@linkcode PeerWire} uses.
 *
 * Buffer lifetimes depend on `reuseBuffer`:
 * - Without it (the default), each read goes into the unused tail of a buffer
 *   that is never overwritten, so decoded `piece` blocks and other views stay
 *   valid as long as they are referenced; when the tail runs low a fresh
 *   buffer is allocated. (From a zero-copy source, whose reads transfer the
 *   buffer, each read's bytes are copied out instead.)
 * - With it, every read overwrites the same buffer: a message and any view in
 *   it is valid only until the next `next()`.
 *
 * Read buffers start at 32 KiB, double while reads keep filling them (up to
 * `bufferLength`), and drop back to 32 KiB after two small reads in a row
 * (one small read alone is usually a reader catching up with a fast peer).
 *
 * @example
 * ```ts
 * import { MessageReader } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn; // after the handshake
 * for await (const message of new MessageReader(conn.readable)) console.log(message.type);
 * ```
 */
export class MessageReader implements AsyncIterable<Message> {
  readonly #source: ByteSource;
  readonly #decoder: FrameDecoder;
  readonly #maxBufferLength: number;
  #buffer: Uint8Array;
  /** Whether the last read filled all the space it was given (more is probably waiting). */
  #filledLastRead = false;
  /** Consecutive reads, up to the last one, that returned less than `MIN_READ_SPACE`. */
  #smallReads = 0;
  #used = 0;
  #initial: Uint8Array | undefined;
  readonly #reuse: boolean;
  /** Bytes read and not yet decoded (from `#pos` on): messages are decoded one per `next`. */
  #chunk: Uint8Array | undefined;
  #pos = 0;
  #decoded: Message | undefined;
  #ended = false;
  #bytesReceived = 0;
  readonly #collect = (message: Message) => this.#decoded = message;

  /**
   * Creates a reader; nothing is read until the first `next`.
   *
   * @param source The connection's readable stream, or anything with `read`.
   * @param options Limits, torrent context, buffer size.
   */
  constructor(
    source: ByteSource | ReadableStream<Uint8Array>,
    options: MessageReaderOptions = {},
  ) {
    this.#source = source instanceof ReadableStream ? new StreamSource(source) : source;
    // With a reused read buffer, messages live until the next one anyway: so may split frames.
    this.#decoder = new FrameDecoder({ ...options, reuseSplitFrames: options.reuseBuffer });
    this.#maxBufferLength = Math.max(options.bufferLength ?? 1024 * 1024, MIN_BUFFER_LENGTH);
    this.#reuse = options.reuseBuffer ?? false;
    this.#buffer = new Uint8Array(MIN_BUFFER_LENGTH);
    this.#initial = options.initialBytes?.length ? options.initialBytes : undefined;
  }

  /** The torrent's shape for range checks; may be set once the metadata is known. */
  get context(): WireContext | undefined {
    return this.#decoder.context;
  }
  set context(context: WireContext | undefined) {
    this.#decoder.context = context;
  }

  /** Whether the fast extension (BEP 6) was negotiated: its messages are allowed. */
  get fast(): boolean {
    return this.#decoder.fast;
  }
  set fast(fast: boolean) {
    this.#decoder.fast = fast;
  }

  /** Total bytes read from the socket so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /**
   * Diagnostic: the length of the current read buffer, between 32 KiB and
   * the `bufferLength` option. It grows while reads fill it and drops back
   * to 32 KiB after two small reads in a row.
   */
  get bufferLength(): number {
    return this.#buffer.length;
  }

  /**
   * Diagnostic: bytes this reader holds, its read buffer and what the decoder keeps for
   * frames split across reads.
   */
  get bufferedBytes(): number {
    return this.#buffer.length + this.#decoder.bufferedBytes;
  }

  /**
   * The next message, or `undefined` at the end of the stream. Throws
   * {@linkcode ProtocolError} on a violation; the reader is then unusable.
   * With `reuseBuffer`, the message and any view in it are valid only until
   * the next call.
   *
   * @returns The next message, or `undefined` when the peer closed the stream.
   */
  async next(): Promise<Message | undefined> {
    for (;;) {
      const message = this.nextBuffered();
      if (message) return message;
      if (this.#ended) return undefined;
      await this.#fill();
    }
  }

  /**
   * The next message when the bytes already read hold all of it, without waiting: a
   * consumer draining a full read buffer this way pays no promise per message. Throws
   * {@linkcode ProtocolError} like {@linkcode MessageReader.next}.
   *
   * @example
   * ```ts
   * import type { MessageReader } from "@bittern/bittern";
   *
   * declare const reader: MessageReader;
   * const message = reader.nextBuffered() ?? await reader.next();
   * ```
   *
   * @returns The next buffered message, or `undefined` when `next` must read first.
   */
  nextBuffered(): Message | undefined {
    const chunk = this.#chunk;
    if (!chunk) return undefined;
    while (this.#pos < chunk.length) {
      this.#pos = this.#decoder.step(chunk, this.#pos, this.#collect);
      const message = this.#decoded;
      if (message) {
        this.#decoded = undefined;
        return message;
      }
    }
    this.#chunk = undefined;
    return undefined;
  }

  /** Reads the next chunk (or notes the end of the stream). */
  async #fill(): Promise<void> {
    this.#pos = 0;
    if (this.#initial) {
      this.#chunk = this.#initial;
      this.#initial = undefined;
      this.#bytesReceived += this.#chunk.length;
      return;
    }
    // Small reads in a row: the burst is over, and an idle peer should not pin a
    // large buffer. (Reads that fill it never shrink it; one small read alone is
    // usually the reader catching up with a fast peer, so it does not either.)
    const burstOver = this.#smallReads >= SMALL_READS_TO_SHRINK &&
      this.#buffer.length > MIN_BUFFER_LENGTH;
    if (this.#reuse || this.#source.readInto) {
      // The previous chunk (or, without reuse, its copy) has been decoded: its bytes may
      // be overwritten. A peer that keeps filling the buffer gets a bigger one.
      this.#used = 0;
      if (this.#filledLastRead && this.#buffer.length < this.#maxBufferLength) {
        this.#buffer = new Uint8Array(Math.min(this.#buffer.length * 2, this.#maxBufferLength));
      } else if (burstOver) {
        this.#buffer = new Uint8Array(MIN_BUFFER_LENGTH);
      }
    } else if (burstOver || this.#buffer.length - this.#used < MIN_READ_SPACE) {
      // Retired buffers live on only through the views handed out; the next one
      // grows while the peer keeps the socket full, and shrinks when it does not.
      const length = this.#filledLastRead
        ? Math.min(this.#buffer.length * 2, this.#maxBufferLength)
        : burstOver
        ? MIN_BUFFER_LENGTH
        : Math.max(this.#buffer.length / 2, MIN_BUFFER_LENGTH);
      this.#buffer = new Uint8Array(length);
      this.#used = 0;
    }
    const space = this.#buffer.subarray(this.#used);
    let filled: Uint8Array | null;
    if (this.#source.readInto) {
      filled = await this.#source.readInto(space);
      // The read took our buffer's memory and gave it back under a new ArrayBuffer.
      if (filled !== null && filled.buffer !== this.#buffer.buffer) {
        this.#buffer = new Uint8Array(filled.buffer as ArrayBuffer);
      }
      // Views handed out must survive the next read, which transfers the buffer: copy.
      if (filled !== null && !this.#reuse) filled = filled.slice();
    } else {
      const count = await this.#source.read(space);
      filled = count === null ? null : space.subarray(0, count);
    }
    if (filled === null) {
      this.#ended = true;
      this.#decoder.end();
      return;
    }
    const count = filled.length;
    this.#filledLastRead = count === space.length;
    this.#smallReads = count < MIN_READ_SPACE ? this.#smallReads + 1 : 0;
    this.#used += count;
    this.#bytesReceived += count;
    this.#chunk = filled;
  }

  /**
   * Iterates messages until the stream ends.
   *
   * @returns An async iterator of messages.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      const message = await this.next();
      if (message === undefined) return;
      yield message;
    }
  }
}
