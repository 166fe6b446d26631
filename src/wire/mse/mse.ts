import type { TransportConnection } from "../../transport/types.ts";
import { ProtocolError } from "../errors.ts";
import { openRawIO, type RawSink, type RawSource, registerConnectionIO } from "../connection_io.ts";
import { MSE_KEY_LENGTH, MseKeyExchange, sha1 } from "./dh.ts";
import { createRc4, type Rc4Cipher } from "./rc4.ts";

/**
 * Whether peer connections use MSE/PE (Message Stream Encryption):
 * - `prefer` (default): outgoing connections open with MSE, offering RC4 and
 *   plaintext, and are retried in plain text when the peer hangs up on it;
 *   incoming connections may be plain or MSE. When the peer offers both, the
 *   payload stays plaintext after the obfuscated handshake (as libtorrent's
 *   defaults do); a peer that offers only RC4 gets RC4.
 * - `require`: MSE with RC4 for everything, both ways; plain peers are refused.
 * - `off`: plain BitTorrent only; MSE peers are refused.
 *
 * @example
 * ```ts
 * import type { EncryptionPolicy } from "@bittern/bittern";
 *
 * const policy: EncryptionPolicy = "require";
 * ```
 */
export type EncryptionPolicy = "prefer" | "require" | "off";

/**
 * The MSE `crypto_provide`/`crypto_select` bits.
 *
 * @example
 * ```ts
 * import { CryptoMethod } from "@bittern/bittern";
 *
 * const provide = CryptoMethod.plaintext | CryptoMethod.rc4; // 3
 * ```
 */
export const CryptoMethod: {
  /** The payload stream is not encrypted (only the handshake is). */
  readonly plaintext: 1;
  /** The payload stream is RC4-encrypted. */
  readonly rc4: 2;
} = Object.freeze({ plaintext: 1, rc4: 2 });

/** Most random padding in steps 1 and 2 and most PadC/PadD length the spec allows. */
export const MSE_MAX_PADDING = 512;
/** Longest initial payload accepted (a handshake is 68 bytes; the field allows 65535). */
const MAX_INITIAL_PAYLOAD = 1024;
const VC_LENGTH = 8;
const PROTOCOL = new TextEncoder().encode("\x13BitTorrent protocol");

/**
 * Options for {@linkcode encryptOutgoing}.
 *
 * @example
 * ```ts
 * import { CryptoMethod, type EncryptOutgoingOptions } from "@bittern/bittern";
 *
 * declare const infoHash: Uint8Array;
 * const options: EncryptOutgoingOptions = { infoHash, provide: CryptoMethod.rc4 };
 * ```
 */
export interface EncryptOutgoingOptions {
  /** The torrent (SKEY): the receiver finds it from `HASH('req2', SKEY)`. */
  readonly infoHash: Uint8Array;
  /** `crypto_provide`: {@linkcode CryptoMethod} bits. Default both. */
  readonly provide?: number;
  /** Milliseconds allowed for the peer's public key. Default 10 000. */
  readonly timeout?: number;
}

/**
 * Opens MSE on a connection we made. Resolves once the peer's public key is
 * in (a plain-only peer hangs up before: `encryption-refused`, so the caller
 * can retry in plain text); the connection returned sends step 3 with the
 * first bytes written as the initial payload (so a BitTorrent handshake costs
 * no extra round trip), and finds the peer's answer in the first bytes read.
 * Violations surface as {@linkcode ProtocolError}s from its streams.
 *
 * @example
 * ```ts
 * import { encryptOutgoing, PeerWire, TcpTransport } from "@bittern/bittern";
 *
 * declare const infoHash: Uint8Array;
 * declare const peerId: Uint8Array;
 * const tcp = await new TcpTransport().dial({ hostname: "127.0.0.1", port: 6881 });
 * const wire = await PeerWire.connect(await encryptOutgoing(tcp, { infoHash }), { infoHash, peerId });
 * wire.close();
 * ```
 *
 * @param conn A fresh connection.
 * @param options Info hash, methods offered.
 * @returns The connection the BitTorrent protocol runs on.
 */
export async function encryptOutgoing(
  conn: TransportConnection,
  options: EncryptOutgoingOptions,
): Promise<TransportConnection> {
  const provide = options.provide ?? (CryptoMethod.plaintext | CryptoMethod.rc4);
  const { source, sink } = openRawIO(conn);
  const keys = new MseKeyExchange();
  let secret: Uint8Array;
  try {
    secret = await bounded(conn, options.timeout ?? 10_000, async () => {
      await writeOrClosed(sink, concat(keys.publicKey, randomPadding()), "encryption-refused");
      const remoteKey = await readExactly(source, MSE_KEY_LENGTH, "encryption-refused");
      return keys.secret(remoteKey);
    });
  } catch (error) {
    try {
      conn.close();
    } catch { /* already closed */ }
    throw error;
  }
  const skey = options.infoHash;
  const encrypt = createRc4(sha1("keyA", secret, skey));
  const encryptDecision = { cipher: encrypt };
  const decrypt = createRc4(sha1("keyB", secret, skey));
  let sent: Promise<void> | undefined;
  const sendStep3 = (initial: Uint8Array) => {
    sent ??= (async () => {
      const header = new Uint8Array(VC_LENGTH + 4 + 2 + 2 + initial.length);
      const view = new DataView(header.buffer);
      view.setUint32(VC_LENGTH, provide);
      view.setUint16(VC_LENGTH + 4, 0); // len(PadC)
      view.setUint16(VC_LENGTH + 6, initial.length);
      header.set(initial, VC_LENGTH + 8);
      encrypt.process(header);
      const req2 = sha1("req2", skey);
      const req3 = sha1("req3", secret);
      for (let i = 0; i < 20; i++) req2[i] ^= req3[i];
      await writeOrClosed(sink, concat(sha1("req1", secret), req2, header));
    })();
    return sent;
  };
  let answered: Promise<number> | undefined;
  const answer = () => {
    answered ??= (async () => {
      await sendStep3(new Uint8Array(0));
      // ENCRYPT(VC) as the peer sends it: the first 8 bytes of its keystream.
      const marker = new Uint8Array(VC_LENGTH);
      decrypt.process(marker);
      await synchronise(source, marker, MSE_MAX_PADDING + VC_LENGTH, "after the peer's key");
      const fields = await readExactly(source, 6, "connection-closed");
      decrypt.process(fields);
      const view = new DataView(fields.buffer);
      const select = view.getUint32(0);
      if (select !== CryptoMethod.plaintext && select !== CryptoMethod.rc4 || !(select & provide)) {
        throw new ProtocolError(
          "encryption-mismatch",
          `MSE: the peer selected method ${select}, we offered ${provide}`,
          { select, provide },
        );
      }
      const padding = view.getUint16(4);
      checkPadding(padding, "PadD");
      decrypt.process(await readExactly(source, padding, "connection-closed"));
      return select;
    })();
    return answered;
  };
  // Once the answer is in, each read and write takes the cipher without a promise.
  let method: number | undefined;
  const settled = () => answer().then((selected) => method = selected);
  const writeDecision = () => ({ cipher: method === CryptoMethod.rc4 ? encrypt : undefined });
  return layer(conn, source, sink, {
    beforeRead: () => {
      if (method === undefined) {
        return settled().then(() => method === CryptoMethod.rc4 ? decrypt : undefined);
      }
      return method === CryptoMethod.rc4 ? decrypt : undefined;
    },
    beforeWrite: (chunk) => {
      if (!sent && chunk.length <= MAX_INITIAL_PAYLOAD) {
        return sendStep3(chunk.slice()).then(() => CONSUMED);
      }
      if (method === undefined) return settled().then(writeDecision);
      return method === CryptoMethod.rc4 ? encryptDecision : PLAIN_DECISION;
    },
  });
}

/**
 * Options for {@linkcode acceptIncoming}.
 *
 * @example
 * ```ts
 * import { type AcceptIncomingOptions, CryptoMethod } from "@bittern/bittern";
 *
 * declare const infoHash: Uint8Array;
 * const options: AcceptIncomingOptions = {
 *   infoHashes: () => [infoHash],
 *   select: (_infoHash, provide) => provide & CryptoMethod.rc4 ? CryptoMethod.rc4 : CryptoMethod.plaintext,
 * };
 * ```
 */
export interface AcceptIncomingOptions {
  /** The torrents an MSE peer may ask for (SKEY candidates). */
  readonly infoHashes: () => Iterable<Uint8Array>;
  /**
   * Picks `crypto_select` from the peer's `crypto_provide` for its torrent;
   * throw (a {@linkcode ProtocolError}) to refuse.
   */
  readonly select: (infoHash: Uint8Array, provide: number) => number;
  /** Whether a plain BitTorrent handshake is acceptable at all. Default `true`. */
  readonly allowPlain?: boolean;
  /**
   * Whether MSE is acceptable at all. Default `true`; `false` closes an MSE
   * connection before answering (`encryption-policy`), as a plain-only peer would.
   */
  readonly allowEncrypted?: boolean;
  /** Milliseconds allowed for the whole MSE handshake. Default 10 000. */
  readonly timeout?: number;
}

/**
 * What {@linkcode acceptIncoming} found.
 *
 * @example
 * ```ts
 * import type { IncomingConnection } from "@bittern/bittern";
 *
 * declare const incoming: IncomingConnection;
 * console.log(incoming.encrypted ? "MSE" : "plain");
 * ```
 */
export interface IncomingConnection {
  /** The connection the BitTorrent handshake follows on. */
  readonly connection: TransportConnection;
  /** Whether the peer opened with MSE. */
  readonly encrypted: boolean;
  /** With MSE: the torrent it asked for (the BitTorrent handshake must name the same). */
  readonly infoHash?: Uint8Array;
  /** With MSE: the selected {@linkcode CryptoMethod}. */
  readonly method?: number;
}

/**
 * Answers a connection a peer made, plain or MSE, told apart by the first
 * bytes (`\x13BitTorrent protocol` is plain): one listening port serves
 * both. With MSE it finds the torrent from `HASH('req2', SKEY) xor
 * HASH('req3', S)` among `infoHashes`, and bounds every search and padding
 * as the spec says; a violation closes the connection and throws a
 * {@linkcode ProtocolError}.
 *
 * @example
 * ```ts
 * import { acceptIncoming, CryptoMethod, PeerWire, TcpTransport } from "@bittern/bittern";
 *
 * declare const infoHash: Uint8Array;
 * declare const peerId: Uint8Array;
 * const listener = new TcpTransport().listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const conn of listener) {
 *   const incoming = await acceptIncoming(conn, {
 *     infoHashes: () => [infoHash],
 *     select: () => CryptoMethod.rc4,
 *   });
 *   const wire = await PeerWire.accept(incoming.connection, { peerId, findTorrent: () => ({}) });
 *   wire.close();
 * }
 * ```
 *
 * @param conn An accepted connection.
 * @param options Torrents, method choice, timeout.
 * @returns The connection to run the BitTorrent handshake on, and what was negotiated.
 */
export async function acceptIncoming(
  conn: TransportConnection,
  options: AcceptIncomingOptions,
): Promise<IncomingConnection> {
  const { source, sink } = openRawIO(conn);
  try {
    return await bounded(conn, options.timeout ?? 10_000, async () => {
      const first = await readExactly(source, PROTOCOL.length, "connection-closed");
      if (PROTOCOL.every((byte, i) => first[i] === byte)) {
        if (options.allowPlain === false) {
          throw new ProtocolError("encryption-policy", "a plain connection where MSE is required");
        }
        source.unread(first);
        return { connection: layer(conn, source, sink, {}), encrypted: false };
      }
      if (options.allowEncrypted === false) {
        throw new ProtocolError("encryption-policy", "an MSE connection where encryption is off");
      }
      const remoteKey = concat(
        first,
        await readExactly(source, MSE_KEY_LENGTH - first.length, "bad-encryption-key"),
      );
      const keys = new MseKeyExchange();
      const secret = keys.secret(remoteKey);
      await writeOrClosed(sink, concat(keys.publicKey, randomPadding()));
      await synchronise(source, sha1("req1", secret), MSE_MAX_PADDING + 20, "after its key");
      const req23 = await readExactly(source, 20, "connection-closed");
      const req3 = sha1("req3", secret);
      for (let i = 0; i < 20; i++) req23[i] ^= req3[i];
      const infoHash = findTorrent(req23, options.infoHashes());
      const decrypt = createRc4(sha1("keyA", secret, infoHash));
      const encrypt = createRc4(sha1("keyB", secret, infoHash));
      const fields = await readExactly(source, VC_LENGTH + 6, "connection-closed");
      decrypt.process(fields);
      if (fields.subarray(0, VC_LENGTH).some((byte) => byte !== 0)) {
        throw new ProtocolError(
          "encryption-mismatch",
          "MSE: the verification constant is not zero",
        );
      }
      const view = new DataView(fields.buffer);
      const provide = view.getUint32(VC_LENGTH);
      const padding = view.getUint16(VC_LENGTH + 4);
      checkPadding(padding, "PadC");
      decrypt.process(await readExactly(source, padding, "connection-closed"));
      const length = await readExactly(source, 2, "connection-closed");
      decrypt.process(length);
      const initialLength = new DataView(length.buffer).getUint16(0);
      if (initialLength > MAX_INITIAL_PAYLOAD) {
        throw new ProtocolError(
          "bad-encryption-padding",
          `MSE: an initial payload of ${initialLength} bytes exceeds ${MAX_INITIAL_PAYLOAD}`,
          { length: initialLength, limit: MAX_INITIAL_PAYLOAD },
        );
      }
      const initial = await readExactly(source, initialLength, "connection-closed");
      decrypt.process(initial);
      const method = options.select(infoHash, provide);
      if (
        (method !== CryptoMethod.plaintext && method !== CryptoMethod.rc4) || !(method & provide)
      ) {
        throw new ProtocolError(
          "encryption-mismatch",
          `MSE: no method in common (the peer offers ${provide})`,
          { provide },
        );
      }
      const reply = new Uint8Array(VC_LENGTH + 6);
      new DataView(reply.buffer).setUint32(VC_LENGTH, method); // VC zero, len(PadD) 0
      encrypt.process(reply);
      await writeOrClosed(sink, reply);
      source.unread(initial);
      const rc4 = method === CryptoMethod.rc4;
      const encryptDecision: WriteDecision = { cipher: encrypt };
      return {
        connection: layer(conn, source, sink, {
          initialPlain: initial.length,
          beforeRead: () => rc4 ? decrypt : undefined,
          beforeWrite: rc4 ? () => encryptDecision : undefined,
        }),
        encrypted: true,
        infoHash,
        method,
      };
    });
  } catch (error) {
    try {
      conn.close();
    } catch { /* already closed */ }
    throw error;
  }
}

function findTorrent(req2: Uint8Array, infoHashes: Iterable<Uint8Array>): Uint8Array {
  for (const infoHash of infoHashes) {
    const expected = sha1("req2", infoHash);
    if (expected.every((byte, i) => byte === req2[i])) return infoHash;
  }
  throw new ProtocolError(
    "unknown-info-hash",
    "MSE: the peer asked for none of our torrents (req2)",
  );
}

function checkPadding(length: number, what: string): void {
  if (length > MSE_MAX_PADDING) {
    throw new ProtocolError(
      "bad-encryption-padding",
      `MSE: ${what} of ${length} bytes exceeds ${MSE_MAX_PADDING}`,
      { length, limit: MSE_MAX_PADDING },
    );
  }
}

/**
 * Reads until `marker` has been read, at most `limit` bytes in all (never one
 * more, so what follows stays unread); throws `no-encryption-sync` otherwise.
 */
async function synchronise(
  source: RawSource,
  marker: Uint8Array,
  limit: number,
  where: string,
): Promise<void> {
  const window = new Uint8Array(limit);
  let filled = 0;
  let from = 0;
  while (filled < limit) {
    const count = await source.read(window.subarray(filled));
    if (count === null) {
      throw new ProtocolError(
        "no-encryption-sync",
        `MSE: the connection closed after ${filled} bytes without the sync marker ${where}`,
        { received: filled },
      );
    }
    filled += count;
    for (; from + marker.length <= filled; from++) {
      let match = true;
      for (let i = 0; i < marker.length && match; i++) match = window[from + i] === marker[i];
      if (match) {
        source.unread(window.slice(from + marker.length, filled));
        return;
      }
    }
  }
  throw new ProtocolError(
    "no-encryption-sync",
    `MSE: no sync marker within ${limit} bytes ${where}`,
    { limit },
  );
}

async function readExactly(
  source: RawSource,
  length: number,
  code: "connection-closed" | "encryption-refused" | "bad-encryption-key",
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    let count: number | null;
    try {
      count = await source.read(bytes.subarray(filled));
    } catch (error) {
      throw new ProtocolError(
        code,
        `MSE: the connection failed after ${filled} of ${length} bytes`,
        {
          received: filled,
        },
        { cause: error },
      );
    }
    if (count === null) {
      throw new ProtocolError(
        code,
        `MSE: the connection closed after ${filled} of ${length} bytes`,
        { received: filled, expected: length },
      );
    }
    filled += count;
  }
  return bytes;
}

async function writeOrClosed(
  sink: RawSink,
  bytes: Uint8Array,
  code: "connection-closed" | "encryption-refused" = "connection-closed",
): Promise<void> {
  try {
    await sink.write(bytes);
  } catch (error) {
    throw new ProtocolError(code, "MSE: writing to the peer failed", {}, {
      cause: error,
    });
  }
}

/** Runs `work`, closing the connection (which ends its reads) when it takes too long. */
async function bounded<T>(
  conn: TransportConnection,
  timeout: number,
  work: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  }, timeout);
  try {
    return await work();
  } catch (error) {
    if (!timedOut) throw error;
    throw new ProtocolError("handshake-timeout", `MSE: no handshake within ${timeout} ms`, {
      timeout,
    }, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function randomPadding(): Uint8Array {
  const length = crypto.getRandomValues(new Uint16Array(1))[0] % (MSE_MAX_PADDING + 1);
  return crypto.getRandomValues(new Uint8Array(length));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** Largest slice encrypted at once (the scratch buffer's bound). */
const MAX_WRITE_SLICE = 256 * 1024;

/** What to do with a chunk written: consumed already (step 3's payload), or its cipher. */
interface WriteDecision {
  readonly consumed?: boolean;
  readonly cipher?: Rc4Cipher;
}

const CONSUMED: WriteDecision = Object.freeze({ consumed: true });
const PLAIN_DECISION: WriteDecision = Object.freeze({});

interface LayerHooks {
  /** Bytes at the head of the source that are already plain (a decrypted initial payload). */
  readonly initialPlain?: number;
  /** Before each read: the cipher for what is read (`undefined`: plain). */
  readonly beforeRead?: () => Rc4Cipher | undefined | Promise<Rc4Cipher | undefined>;
  /** Before each write: whether the chunk was consumed, else the cipher for it. */
  readonly beforeWrite?: (chunk: Uint8Array) => WriteDecision | Promise<WriteDecision>;
}

/**
 * The connection after the MSE handshake: a byte stream each way over the
 * locked source and sink, deciphering in place as bytes arrive (no copy) and
 * enciphering outgoing bytes into a reused scratch buffer. The streams are made
 * only when asked for: `PeerWire` reads and writes through the same steps
 * directly (`registerConnectionIO`), one stream layer less per read and write.
 */
function layer(
  conn: TransportConnection,
  source: RawSource,
  sink: RawSink,
  hooks: LayerHooks,
): TransportConnection {
  let plainLeft = hooks.initialPlain ?? 0;
  let scratch: Uint8Array | undefined;
  /** Reads into `view` (transferring its buffer, as `StreamSource.readInto`), deciphered. */
  const readInto = (view: Uint8Array): Promise<Uint8Array | null> => {
    const cipher = hooks.beforeRead?.();
    if (cipher instanceof Promise) return cipher.then((known) => readIntoWith(known, view));
    return readIntoWith(cipher, view);
  };
  const readIntoWith = (
    cipher: Rc4Cipher | undefined,
    view: Uint8Array,
  ): Promise<Uint8Array | null> => {
    if (plainLeft > 0) view = view.subarray(0, plainLeft);
    const reading = source.readInto(view);
    if (!cipher && plainLeft === 0) return reading;
    return reading.then((filled) => {
      if (filled === null) return null;
      if (plainLeft > 0) plainLeft -= filled.length;
      else cipher?.process(filled);
      return filled;
    });
  };
  /** Reads into `buffer` (copying: it stays usable), deciphered; the byte count. */
  const read = async (buffer: Uint8Array): Promise<number | null> => {
    const cipher = await hooks.beforeRead?.();
    const view = plainLeft > 0 ? buffer.subarray(0, plainLeft) : buffer;
    const count = await source.read(view);
    if (count === null) return null;
    if (plainLeft > 0) plainLeft -= count;
    else cipher?.process(view.subarray(0, count));
    return count;
  };
  /** Writes all of `chunk` (enciphered when the layer does); its length. */
  const write = (chunk: Uint8Array): Promise<number> => {
    const decision = hooks.beforeWrite?.(chunk);
    if (decision instanceof Promise) return decision.then((known) => writeWith(known, chunk));
    return writeWith(decision, chunk);
  };
  const writeWith = (decision: WriteDecision | undefined, chunk: Uint8Array): Promise<number> => {
    if (decision?.consumed) return Promise.resolve(chunk.length);
    const cipher = decision?.cipher;
    return cipher ? writeEnciphered(cipher, chunk) : sink.write(chunk);
  };
  const writeEnciphered = async (cipher: Rc4Cipher, chunk: Uint8Array): Promise<number> => {
    for (let offset = 0; offset < chunk.length; offset += MAX_WRITE_SLICE) {
      const part = chunk.subarray(offset, offset + MAX_WRITE_SLICE);
      if (!scratch || scratch.length < part.length) {
        scratch = new Uint8Array(Math.min(Math.max(part.length, 16 * 1024), MAX_WRITE_SLICE));
      }
      const out = scratch.subarray(0, part.length);
      out.set(part);
      cipher.process(out);
      await sink.write(out);
    }
    // An idle connection should not keep a large buffer.
    if (scratch && scratch.length > 16 * 1024 && chunk.length < 16 * 1024) scratch = undefined;
    return chunk.length;
  };
  let streams: Pick<TransportConnection, "readable" | "writable"> | undefined;
  const openStreams = () => streams ??= layerStreams(source, sink, readInto, write);
  const connection: TransportConnection = {
    get readable() {
      return openStreams().readable;
    },
    get writable() {
      return openStreams().writable;
    },
    remoteAddr: conn.remoteAddr,
    close: () => conn.close(),
  };
  registerConnectionIO(connection, () => ({ source: { read, readInto }, sink: { write } }));
  return connection;
}

/** The layer's steps as Web Streams, for users of the connection other than `PeerWire`. */
function layerStreams(
  source: RawSource,
  sink: RawSink,
  readInto: (view: Uint8Array) => Promise<Uint8Array | null>,
  write: (chunk: Uint8Array) => Promise<number>,
): Pick<TransportConnection, "readable" | "writable"> {
  const readable = new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 64 * 1024,
    async pull(controller) {
      const request = controller.byobRequest!;
      const asked = request.view!;
      const bufferLength = asked.buffer.byteLength;
      const filled = await readInto(
        new Uint8Array(asked.buffer, asked.byteOffset, asked.byteLength),
      );
      if (filled === null) {
        controller.close();
        // The read that found the end may have taken (detached) the buffer: answer with
        // an empty view of the same shape, or the reader would never hear of the end.
        if ((asked.buffer as ArrayBuffer).detached) {
          request.respondWithNewView(
            new Uint8Array(new ArrayBuffer(bufferLength), asked.byteOffset, 0),
          );
        } else {
          request.respond(0);
        }
        return;
      }
      if (filled.buffer === asked.buffer) request.respond(filled.length);
      else request.respondWithNewView(filled);
    },
    cancel(reason) {
      source.cancel(reason);
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await write(chunk);
    },
    close() {
      sink.close();
    },
  });
  return { readable, writable };
}
