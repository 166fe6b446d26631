import { ProtocolError } from "./errors.ts";
import { readUint32 } from "./encode.ts";
import {
  type ResolvedWireLimits,
  resolveWireLimits,
  type WireContext,
  type WireLimits,
} from "./limits.ts";
import { type Message, MessageId, Messages } from "./messages.ts";

/**
 * Options of {@linkcode FrameDecoder} (and so of {@linkcode MessageReader}).
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "@bittern/bittern";
 *
 * const decoder = new FrameDecoder({ limits: { maxRequestLength: 8192 } });
 * decoder.context = { pieceCount: 10, pieceLength: 32768, length: 300_000 };
 * ```
 */
export interface DecoderOptions {
  /** Bounds on what the peer may send; see {@linkcode WireLimits} for defaults. */
  readonly limits?: WireLimits;
  /**
   * The torrent's shape, for range checks. Leave it out while the torrent is
   * unknown (a magnet link before its metadata); set it later through
   * {@linkcode FrameDecoder.context}.
   */
  readonly context?: WireContext;
  /**
   * Reuse one buffer for frames (up to 64 KiB) split across chunks, instead of
   * allocating one per frame: a message, and any view in it, is then valid
   * only until the next message is decoded. Default false.
   */
  readonly reuseSplitFrames?: boolean;
  /**
   * Whether the fast extension (BEP 6) was negotiated: both handshakes set
   * the fast bit. Without it its five messages are a `fast-not-negotiated`
   * {@linkcode ProtocolError}. Default false; settable later through
   * {@linkcode FrameDecoder.fast}. With it, a `request` or `cancel` is not
   * checked for its length and range: the receiver rejects a bad one
   * (`reject-request`) rather than dropping the peer.
   */
  readonly fast?: boolean;
}

/** Largest split frame body whose buffer is kept for the next one (with `reuseSplitFrames`). */
const MAX_REUSED_BODY = 64 * 1024;

const STATE_BY_ID = [Messages.choke, Messages.unchoke, Messages.interested, Messages.notInterested];
const EMPTY = new Uint8Array(0);
/** Length prefix + message id. */
const HEADER_LENGTH = 5;
/** A BEP 52 hash message's fixed part: pieces root, base layer, index, length, proof layers. */
const HASH_REQUEST_BODY = 32 + 4 * 4;
const HASH_SIZE = 32;
/** Most layers a file's merkle tree can have (2^64 leaves is far beyond any file). */
const MAX_TREE_LAYERS = 64;

/** The largest `hashes` frame (id included) with at most `maxHashCount` hashes. */
function maxHashesFrame(maxHashCount: number): number {
  return 1 + HASH_REQUEST_BODY + (maxHashCount + MAX_TREE_LAYERS) * HASH_SIZE;
}

/**
 * Turns socket chunks into messages, incrementally and with as little copying
 * as possible: a frame that lies inside one chunk is decoded in place (a
 * `piece` block is a view into the chunk), and only a frame split across
 * chunks is copied, once, into a buffer of its own size.
 *
 * The chunks must not be reused by the caller after {@linkcode FrameDecoder.push}
 * (`Deno.Conn.readable` yields a fresh array per read, so it is safe).
 * Violations throw {@linkcode ProtocolError}; the decoder must then be discarded.
 *
 * @example Decoding chunks by hand
 * ```ts
 * import { encodeMessage, FrameDecoder, type Message } from "@bittern/bittern";
 *
 * const decoder = new FrameDecoder();
 * const received: Message[] = [];
 * const bytes = encodeMessage({ type: "have", index: 3 });
 * decoder.push(bytes.subarray(0, 2), (message) => received.push(message));
 * decoder.push(bytes.subarray(2), (message) => received.push(message));
 * console.log(received); // [{ type: "have", index: 3 }]
 * ```
 */
export class FrameDecoder {
  /** The torrent's shape for range checks; `undefined` skips them. May be set at any time. */
  context: WireContext | undefined;
  /** Whether the fast extension (BEP 6) messages are allowed. May be set at any time. */
  fast: boolean;
  readonly #limits: ResolvedWireLimits;
  /** The length prefix and id of a frame whose header was split across chunks. */
  readonly #header = new Uint8Array(HEADER_LENGTH);
  #headerFill = 0;
  /** The body (after the id byte) of a frame split across chunks. */
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #bodyId = 0;
  /** The buffer split frames are assembled in, with `reuseSplitFrames`. */
  #spareBody: Uint8Array | undefined;
  readonly #reuseSplitFrames: boolean;

  /**
   * Creates a decoder with no partial frame.
   *
   * @param options Limits and torrent context.
   */
  constructor(options: DecoderOptions = {}) {
    this.#limits = resolveWireLimits(options.limits);
    this.context = options.context;
    this.fast = options.fast ?? false;
    this.#reuseSplitFrames = options.reuseSplitFrames ?? false;
  }

  /** The limits in force, defaults filled in. */
  get limits(): ResolvedWireLimits {
    return this.#limits;
  }

  /**
   * Bytes it holds for frames split across chunks: the kept body buffer (reused for split
   * frames up to a block's size), or the body of a larger frame being filled.
   */
  get bufferedBytes(): number {
    const body = this.#body && this.#body.buffer !== this.#spareBody?.buffer
      ? this.#body.length
      : 0;
    return (this.#spareBody?.length ?? 0) + body;
  }

  /** Whether part of a frame has been received and more bytes are needed. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#body !== undefined;
  }

  /**
   * Decodes every complete message in `chunk` (together with any partial
   * frame left from earlier chunks) and hands each to `emit`, in order.
   *
   * @param chunk Bytes from the socket; not reused by the caller afterwards.
   * @param emit Receives each decoded message.
   */
  push(chunk: Uint8Array, emit: (message: Message) => void): void {
    for (let pos = 0; pos < chunk.length;) pos = this.step(chunk, pos, emit);
  }

  /**
   * Decodes at most one message from `chunk` at `pos` (together with any
   * partial frame left from earlier chunks), handing it to `emit`; returns the
   * offset after the bytes it used (more than `pos` while `pos` is inside
   * `chunk`). Decoding one message at a time lets a reader keep undecoded
   * bytes instead of message objects while its consumer is slow.
   *
   * @param chunk Bytes from the socket; not reused by the caller until decoded.
   * @param pos Where the undecoded bytes start.
   * @param emit Receives the decoded message, if one completed.
   * @returns The offset in `chunk` after what was used.
   */
  step(chunk: Uint8Array, pos: number, emit: (message: Message) => void): number {
    const available = chunk.length - pos;
    if (!this.midFrame && available >= 4) {
      const length = readUint32(chunk, pos);
      if (length === 0) {
        emit(Messages.keepAlive);
        return pos + 4;
      }
      if (available >= HEADER_LENGTH) {
        const id = chunk[pos + 4];
        this.#checkFrameLength(length, id);
        const frameEnd = pos + 4 + length;
        if (frameEnd <= chunk.length) {
          emit(this.#parse(id, chunk, pos + HEADER_LENGTH, frameEnd));
          return frameEnd;
        }
        this.#startBody(id, length);
        return this.#fillBody(chunk, pos + HEADER_LENGTH, emit);
      }
    }
    return pos === 0 ? this.#resume(chunk, emit) : this.#resume(chunk.subarray(pos), emit) + pos;
  }

  /**
   * Call at the end of the byte stream; throws {@linkcode ProtocolError}
   * (`connection-closed`) when it ended inside a frame.
   */
  end(): void {
    if (!this.midFrame) return;
    const missing = this.#body
      ? `${this.#body.length - this.#bodyFill} bytes of a message with id ${this.#bodyId}`
      : `${HEADER_LENGTH - this.#headerFill} header bytes`;
    throw new ProtocolError("connection-closed", `stream ended ${missing} short`);
  }

  /** Continues a frame split across chunks; returns the offset in `chunk` after what it used. */
  #resume(chunk: Uint8Array, emit: (message: Message) => void): number {
    let pos = 0;
    if (this.#body === undefined) {
      const header = this.#header;
      while (this.#headerFill < HEADER_LENGTH && pos < chunk.length) {
        header[this.#headerFill++] = chunk[pos++];
        if (this.#headerFill === 4) {
          const length = readUint32(header, 0);
          if (length === 0) {
            this.#headerFill = 0;
            emit(Messages.keepAlive);
            return pos;
          }
          this.#checkFrameLength(length, -1);
        }
      }
      if (this.#headerFill < HEADER_LENGTH) return pos;
      this.#headerFill = 0;
      const length = readUint32(header, 0);
      const id = header[4];
      this.#checkFrameLength(length, id);
      if (length === 1) {
        emit(this.#parse(id, EMPTY, 0, 0));
        return pos;
      }
      this.#startBody(id, length);
    }
    return this.#fillBody(chunk, pos, emit);
  }

  #startBody(id: number, length: number): void {
    if (this.#reuseSplitFrames && length - 1 <= MAX_REUSED_BODY) {
      if (!this.#spareBody || this.#spareBody.length < length - 1) {
        this.#spareBody = new Uint8Array(Math.max(length - 1, 16 * 1024 + 8));
      }
      this.#body = this.#spareBody.subarray(0, length - 1);
    } else {
      this.#body = new Uint8Array(length - 1);
    }
    this.#bodyFill = 0;
    this.#bodyId = id;
  }

  #fillBody(chunk: Uint8Array, pos: number, emit: (message: Message) => void): number {
    const body = this.#body!;
    const take = Math.min(body.length - this.#bodyFill, chunk.length - pos);
    body.set(
      pos === 0 && take === chunk.length ? chunk : chunk.subarray(pos, pos + take),
      this.#bodyFill,
    );
    this.#bodyFill += take;
    if (this.#bodyFill === body.length) {
      this.#body = undefined;
      emit(this.#parse(this.#bodyId, body, 0, body.length));
    }
    return pos + take;
  }

  /** Rejects a length prefix before its body is buffered. `id` -1: not known yet. */
  #checkFrameLength(length: number, id: number): void {
    const limits = this.#limits;
    let limit: number;
    if (id === MessageId.bitfield) {
      const context = this.context;
      if (context) {
        const expected = Math.ceil(context.pieceCount / 8);
        if (length - 1 !== expected) {
          throw new ProtocolError(
            "bad-bitfield",
            `bitfield of ${
              length - 1
            } bytes for ${context.pieceCount} pieces (expected ${expected})`,
            { length: length - 1, expected },
          );
        }
        return;
      }
      limit = limits.maxBitfieldLength + 1;
    } else if (id === MessageId.extended) {
      limit = limits.maxExtendedLength + 2;
    } else if (id === MessageId.hashes) {
      limit = maxHashesFrame(limits.maxHashCount);
    } else if (id === -1) {
      const bitfield = this.context
        ? Math.ceil(this.context.pieceCount / 8)
        : limits.maxBitfieldLength;
      limit = Math.max(
        limits.maxBlockLength + 9,
        bitfield + 1,
        limits.maxExtendedLength + 2,
        maxHashesFrame(limits.maxHashCount),
      );
    } else {
      limit = limits.maxBlockLength + 9;
    }
    if (length > limit) {
      const what = id === -1 ? "frame" : `frame with message id ${id}`;
      throw new ProtocolError(
        "frame-too-large",
        `${what} of ${length} bytes exceeds the ${limit}-byte limit`,
        { length, limit, id },
      );
    }
  }

  /** Decodes the body `bytes[start, end)` of a message with `id`. */
  #parse(id: number, bytes: Uint8Array, start: number, end: number): Message {
    const size = end - start;
    switch (id) {
      case MessageId.piece: {
        if (size < 8) throw badLength("piece", size, "at least 8");
        const index = readUint32(bytes, start);
        const begin = readUint32(bytes, start + 4);
        const block = bytes.subarray(start + 8, end);
        this.#checkBlock("piece", index, begin, size - 8);
        return { type: "piece", index, begin, block };
      }
      case MessageId.choke:
      case MessageId.unchoke:
      case MessageId.interested:
      case MessageId.notInterested:
        if (size !== 0) throw badLength(STATE_BY_ID[id].type, size, "0");
        return STATE_BY_ID[id];
      case MessageId.have: {
        if (size !== 4) throw badLength("have", size, "4");
        const index = readUint32(bytes, start);
        this.#checkIndex("have", index);
        return { type: "have", index };
      }
      case MessageId.bitfield: {
        const bitfield = bytes.subarray(start, end);
        this.#checkSpareBits(bitfield);
        return { type: "bitfield", bitfield };
      }
      case MessageId.request:
      case MessageId.cancel: {
        const type = id === MessageId.request ? "request" : "cancel";
        if (size !== 12) throw badLength(type, size, "12");
        const index = readUint32(bytes, start);
        const begin = readUint32(bytes, start + 4);
        const length = readUint32(bytes, start + 8);
        // With the fast extension the receiver answers a bad request with a reject instead
        // (BEP 6, as libtorrent does): passed on unchecked, like a cancel that may follow it.
        if (this.fast) return { type, index, begin, length };
        if (length === 0) {
          throw new ProtocolError("bad-request", `${type} for 0 bytes at ${index}:${begin}`, {
            index,
            begin,
          });
        }
        if (type === "request" && length > this.#limits.maxRequestLength) {
          throw new ProtocolError(
            "request-too-large",
            `request for ${length} bytes exceeds the ${this.#limits.maxRequestLength}-byte limit`,
            { index, begin, length, limit: this.#limits.maxRequestLength },
          );
        }
        this.#checkBlock(type, index, begin, length);
        return { type, index, begin, length };
      }
      case MessageId.port: {
        if (size !== 2) throw badLength("port", size, "2");
        return { type: "port", port: (bytes[start] << 8) | bytes[start + 1] };
      }
      case MessageId.haveAll:
      case MessageId.haveNone: {
        const message = id === MessageId.haveAll ? Messages.haveAll : Messages.haveNone;
        this.#checkFast(message.type);
        if (size !== 0) throw badLength(message.type, size, "0");
        return message;
      }
      case MessageId.suggestPiece:
      case MessageId.allowedFast: {
        const type = id === MessageId.suggestPiece ? "suggest-piece" : "allowed-fast";
        this.#checkFast(type);
        if (size !== 4) throw badLength(type, size, "4");
        // Not range-checked: the session ignores out-of-range hints (they may precede metadata).
        return { type, index: readUint32(bytes, start) };
      }
      case MessageId.rejectRequest: {
        this.#checkFast("reject-request");
        if (size !== 12) throw badLength("reject-request", size, "12");
        return {
          type: "reject-request",
          index: readUint32(bytes, start),
          begin: readUint32(bytes, start + 4),
          length: readUint32(bytes, start + 8),
        };
      }
      case MessageId.extended: {
        if (size < 1) throw badLength("extended", size, "at least 1");
        return { type: "extended", id: bytes[start], payload: bytes.subarray(start + 1, end) };
      }
      case MessageId.hashRequest:
      case MessageId.hashReject: {
        const type = id === MessageId.hashRequest ? "hash-request" : "hash-reject";
        if (size !== HASH_REQUEST_BODY) throw badLength(type, size, `${HASH_REQUEST_BODY}`);
        return { type, ...this.#hashFields(type, bytes, start) };
      }
      case MessageId.hashes: {
        if (size < HASH_REQUEST_BODY) {
          throw badLength("hashes", size, `at least ${HASH_REQUEST_BODY}`);
        }
        const fields = this.#hashFields("hashes", bytes, start);
        // libtorrent's count (the reference): the hashes cover log2(length) layers, and the
        // proof has an uncle for each further layer up to and including `proofLayers`.
        const uncles = Math.max(0, fields.proofLayers - Math.log2(fields.length) + 1);
        const expected = HASH_REQUEST_BODY + (fields.length + uncles) * HASH_SIZE;
        if (size !== expected) {
          throw new ProtocolError(
            "bad-hash-request",
            `hashes message of ${size} bytes for ${fields.length} hashes and ${uncles} ` +
              `proof hashes (expected ${expected})`,
            { size, expected, length: fields.length, proofLayers: fields.proofLayers },
          );
        }
        const hashesStart = start + HASH_REQUEST_BODY;
        const proofStart = hashesStart + fields.length * HASH_SIZE;
        return {
          type: "hashes",
          ...fields,
          hashes: bytes.subarray(hashesStart, proofStart),
          proof: bytes.subarray(proofStart, end),
        };
      }
      default:
        return { type: "unknown", id, payload: bytes.subarray(start, end) };
    }
  }

  /** Reads and checks the fields the three BEP 52 messages share. */
  #hashFields(type: string, bytes: Uint8Array, start: number) {
    const piecesRoot = bytes.subarray(start, start + HASH_SIZE);
    const baseLayer = readUint32(bytes, start + 32);
    const index = readUint32(bytes, start + 36);
    const length = readUint32(bytes, start + 40);
    const proofLayers = readUint32(bytes, start + 44);
    const limit = this.#limits.maxHashCount;
    let problem: string | undefined;
    if (length === 0 || (length & (length - 1)) !== 0) {
      problem = `a length of ${length} (not a power of two)`;
    } else if (length > limit) problem = `a length of ${length} (more than ${limit} hashes)`;
    else if (index % length !== 0) problem = `index ${index} (not a multiple of length ${length})`;
    else if (baseLayer > MAX_TREE_LAYERS) problem = `base layer ${baseLayer}`;
    else if (proofLayers > MAX_TREE_LAYERS) problem = `${proofLayers} proof layers`;
    if (problem) {
      throw new ProtocolError("bad-hash-request", `${type} message with ${problem}`, {
        type,
        baseLayer,
        index,
        length,
        proofLayers,
      });
    }
    return { piecesRoot, baseLayer, index, length, proofLayers };
  }

  #checkFast(type: string): void {
    if (this.fast) return;
    throw new ProtocolError(
      "fast-not-negotiated",
      `${type} message without the fast extension (BEP 6) negotiated`,
      { type },
    );
  }

  #checkIndex(what: string, index: number): void {
    const context = this.context;
    if (context && index >= context.pieceCount) {
      throw new ProtocolError(
        "out-of-range",
        `${what} for piece ${index} of a torrent with ${context.pieceCount} pieces`,
        { index, pieceCount: context.pieceCount },
      );
    }
  }

  #checkBlock(what: string, index: number, begin: number, length: number): void {
    const context = this.context;
    if (!context) return;
    this.#checkIndex(what, index);
    const pieceLength = index < context.pieceCount - 1
      ? context.pieceLength
      : context.length - context.pieceLength * (context.pieceCount - 1);
    if (begin + length > pieceLength) {
      throw new ProtocolError(
        "out-of-range",
        `${what} for bytes ${begin}..${begin + length} of piece ${index}, which has ${pieceLength}`,
        { index, begin, length, pieceLength },
      );
    }
  }

  #checkSpareBits(bitfield: Uint8Array): void {
    const context = this.context;
    if (!context || context.pieceCount % 8 === 0) return;
    const spareMask = 0xff >>> (context.pieceCount % 8);
    if ((bitfield[bitfield.length - 1] & spareMask) !== 0) {
      throw new ProtocolError(
        "bad-bitfield",
        `bitfield has bits set beyond piece ${context.pieceCount - 1}`,
        { pieceCount: context.pieceCount },
      );
    }
  }
}

function badLength(type: string, size: number, expected: string): ProtocolError {
  return new ProtocolError(
    "bad-length",
    `${type} message with a ${size}-byte body (expected ${expected})`,
    { type, size },
  );
}
