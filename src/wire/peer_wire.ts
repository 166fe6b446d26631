import { BencodeDict } from "../bencode/dict.ts";
import { encode } from "../bencode/encode.ts";
import { toHex } from "../util/bytes.ts";
import { ProtocolError } from "./errors.ts";
import { type ExtendedHandshake, parseExtendedHandshake } from "./extensions.ts";
import { type HandshakeContext, type HandshakeHandler, runHandlers } from "./handlers.ts";
import {
  type Handshake,
  hasReservedBit,
  readHandshake,
  ReservedBits,
  writeHandshake,
} from "./handshake.ts";
import {
  type ResolvedWireLimits,
  resolveWireLimits,
  type WireContext,
  type WireLimits,
} from "./limits.ts";
import { MessageReader } from "./message_reader.ts";
import { MessageWriter, type MessageWriterOptions } from "./message_writer.ts";
import type { ExtendedMessage, Message } from "./messages.ts";
import { type ConnectionIO, openConnectionIO } from "./connection_io.ts";
import type { TransportConnection } from "../transport/types.ts";

/**
 * Options shared by {@linkcode PeerWire.connect} and {@linkcode PeerWire.accept}.
 *
 * @example
 * ```ts
 * import type { PeerWireOptions } from "@bittern/bittern";
 *
 * const options: PeerWireOptions = {
 *   peerId: new TextEncoder().encode("-BT0100-000000000000"),
 *   idleTimeout: 120_000,
 *   writeTimeout: 60_000,
 *   reuseReadBuffer: true,
 * };
 * ```
 */
export interface PeerWireOptions {
  /** Our 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** Handshake plug-ins, run in order (include an {@linkcode ExtensionProtocol} for BEP 10). */
  readonly handlers?: readonly HandshakeHandler[];
  /**
   * Bounds on what the peer may send, including `maxExtendedHandshakes` and
   * `maxMetadataSize` for its BEP 10 handshakes.
   */
  readonly limits?: WireLimits;
  /** The torrent's shape for range checks (a `Torrent` fits); omit while unknown. */
  readonly context?: WireContext;
  /** Send a keep-alive after this many ms without sending anything. Default 60 000; 0: never. */
  readonly keepAliveInterval?: number;
  /**
   * Close the connection (`idle-timeout`) when nothing arrives for this many ms
   * while we are reading. Default 180 000; 0: never.
   */
  readonly idleTimeout?: number;
  /**
   * Close the connection (`write-timeout`) when bytes are queued for the peer
   * and the socket has taken none of them for this many ms: a peer that stops
   * reading would otherwise pin our send queue. Default 120 000; 0: never.
   */
  readonly writeTimeout?: number;
  /** Aborts the handshake. */
  readonly signal?: AbortSignal;
  /** Send-queue bounds. */
  readonly writer?: MessageWriterOptions;
  /** Largest read buffer (see `MessageReaderOptions.bufferLength`). Default 1 MiB. */
  readonly readBufferLength?: number;
  /**
   * Reuse one read buffer (see `MessageReaderOptions.reuseBuffer`): a message
   * and any view in it (a `piece` block, a `bitfield`, an extended message's
   * `payload`) is valid until the next {@linkcode PeerWire.next}; copy what
   * must live longer. The peer's extended handshake is the exception: it is
   * parsed from a copy, so the {@linkcode ExtendedHandshake} (its `yourip`,
   * `dict` and everything else reachable from it) stays valid. Default `false`.
   */
  readonly reuseReadBuffer?: boolean;
}

/**
 * Options for {@linkcode PeerWire.connect}.
 *
 * @example
 * ```ts
 * import { type ConnectOptions, PeerWire } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * declare const options: ConnectOptions;
 * const wire = await PeerWire.connect(conn, options);
 * ```
 */
export interface ConnectOptions extends PeerWireOptions {
  /** The torrent's 20-byte info hash. */
  readonly infoHash: Uint8Array;
  /**
   * Other info hashes the peer may answer with: a hybrid torrent dialled by
   * its v1 hash may be answered with its truncated v2 hash (BEP 52's upgrade:
   * libtorrent's current source does so when both handshakes set the v2 bit;
   * 2.0.8 answers with the hash asked, as Bittern does).
   */
  readonly answerInfoHashes?: readonly Uint8Array[];
}

/**
 * What {@linkcode AcceptOptions.findTorrent} returns for a torrent we serve.
 *
 * @example
 * ```ts
 * import type { IncomingTorrent, Torrent } from "@bittern/bittern";
 *
 * declare const torrent: Torrent;
 * const incoming: IncomingTorrent = { context: torrent };
 * ```
 */
export interface IncomingTorrent {
  /** The torrent's shape for range checks; omit while unknown. */
  readonly context?: WireContext;
  /** Handlers for this torrent; default {@linkcode PeerWireOptions.handlers}. */
  readonly handlers?: readonly HandshakeHandler[];
}

/**
 * Options for {@linkcode PeerWire.accept}.
 *
 * @example
 * ```ts
 * import { PeerWire, type Torrent } from "@bittern/bittern";
 *
 * declare const conn: Deno.TcpConn;
 * declare const torrents: Map<string, Torrent>;
 * const wire = await PeerWire.accept(conn, {
 *   peerId: new TextEncoder().encode("-BT0100-000000000000"),
 *   findTorrent: (infoHash) => {
 *     const torrent = torrents.get(Array.from(infoHash, (b) => b.toString(16).padStart(2, "0")).join(""));
 *     return torrent && { context: torrent };
 *   },
 * });
 * ```
 */
export interface AcceptOptions extends PeerWireOptions {
  /**
   * Finds the torrent an incoming handshake asks for; `undefined` closes the
   * connection with `unknown-info-hash` (before we send anything).
   */
  readonly findTorrent: (
    infoHash: Uint8Array,
  ) => IncomingTorrent | undefined | Promise<IncomingTorrent | undefined>;
}

/**
 * One peer connection after a successful handshake: typed messages in
 * (`for await (const message of wire)`), typed messages out (`send`), BEP 10
 * extended messages by name, keep-alives and an idle timeout. It holds no
 * session policy (choking, requests): that is the caller's.
 *
 * A protocol violation closes this connection only: iteration throws the
 * {@linkcode ProtocolError} and {@linkcode PeerWire.closed} resolves with it.
 *
 * BEP 10 lets a peer send its extended handshake again to change its `m`
 * (additively: entries it leaves out keep their ids). A connection accepts
 * the first and up to `maxExtendedHandshakes - 1` updates (default 4, see
 * {@linkcode WireLimits}); one more closes it with
 * `too-many-extended-handshakes`. Each is applied as it arrives: handlers run
 * and {@linkcode HandshakeContext.remoteExtendedHandshake} becomes the latest.
 *
 * @example Connecting to a peer
 * ```ts
 * import { ExtensionProtocol, PeerWire } from "@bittern/bittern";
 *
 * declare const infoHash: Uint8Array;
 * declare const peerId: Uint8Array;
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 6881 });
 * const wire = await PeerWire.connect(conn, {
 *   infoHash,
 *   peerId,
 *   handlers: [new ExtensionProtocol()],
 * });
 * await wire.send({ type: "interested" });
 * for await (const message of wire) {
 *   if (message.type === "unchoke") break;
 * }
 * wire.close();
 * ```
 */
export class PeerWire implements AsyncIterable<Message> {
  /** The connection (any {@linkcode TransportConnection}: TCP, an encryption layer, ...). */
  readonly conn: TransportConnection;
  /** Handshake state: our and the peer's handshakes, extension ids. */
  readonly handshake: HandshakeContext;
  /** Resolves when the connection is closed: with the error that closed it, or `undefined`. */
  readonly closed: Promise<Error | undefined>;
  /**
   * Resolves with the peer's first extended handshake; `undefined` if the
   * connection closes first or BEP 10 was not negotiated. It is parsed from a
   * copy of the message, so it stays valid whatever is read later.
   */
  readonly extendedHandshake: Promise<ExtendedHandshake | undefined>;
  readonly #handlers: readonly HandshakeHandler[];
  readonly #limits: ResolvedWireLimits;
  #extendedHandshakes = 0;
  readonly #reader: MessageReader;
  readonly #writer: MessageWriter;
  #closeError: Error | undefined;
  #isClosed = false;
  #resolveClosed!: (error: Error | undefined) => void;
  #resolveExtended!: (handshake: ExtendedHandshake | undefined) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading = false;
  /** An extended handshake `nextBuffered` met: `next` applies it (handlers may wait). */
  #heldHandshake: Message | undefined;

  private constructor(
    conn: TransportConnection,
    io: ConnectionIO,
    handshake: HandshakeContext,
    handlers: readonly HandshakeHandler[],
    options: PeerWireOptions,
    context: WireContext | undefined,
  ) {
    this.conn = conn;
    this.handshake = handshake;
    this.#handlers = handlers;
    this.#limits = resolveWireLimits(options.limits);
    this.#reader = new MessageReader(io.source, {
      limits: this.#limits,
      context,
      reuseBuffer: options.reuseReadBuffer,
      bufferLength: options.readBufferLength,
      fast: fastNegotiated(handshake),
    });
    this.#writer = new MessageWriter(io.sink, options.writer);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.extendedHandshake = new Promise((resolve) => this.#resolveExtended = resolve);
    if (!this.supportsExtensions) this.#resolveExtended(undefined);
    this.#startTimers(
      options.keepAliveInterval ?? 60_000,
      options.idleTimeout ?? 180_000,
      options.writeTimeout ?? 120_000,
    );
  }

  /**
   * Opens the protocol on a connection we made: sends our handshake, reads
   * the peer's (it must name the same torrent), runs the handlers, and sends
   * our extended handshake when both sides support BEP 10. On failure the
   * connection is closed and a {@linkcode ProtocolError} thrown.
   *
   * @param conn A connection from a {@linkcode Transport} (a `Deno.TcpConn` is one).
   * @param options Info hash, peer id, handlers, limits.
   * @returns The ready connection.
   */
  static async connect(conn: TransportConnection, options: ConnectOptions): Promise<PeerWire> {
    const handlers = options.handlers ?? [];
    const context = createContext(conn, "outgoing", options.infoHash, options.peerId);
    try {
      const io = openIO(conn);
      await runHandlers(handlers, (handler) => handler.onLocalHandshake?.(context));
      await writeHandshake(io.sink, {
        reserved: context.reserved,
        infoHash: options.infoHash,
        peerId: options.peerId,
      });
      const remote = await readHandshake(io.source, {
        timeout: resolveWireLimits(options.limits).handshakeTimeout,
        signal: options.signal,
        expectedInfoHash: [options.infoHash, ...options.answerInfoHashes ?? []],
      });
      return await PeerWire.#open(conn, io, context, remote, handlers, options, options.context);
    } catch (error) {
      throw failHandshake(conn, error);
    }
  }

  /**
   * Opens the protocol on a connection a peer made: reads its handshake up to
   * the info hash, looks the torrent up (unknown: closed with
   * `unknown-info-hash`), answers, reads the peer id, runs the handlers, and
   * sends our extended handshake when both sides support BEP 10.
   *
   * @param conn An accepted connection (a `Deno.TcpConn` is one).
   * @param options Torrent look-up, peer id, handlers, limits.
   * @returns The ready connection.
   */
  static async accept(conn: TransportConnection, options: AcceptOptions): Promise<PeerWire> {
    let context: MutableContext | undefined;
    let torrent: IncomingTorrent | undefined;
    let handlers = options.handlers ?? [];
    try {
      const io = openIO(conn);
      const remote = await readHandshake(io.source, {
        timeout: resolveWireLimits(options.limits).handshakeTimeout,
        signal: options.signal,
        onInfoHash: async (infoHash) => {
          torrent = await options.findTorrent(infoHash);
          if (!torrent) {
            throw new ProtocolError(
              "unknown-info-hash",
              `incoming handshake for unknown torrent ${toHex(infoHash)}`,
              { infoHash: toHex(infoHash) },
            );
          }
          handlers = torrent.handlers ?? handlers;
          context = createContext(conn, "incoming", infoHash, options.peerId);
          const local = context;
          await runHandlers(handlers, (handler) => handler.onLocalHandshake?.(local));
          await writeHandshake(io.sink, {
            reserved: local.reserved,
            infoHash,
            peerId: options.peerId,
          });
        },
      });
      const resolved = context!;
      return await PeerWire.#open(
        conn,
        io,
        resolved,
        remote,
        handlers,
        options,
        torrent?.context ?? options.context,
      );
    } catch (error) {
      throw failHandshake(conn, error);
    }
  }

  static async #open(
    conn: TransportConnection,
    io: ConnectionIO,
    context: MutableContext,
    remote: Handshake,
    handlers: readonly HandshakeHandler[],
    options: PeerWireOptions,
    wireContext: WireContext | undefined,
  ): Promise<PeerWire> {
    context.remote = remote;
    await runHandlers(handlers, (handler) => handler.onRemoteHandshake?.(context, remote));
    let extendedHandshake: Uint8Array | undefined;
    if (extensionsNegotiated(context)) {
      const fields = new BencodeDict();
      await runHandlers(handlers, (handler) => handler.onLocalExtendedHandshake?.(context, fields));
      extendedHandshake = encode(fields);
    }
    const wire = new PeerWire(conn, io, context, handlers, options, wireContext);
    if (extendedHandshake) {
      try {
        await wire.send({ type: "extended", id: 0, payload: extendedHandshake });
      } catch (error) {
        wire.close(error as Error);
        throw error;
      }
    }
    return wire;
  }

  /** The peer's handshake (reserved bits, info hash, peer id). */
  get remote(): Handshake {
    return this.handshake.remote!;
  }

  /** Whether both sides set the BEP 10 bit and a handler created extension ids. */
  get supportsExtensions(): boolean {
    return extensionsNegotiated(this.handshake);
  }

  /**
   * Whether both handshakes set the fast extension bit (BEP 6; our side sets it
   * with a {@linkcode FastExtension} handler): its messages may then be sent
   * and are decoded.
   */
  get supportsFast(): boolean {
    return fastNegotiated(this.handshake);
  }

  /**
   * Whether both handshakes set the v2 bit (BEP 52; our side sets it with a
   * {@linkcode V2Extension} handler): a connection under a hybrid torrent's v1
   * info hash then speaks v2 too (the upgrade).
   */
  get supportsV2(): boolean {
    const { reserved, remote } = this.handshake;
    return remote !== undefined && hasReservedBit(reserved, ReservedBits.v2) &&
      hasReservedBit(remote.reserved, ReservedBits.v2);
  }

  /** The torrent's shape for range checks; set it when the metadata becomes known. */
  get context(): WireContext | undefined {
    return this.#reader.context;
  }
  set context(context: WireContext | undefined) {
    this.#reader.context = context;
  }

  /** The limits in force on what the peer sends, defaults filled in. */
  get limits(): ResolvedWireLimits {
    return this.#limits;
  }

  /** Whether {@linkcode PeerWire.close} has run (by us, the peer, or an error). */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Bytes received and sent so far, after the handshake. */
  get bytes(): { received: number; sent: number } {
    return { received: this.#reader.bytesReceived, sent: this.#writer.bytesSent };
  }

  /**
   * Bytes queued for the peer and not yet taken by the socket (the unwritten
   * part of the write in flight included); 0 once closed.
   */
  get queuedBytes(): number {
    return this.#writer.queuedBytes;
  }

  /**
   * Memory this connection holds now: its read buffer (and the decoder's buffer for frames
   * split across reads), the coalescing buffer of the write in flight, and the bytes queued
   * for the peer (blocks waiting for the socket included).
   * A diagnostic: what one connection costs, as the swarm bench reports it.
   */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes + this.#writer.bufferLength + this.#writer.queuedBytes;
  }

  /**
   * Sends a message; resolves when the send queue has room again
   * (back-pressure). Rejects with the close reason once the connection is closed.
   *
   * @param message The message.
   */
  async send(message: Message): Promise<void> {
    if (this.#isClosed) throw this.#closeError ?? closedError();
    try {
      await this.#writer.send(message);
    } catch (error) {
      this.close(error as Error);
      throw this.#closeError ?? closedError();
    }
  }

  /**
   * Queues a message without waiting for room (no promise is made); for
   * small, frequent messages like requests and haves. Returns `false` when
   * the connection is closed (or closes on this write).
   *
   * @param message The message.
   * @returns Whether it was queued.
   */
  queue(message: Message): boolean {
    if (this.#isClosed) return false;
    try {
      this.#writer.queue(message);
      return true;
    } catch (error) {
      this.close(error as Error);
      return false;
    }
  }

  /**
   * Sends a registered extended message by name, with the id the peer chose.
   * Returns `false` (and sends nothing) when the peer did not announce `name`
   * or it is not in our registry.
   *
   * @param name Extension name, e.g. `ut_metadata`.
   * @param value The value for the extension's encoder.
   * @returns Whether the message was sent.
   */
  async sendExtended<T>(name: string, value: T): Promise<boolean> {
    const message = this.handshake.extensions?.encode(name, value);
    if (!message) return false;
    await this.send(message);
    return true;
  }

  /**
   * Decodes an extended message addressed to one of our registered extensions.
   *
   * @param message An extended message received on this connection.
   * @returns Name and decoded value, or `undefined` (handshake or unknown id).
   */
  decodeExtended(message: ExtendedMessage): { name: string; value: unknown } | undefined {
    return this.handshake.extensions?.decode(message);
  }

  /**
   * Resolves when everything sent so far has been handed to the socket.
   * Rejects with the close reason (a `connection-closed`
   * {@linkcode ProtocolError} after a plain `close()`) once the connection is
   * closed, at once or as soon as it closes: it never hangs on a dead peer.
   */
  async flush(): Promise<void> {
    await this.drained(0);
  }

  /**
   * Resolves once at most `lowWaterMark` bytes are queued for the peer (see
   * {@linkcode PeerWire.queuedBytes}). Rejects, like {@linkcode PeerWire.flush},
   * with the close reason once the connection is closed.
   *
   * @example Keeping at most 256 KiB queued
   * ```ts
   * import type { PeerWire } from "@bittern/bittern";
   *
   * declare const wire: PeerWire;
   * declare const blocks: Uint8Array[];
   * for (const [n, block] of blocks.entries()) {
   *   wire.queue({ type: "piece", index: n, begin: 0, block });
   *   if (wire.queuedBytes > 256 * 1024) await wire.drained(64 * 1024);
   * }
   * ```
   *
   * @param lowWaterMark Bytes that may still be queued. Default 0.
   * @returns Resolves when the queue is at or below the mark.
   */
  async drained(lowWaterMark = 0): Promise<void> {
    if (this.#isClosed) throw this.#closeError ?? closedError();
    try {
      await this.#writer.drained(lowWaterMark);
    } catch (error) {
      this.close(error as Error);
      throw this.#closeError ?? closedError();
    }
  }

  /**
   * The next message, or `undefined` once the connection is closed cleanly.
   * Extended handshakes are applied (handlers run) before being returned.
   * One consumer at a time: do not call `next` again before it settles.
   * Throws the {@linkcode ProtocolError} that closed the connection.
   *
   * With `reuseReadBuffer`, a message and any view in it is valid until the
   * next `next()`; the extended handshake object is copied and stays valid
   * (and so does the payload of an extended handshake message).
   *
   * @returns The next message.
   */
  async next(): Promise<Message | undefined> {
    if (this.#isClosed) {
      if (this.#closeError) throw this.#closeError;
      return undefined;
    }
    let message: Message | undefined;
    this.#reading = true;
    try {
      message = this.#heldHandshake ?? await this.#reader.next();
      this.#heldHandshake = undefined;
      if (message?.type === "extended" && message.id === 0) {
        // Small and rare, and kept by the caller: copy it out of the read buffer.
        message = { type: "extended", id: 0, payload: message.payload.slice() };
        await this.#onExtendedHandshake(message);
      }
    } catch (error) {
      if (this.#isClosed && !this.#closeError) return undefined;
      this.close(error as Error);
      throw this.#closeError;
    } finally {
      this.#reading = false;
    }
    if (message === undefined) this.close();
    return message;
  }

  /**
   * The next message when it is already read, without waiting (no promise per message
   * while a read buffer holds many); `undefined` means: call {@linkcode PeerWire.next}.
   * An extended handshake is always left to `next`, which applies it first. Throws the
   * {@linkcode ProtocolError} that closed the connection, like `next`.
   *
   * @example
   * ```ts
   * import type { PeerWire } from "@bittern/bittern";
   *
   * declare const wire: PeerWire;
   * for (;;) {
   *   const message = wire.nextBuffered() ?? await wire.next();
   *   if (message === undefined) break;
   * }
   * ```
   *
   * @returns The next buffered message, or `undefined`.
   */
  nextBuffered(): Message | undefined {
    if (this.#isClosed || this.#reading || this.#heldHandshake) return undefined;
    let message: Message | undefined;
    try {
      message = this.#reader.nextBuffered();
    } catch (error) {
      this.close(error as Error);
      throw this.#closeError;
    }
    if (message?.type === "extended" && message.id === 0) {
      this.#heldHandshake = message;
      return undefined;
    }
    return message;
  }

  /**
   * Iterates messages until the connection closes.
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

  /**
   * Closes the connection (idempotent). Pending and later reads end (or
   * throw `reason`); later sends reject.
   *
   * @param reason Why; becomes the value of {@linkcode PeerWire.closed}.
   */
  close(reason?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeError = reason === undefined ? undefined : atPeer(
      this.conn,
      reason instanceof ProtocolError ? reason : new ProtocolError(
        "connection-closed",
        `connection failed: ${reason.message}`,
        {},
        { cause: reason },
      ),
    );
    clearInterval(this.#timer);
    this.#writer.close(this.#closeError ?? closedError());
    try {
      this.conn.close();
    } catch { /* already closed by the peer or the runtime */ }
    this.#resolveExtended(undefined);
    this.#resolveClosed(this.#closeError);
  }

  async #onExtendedHandshake(message: ExtendedMessage): Promise<void> {
    const limit = this.#limits.maxExtendedHandshakes;
    if (++this.#extendedHandshakes > limit) {
      throw new ProtocolError(
        "too-many-extended-handshakes",
        `extended handshake number ${this.#extendedHandshakes} exceeds the limit of ${limit} ` +
          `(the first and ${limit - 1} updates)`,
        { count: this.#extendedHandshakes, limit },
      );
    }
    const handshake = parseExtendedHandshake(message.payload, this.#limits);
    const context = this.handshake as MutableContext;
    context.remoteExtendedHandshake = handshake;
    await runHandlers(
      this.#handlers,
      (handler) => handler.onRemoteExtendedHandshake?.(context, handshake),
    );
    this.#resolveExtended(handshake);
  }

  #startTimers(keepAliveInterval: number, idleTimeout: number, writeTimeout: number): void {
    if (keepAliveInterval <= 0 && idleTimeout <= 0 && writeTimeout <= 0) return;
    const period = Math.min(
      keepAliveInterval > 0 ? keepAliveInterval : Infinity,
      idleTimeout > 0 ? idleTimeout : Infinity,
      writeTimeout > 0 ? writeTimeout : Infinity,
    ) / 4;
    let lastSent = 0;
    let lastReceived = 0;
    let sentAt = Date.now();
    let receivedAt = sentAt;
    let writtenAt = sentAt;
    this.#timer = setInterval(() => {
      const now = Date.now();
      const { received, sent } = this.bytes;
      // The socket took bytes, or had none to take: not stalled.
      if (sent !== lastSent || this.#writer.queuedBytes === 0) writtenAt = now;
      if (sent !== lastSent) [lastSent, sentAt] = [sent, now];
      // Only a reader that is waiting can be starved; a paused reader is back-pressure.
      if (received !== lastReceived || !this.#reading) [lastReceived, receivedAt] = [received, now];
      if (idleTimeout > 0 && now - receivedAt >= idleTimeout) {
        this.close(
          new ProtocolError("idle-timeout", `nothing received for ${idleTimeout} ms`, {
            idleTimeout,
          }),
        );
      } else if (writeTimeout > 0 && now - writtenAt >= writeTimeout) {
        const queued = this.#writer.queuedBytes;
        this.close(
          new ProtocolError(
            "write-timeout",
            `the peer took none of ${queued} queued bytes for ${writeTimeout} ms`,
            { writeTimeout, queuedBytes: queued },
          ),
        );
      } else if (keepAliveInterval > 0 && now - sentAt >= keepAliveInterval) {
        sentAt = now;
        this.send({ type: "keep-alive" }).catch(() => {});
      }
    }, period);
  }
}

type MutableContext = {
  -readonly [K in keyof HandshakeContext]: HandshakeContext[K];
};

/** The connection's ends, opened once for the handshake and the codec alike. */
function openIO(conn: TransportConnection): ConnectionIO {
  return openConnectionIO(conn);
}

function createContext(
  conn: TransportConnection,
  direction: "outgoing" | "incoming",
  infoHash: Uint8Array,
  localPeerId: Uint8Array,
): MutableContext {
  return {
    direction,
    infoHash,
    localPeerId,
    reserved: new Uint8Array(8),
    remoteAddress: conn.remoteAddr,
    remote: undefined,
    remoteExtendedHandshake: undefined,
    extensions: undefined,
    reject(reason: string): never {
      throw new ProtocolError("rejected", reason, { reason });
    },
  };
}

function extensionsNegotiated(context: HandshakeContext): boolean {
  return context.extensions !== undefined && context.remote !== undefined &&
    hasReservedBit(context.reserved, ReservedBits.extensionProtocol) &&
    hasReservedBit(context.remote.reserved, ReservedBits.extensionProtocol);
}

function fastNegotiated(context: HandshakeContext): boolean {
  return context.remote !== undefined && hasReservedBit(context.reserved, ReservedBits.fast) &&
    hasReservedBit(context.remote.reserved, ReservedBits.fast);
}

/** The same error with the peer's address in front, so logs say where. */
function atPeer(conn: TransportConnection, error: ProtocolError): ProtocolError {
  const address = conn.remoteAddr;
  const where = address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
  return new ProtocolError(error.code, `${where}: ${error.message.replace(/^wire: /, "")}`, {
    ...error.detail,
    peer: where,
  }, { cause: error.cause ?? error });
}

function closedError(): ProtocolError {
  return new ProtocolError("connection-closed", "the connection is closed");
}

function failHandshake(conn: TransportConnection, error: unknown): ProtocolError {
  try {
    conn.close();
  } catch { /* already closed */ }
  if (error instanceof ProtocolError) return atPeer(conn, error);
  return atPeer(
    conn,
    new ProtocolError("connection-closed", "handshake failed", {}, { cause: error }),
  );
}
