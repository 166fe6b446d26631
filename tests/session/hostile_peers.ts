/**
 * A hostile peer kit: small TCP servers on 127.0.0.1 (port 0) that a Bittern leecher dials.
 * Each accepts any number of connections, answers the BitTorrent handshake for one torrent,
 * then misbehaves in its own way, and counts what it did. `close()` ends every connection,
 * timer and read, so tests pass Deno's sanitizers.
 *
 * Every loop is bounded in count, every wait in time: a kit peer stops by itself when the
 * other side closes, when its work is done, or when `close()` aborts it.
 *
 * The other direction too: hostile leechers that dial a seeder ({@linkcode stalledLeecher},
 * {@linkcode requestFlood}).
 */
import {
  encode,
  encodeHandshake,
  encodeMessage,
  type Message,
  MessageReader,
  ProtocolError,
  readHandshake,
  ReservedBits,
  setReservedBit,
  type Torrent,
} from "../../mod.ts";
import { seededRandom, within } from "./helpers.ts";

/** The kinds of peer this kit builds. */
export type HostileKind =
  | "corruptBlocks"
  | "oversizedFrame"
  | "garbage"
  | "badBitfield"
  | "outOfRange"
  | "slowHandshake"
  | "wrongInfoHash"
  | "messageFlood"
  | "hugeExtendedHandshake"
  | "unrequestedBlocks"
  | "noisyHonest";

/** What a kit peer did, summed over its connections. */
export interface HostileCounts {
  /** Connections accepted. */
  connections: number;
  /** Connections on which the dialler's handshake arrived and we answered. */
  handshakes: number;
  /** Frames (or raw chunks, for the garbage peer) written after the handshake. */
  messagesSent: number;
  /** Bytes written after the handshake. */
  bytesSent: number;
  /** `request` messages received. */
  requests: number;
  /** `piece` messages sent (answers and unrequested ones). */
  blocks: number;
  /** Of those, blocks with wrong bytes. */
  corrupted: number;
  /** Connections that ended because the other side closed or reset them. */
  endedByRemote: number;
}

/** A running kit peer. */
export interface HostilePeer {
  /** What it does. */
  readonly kind: HostileKind;
  /** Its listening port on 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:port`, as session events name it. */
  readonly address: string;
  /** What it did so far. */
  readonly counts: HostileCounts;
  /** Unexpected errors in the kit itself (a test should expect none). */
  readonly errors: string[];
  /** Stops listening and ends every connection (bounded: rejects after 10 s). */
  close(): Promise<void>;
}

/** What every kit peer needs: the torrent, and for the data-serving kinds, its bytes. */
export interface HostileOptions {
  /** The torrent whose info hash the peer answers for. */
  readonly torrent: Torrent;
  /** The torrent's payload (all files concatenated): needed by corruptBlocks and noisyHonest. */
  readonly payload?: Uint8Array;
  /** Seed for the peer's random choices, so runs reproduce. Default 1. */
  readonly seed?: number;
}

/** One connection's tools: counted, serialised writes and abortable sleeps. */
interface Connection {
  readonly conn: Deno.Conn;
  /** 0 for the first connection to this peer, 1 for the next, ... (variants alternate). */
  readonly ordinal: number;
  readonly signal: AbortSignal;
  readonly counts: HostileCounts;
  readonly random: () => number;
  /** Writes `bytes` completely, after every earlier write. */
  write(bytes: Uint8Array, messages?: number): Promise<void>;
  /** Sends one message. */
  send(message: Message): Promise<void>;
  /** Resolves after `ms`, or at once when the peer is closed. */
  sleep(ms: number): Promise<void>;
}

const BLOCK = 16384;
const KEEP_ALIVE = new Uint8Array(4);

/** Peer ids: 20 bytes, `-HS0001-` and the kind. */
function peerId(kind: HostileKind): Uint8Array {
  const id = new TextEncoder().encode(`-HS0001-${kind}`.padEnd(20, "-").slice(0, 20));
  return id;
}

function isRemoteGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.BadResource;
}

/**
 * The shared server: listens, accepts, runs `handle` per connection, tracks everything
 * so `close()` can end it.
 */
function serve(
  kind: HostileKind,
  options: HostileOptions,
  handle: (connection: Connection) => Promise<void>,
): HostilePeer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const port = (listener.addr as Deno.NetAddr).port;
  const abort = new AbortController();
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const counts: HostileCounts = {
    connections: 0,
    handshakes: 0,
    messagesSent: 0,
    bytesSent: 0,
    requests: 0,
    blocks: 0,
    corrupted: 0,
    endedByRemote: 0,
  };
  const errors: string[] = [];
  const random = seededRandom(options.seed ?? 1);

  const run = async (conn: Deno.Conn, ordinal: number) => {
    let writing = Promise.resolve();
    const write = (bytes: Uint8Array, messages = 1) => {
      writing = writing.then(async () => {
        for (let written = 0; written < bytes.length;) {
          written += await conn.write(bytes.subarray(written));
        }
        counts.bytesSent += bytes.length;
        counts.messagesSent += messages;
      });
      return writing;
    };
    const connection: Connection = {
      conn,
      ordinal,
      signal: abort.signal,
      counts,
      random,
      write,
      send: (message) => write(encodeMessage(message)),
      sleep: (ms) => sleep(ms, abort.signal),
    };
    try {
      await handle(connection);
    } catch (error) {
      // The other side closing, or sending something our reader rejects, ends a
      // connection; anything else is a bug in the kit.
      if (isRemoteGone(error)) {
        if (!abort.signal.aborted) counts.endedByRemote++;
      } else if (!(error instanceof ProtocolError) && !abort.signal.aborted) {
        errors.push(`${kind} connection ${ordinal}: ${(error as Error)?.stack ?? error}`);
      }
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
      // A write may still be pending on the closed socket: let it fail quietly.
      await writing.catch(() => {});
    }
  };

  const acceptLoop = (async () => {
    let ordinal = 0;
    try {
      for await (const conn of listener) {
        if (abort.signal.aborted) {
          conn.close();
          continue;
        }
        counts.connections++;
        conns.add(conn);
        const task = run(conn, ordinal++).catch(() => {});
        tasks.add(task);
        void task.finally(() => tasks.delete(task));
      }
    } catch { /* the listener was closed */ }
  })();

  let closing: Promise<void> | undefined;
  return {
    kind,
    port,
    address: `127.0.0.1:${port}`,
    counts,
    errors,
    close() {
      closing ??= (async () => {
        abort.abort();
        try {
          listener.close();
        } catch { /* closed */ }
        for (const conn of conns) {
          try {
            conn.close();
          } catch { /* closed */ }
        }
        await within(Promise.all([acceptLoop, ...tasks]), 10_000, `closing hostile ${kind} peer`);
      })();
      return closing;
    },
  };
}

/** Resolves after `ms` or when `signal` aborts, whichever comes first; leaves no timer. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Reads the dialler's handshake (it must name `torrent`) and answers with ours.
 * Returns false (close the connection) if the dialler asked for another torrent.
 */
async function handshake(
  connection: Connection,
  kind: HostileKind,
  torrent: Torrent,
  options: { infoHash?: Uint8Array; extensions?: boolean } = {},
): Promise<boolean> {
  const remote = await readHandshake(connection.conn, { timeout: 15_000 });
  if (remote.infoHash.some((byte, i) => byte !== torrent.infoHash[i])) return false;
  const reserved = new Uint8Array(8);
  if (options.extensions) setReservedBit(reserved, ReservedBits.extensionProtocol);
  const bytes = encodeHandshake({
    reserved,
    infoHash: options.infoHash ?? torrent.infoHash,
    peerId: peerId(kind),
  });
  for (let written = 0; written < bytes.length;) {
    written += await connection.conn.write(bytes.subarray(written));
  }
  connection.counts.handshakes++;
  return true;
}

/**
 * Reads and throws away whatever arrives until the other side closes (or we are closed).
 * Never rejects: a failed read ends it too.
 */
async function drain(connection: Connection): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  // Bounded by the connection: it ends when either side closes it.
  try {
    for (;;) {
      if (connection.signal.aborted) return;
      const count = await connection.conn.read(buffer);
      if (count === null) break;
    }
  } catch (error) {
    // Closed by us (BadResource, Interrupted) does not count; a reset does.
    if (!(error instanceof Deno.errors.ConnectionReset)) return;
  }
  if (!connection.signal.aborted) connection.counts.endedByRemote++;
}

/**
 * Runs `work` while draining what arrives, then drains until the other side closes. If
 * `work` fails, the connection is closed first, so the drain ends too.
 */
async function whileDraining(connection: Connection, work: () => Promise<void>): Promise<void> {
  const draining = drain(connection);
  try {
    await work();
  } catch (error) {
    try {
      connection.conn.close();
    } catch { /* closed */ }
    throw error;
  } finally {
    await draining;
  }
}

/** A bitfield with every piece set and spare bits clear. */
function fullBitfield(pieceCount: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(pieceCount / 8)).fill(0xff);
  const spare = bytes.length * 8 - pieceCount;
  if (spare) bytes[bytes.length - 1] = (0xff << spare) & 0xff;
  return bytes;
}

function requirePayload(kind: HostileKind, options: HostileOptions): Uint8Array {
  if (!options.payload || options.payload.length !== options.torrent.length) {
    throw new Error(
      `hostile ${kind} peer needs the torrent's payload (${options.torrent.length} bytes)`,
    );
  }
  return options.payload;
}

/**
 * Serves requests from `payload` until the other side closes: honest bytes, except
 * blocks for which `corrupt(index, begin)` says otherwise (those get bits flipped).
 */
async function serveRequests(
  connection: Connection,
  torrent: Torrent,
  payload: Uint8Array,
  corrupt: (index: number, begin: number) => boolean = () => false,
  delayMs = 0,
): Promise<void> {
  const reader = new MessageReader(connection.conn, { context: torrent });
  for (;;) {
    if (connection.signal.aborted) return;
    const message = await reader.next();
    if (message === undefined) {
      connection.counts.endedByRemote++;
      return;
    }
    if (message.type !== "request") continue;
    connection.counts.requests++;
    if (delayMs) await connection.sleep(delayMs);
    const start = message.index * torrent.pieceLength + message.begin;
    let block = payload.subarray(start, start + message.length);
    if (corrupt(message.index, message.begin)) {
      block = block.slice();
      // Flip a few bits spread over the block: wrong, but the right length.
      for (let i = message.begin % 97; i < block.length; i += 4099) block[i] ^= 0x01;
      connection.counts.corrupted++;
    }
    connection.counts.blocks++;
    await connection.send({ type: "piece", index: message.index, begin: message.begin, block });
  }
}

/**
 * Handshakes, sends a full bitfield, unchokes, and answers requests, with wrong bytes in
 * about a third of the blocks (the same blocks every time, so it is consistent about
 * which blocks it lies about, as a real bad peer's storage would be). The other blocks
 * are right. It answers each request after 2 ms (about 8 MB/s): slower than the honest
 * peers on loopback, so its blocks are still outstanding while honest peers fill in the
 * rest of the same pieces, and a failed piece has honest contributors too.
 */
export function corruptBlocks(options: HostileOptions): HostilePeer {
  const kind = "corruptBlocks";
  const payload = requirePayload(kind, options);
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    await connection.send({ type: "bitfield", bitfield: fullBitfield(torrent.pieceCount) });
    await connection.send({ type: "unchoke" });
    await serveRequests(
      connection,
      torrent,
      payload,
      (index, begin) => (index + begin / BLOCK) % 3 === 0,
      2,
    );
  });
}

/** Handshakes, then sends a frame length prefix of 2^31 (and a little of the "body"). */
export function oversizedFrame(options: HostileOptions): HostilePeer {
  const kind = "oversizedFrame";
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, options.torrent)) return;
    const frame = new Uint8Array(4 + 1 + 64 * 1024);
    new DataView(frame.buffer).setUint32(0, 2 ** 31);
    frame[4] = 7; // "piece"
    await connection.write(frame);
    await drain(connection);
  });
}

/** Handshakes, then sends 256 KiB of random bytes. */
export function garbage(options: HostileOptions): HostilePeer {
  const kind = "garbage";
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, options.torrent)) return;
    const bytes = new Uint8Array(256 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (connection.random() * 256) | 0;
    await connection.write(bytes);
    await drain(connection);
  });
}

/**
 * Handshakes, then sends a bitfield that is wrong: too long (even connections) or of the
 * right length with spare bits set (odd ones; too short if the piece count has no spare
 * bits), then unchokes.
 */
export function badBitfield(options: HostileOptions): HostilePeer {
  const kind = "badBitfield";
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    const right = Math.ceil(torrent.pieceCount / 8);
    let bitfield: Uint8Array;
    if (connection.ordinal % 2 === 0) {
      bitfield = new Uint8Array(right + 3).fill(0xff);
    } else if (torrent.pieceCount % 8 !== 0) {
      bitfield = new Uint8Array(right).fill(0xff); // spare bits set
    } else {
      bitfield = new Uint8Array(right - 1).fill(0xff);
    }
    await connection.send({ type: "bitfield", bitfield });
    await connection.send({ type: "unchoke" });
    await drain(connection);
  });
}

/**
 * Handshakes, sends a full bitfield and unchokes, then (by connection, in turn) a `have`,
 * an unrequested `piece`, or a `request` for a piece index at or past the piece count.
 */
export function outOfRange(options: HostileOptions): HostilePeer {
  const kind = "outOfRange";
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    await connection.send({ type: "bitfield", bitfield: fullBitfield(torrent.pieceCount) });
    await connection.send({ type: "unchoke" });
    const index = torrent.pieceCount + (connection.ordinal % 2);
    switch (connection.ordinal % 3) {
      case 0:
        await connection.send({ type: "have", index });
        break;
      case 1:
        connection.counts.blocks++;
        await connection.send({ type: "piece", index, begin: 0, block: new Uint8Array(BLOCK) });
        break;
      default:
        await connection.send({ type: "request", index, begin: 0, length: BLOCK });
    }
    await drain(connection);
  });
}

/** Reads the dialler's handshake, then drips its own one byte per second (68 s in all). */
export function slowHandshake(options: HostileOptions): HostilePeer {
  const kind = "slowHandshake";
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    const remote = await readHandshake(connection.conn, { timeout: 15_000 });
    if (remote.infoHash.some((byte, i) => byte !== torrent.infoHash[i])) return;
    const bytes = encodeHandshake({
      reserved: new Uint8Array(8),
      infoHash: torrent.infoHash,
      peerId: peerId(kind),
    });
    await whileDraining(connection, async () => {
      for (let i = 0; i < bytes.length && !connection.signal.aborted; i++) {
        await connection.write(bytes.subarray(i, i + 1));
        await connection.sleep(1000);
      }
      connection.counts.handshakes++;
    });
  });
}

/** Answers the handshake with a different info hash (every byte inverted). */
export function wrongInfoHash(options: HostileOptions): HostilePeer {
  const kind = "wrongInfoHash";
  const { torrent } = options;
  const wrong = torrent.infoHash.map((byte) => byte ^ 0xff);
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent, { infoHash: wrong })) return;
    await connection.send({ type: "bitfield", bitfield: fullBitfield(torrent.pieceCount) });
    await drain(connection);
  });
}

/**
 * Handshakes, then writes 100,000 messages at once: `have`s for valid pieces (cycling)
 * with a keep-alive every tenth. It never unchokes, so it is never asked for data.
 */
export function messageFlood(options: HostileOptions): HostilePeer {
  const kind = "messageFlood";
  const { torrent } = options;
  const count = 100_000;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    chunks.push(
      i % 10 === 9 ? KEEP_ALIVE : encodeMessage({
        type: "have",
        index: i % torrent.pieceCount,
      }),
    );
  }
  const flood = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    flood.set(chunk, offset);
    offset += chunk.length;
  }
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    await whileDraining(connection, () => connection.write(flood, count));
  });
}

/**
 * Speaks BEP 10 and sends an extended handshake that pushes limits, by connection in turn:
 * just under 64 KiB with `metadata_size` and `reqq` of 2^40; a 1 MiB frame (over the
 * default limit); integers past 2^53 and negative ones.
 */
export function hugeExtendedHandshake(options: HostileOptions): HostilePeer {
  const kind = "hugeExtendedHandshake";
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent, { extensions: true })) return;
    const text = new TextEncoder();
    let body: Uint8Array;
    switch (connection.ordinal % 3) {
      case 0: {
        const m: Record<string, number> = { ut_metadata: 1, ut_pex: 2 };
        for (let i = 0; i < 200; i++) m[`x_ext_${i}`] = 3 + i;
        const small = encode({ m, metadata_size: 2 ** 40, reqq: 2 ** 40, v: "hostile" });
        const pad = 64 * 1024 - 64 - small.length;
        body = encode({ m, metadata_size: 2 ** 40, pad: "p".repeat(pad), reqq: 2 ** 40 });
        break;
      }
      case 1:
        body = new Uint8Array(1024 * 1024).fill(0x64); // "ddd...": a dict that never ends
        break;
      default:
        body = text.encode(
          "d1:md11:ut_metadatai1ee13:metadata_sizei99999999999999999999999e" +
            "1:pi-1e4:reqqi-5ee",
        );
    }
    await connection.send({ type: "extended", id: 0, payload: body });
    await drain(connection);
  });
}

/**
 * Handshakes, claims no pieces, unchokes, then sends up to 2,000 `piece` messages nobody
 * asked for (random bytes, valid index/begin/length, cycling over every block), about
 * 400 per second.
 */
export function unrequestedBlocks(options: HostileOptions): HostilePeer {
  const kind = "unrequestedBlocks";
  const { torrent } = options;
  const blocksPerPiece = Math.ceil(torrent.pieceLength / BLOCK);
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    await connection.send({ type: "unchoke" });
    const junk = new Uint8Array(BLOCK);
    for (let i = 0; i < junk.length; i++) junk[i] = (connection.random() * 256) | 0;
    const blocks = torrent.pieceCount * blocksPerPiece;
    const start = Math.floor(connection.random() * blocks);
    // Bounded by count; a closed connection fails the next write and ends it sooner.
    await whileDraining(connection, async () => {
      for (let sent = 0; sent < 2000 && !connection.signal.aborted; sent++) {
        const n = (start + sent * 7) % blocks;
        const index = Math.floor(n / blocksPerPiece);
        const begin = (n % blocksPerPiece) * BLOCK;
        const pieceLength = index === torrent.pieceCount - 1
          ? torrent.length - torrent.pieceLength * index
          : torrent.pieceLength;
        if (begin >= pieceLength) continue;
        const block = junk.subarray(0, Math.min(BLOCK, pieceLength - begin));
        connection.counts.blocks++;
        connection.counts.corrupted++;
        await connection.send({ type: "piece", index, begin, block });
        if (sent % 20 === 19) await connection.sleep(50);
      }
    });
  });
}

/**
 * An honest seeder that is chatty: full bitfield, unchoke, right bytes for every request,
 * and meanwhile a `have` (for a piece it already announced) and a keep-alive every 20 ms
 * (at most 3,000 of each per connection).
 */
export function noisyHonest(options: HostileOptions): HostilePeer {
  const kind = "noisyHonest";
  const payload = requirePayload(kind, options);
  const { torrent } = options;
  return serve(kind, options, async (connection) => {
    if (!await handshake(connection, kind, torrent)) return;
    await connection.send({ type: "bitfield", bitfield: fullBitfield(torrent.pieceCount) });
    await connection.send({ type: "unchoke" });
    let done = false;
    const noise = (async () => {
      for (let i = 0; i < 3000 && !done && !connection.signal.aborted; i++) {
        await connection.sleep(20);
        if (done) return;
        await connection.send({
          type: "have",
          index: Math.floor(connection.random() * torrent.pieceCount),
        });
        await connection.write(KEEP_ALIVE);
      }
    })().catch(() => {}); // a failed write means the connection is gone: the reader ends too
    try {
      await serveRequests(connection, torrent, payload);
    } finally {
      done = true;
      await noise;
    }
  });
}

/** Every hostile kind, by name (noisyHonest excluded: it is not hostile). */
export const HOSTILE_KINDS: Record<
  Exclude<HostileKind, "noisyHonest">,
  (options: HostileOptions) => HostilePeer
> = {
  corruptBlocks,
  oversizedFrame,
  garbage,
  badBitfield,
  outOfRange,
  slowHandshake,
  wrongInfoHash,
  messageFlood,
  hugeExtendedHandshake,
  unrequestedBlocks,
};

// ---------------------------------------------------------------------------------------
// Hostile leechers: the other direction. They dial a seeder and misbehave at it.

/** A hostile leecher connection to a seeder. */
export interface HostileLeecher {
  /** Whether the seeder unchoked us before we went quiet. */
  readonly unchoked: boolean;
  /** Requests written. */
  readonly requestsSent: number;
  /** Payload bytes of `piece` messages read (draining leechers only). */
  readonly blockBytesReceived: number;
  /** Closes the connection and waits for its reads and writes to end (bounded). */
  close(): Promise<void>;
}

/** Where and what the hostile leecher asks for. */
export interface HostileLeecherOptions {
  /** The seeder's port on 127.0.0.1. */
  readonly port: number;
  /** The torrent it seeds. */
  readonly torrent: Torrent;
  /** Give up waiting for an unchoke after this many ms (requests go out anyway). Default 15 s. */
  readonly unchokeTimeoutMs?: number;
}

/** `-HL0001-` and 12 random bytes. */
function leecherPeerId(): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode("-HL0001-"));
  crypto.getRandomValues(id.subarray(8));
  return id;
}

/** Dials, handshakes (plain BitTorrent, no extensions) and says interested. */
async function dialSeeder(options: HostileLeecherOptions): Promise<Deno.Conn> {
  const signal = AbortSignal.timeout(10_000);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: options.port, signal });
  try {
    const bytes = encodeHandshake({
      reserved: new Uint8Array(8),
      infoHash: options.torrent.infoHash,
      peerId: leecherPeerId(),
    });
    for (let written = 0; written < bytes.length;) {
      written += await conn.write(bytes.subarray(written));
    }
    await readHandshake(conn, { timeout: 10_000, expectedInfoHash: options.torrent.infoHash });
    const interested = encodeMessage({ type: "interested" });
    for (let written = 0; written < interested.length;) {
      written += await conn.write(interested.subarray(written));
    }
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** `count` valid block requests spread over the torrent, as one buffer. */
function requests(torrent: Torrent, count: number, distinctPieces: boolean): Uint8Array {
  const blocksPerPiece = Math.ceil(torrent.pieceLength / BLOCK);
  const lastPieceLength = torrent.length - torrent.pieceLength * (torrent.pieceCount - 1);
  const out = new Uint8Array(count * 17);
  for (let i = 0; i < count; i++) {
    let index: number;
    let begin: number;
    if (distinctPieces) {
      // One block (the first) of each of `count` pieces spread over the torrent.
      index = Math.floor(i * torrent.pieceCount / count);
      begin = 0;
    } else {
      const n = i % (torrent.pieceCount * blocksPerPiece);
      index = Math.floor(n / blocksPerPiece);
      begin = (n % blocksPerPiece) * BLOCK;
      if (index === torrent.pieceCount - 1 && begin >= lastPieceLength) begin = 0;
    }
    const pieceLength = index === torrent.pieceCount - 1 ? lastPieceLength : torrent.pieceLength;
    const length = Math.min(BLOCK, pieceLength - begin);
    out.set(encodeMessage({ type: "request", index, begin, length }), i * 17);
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/**
 * Handshakes, says interested, waits (bounded) for an unchoke, requests one block in each of
 * `pieces` different pieces, and then never reads its socket again: whatever the seeder
 * sends piles up in the kernel buffers and then in the seeder.
 */
export async function stalledLeecher(
  options: HostileLeecherOptions & { readonly pieces: number },
): Promise<HostileLeecher> {
  if (options.pieces > options.torrent.pieceCount) {
    throw new Error(
      `stalledLeecher: ${options.pieces} pieces of a ${options.torrent.pieceCount}-piece torrent`,
    );
  }
  const conn = await dialSeeder(options);
  const reader = new MessageReader(conn, { context: options.torrent });
  let unchoked = false;
  // Read until the unchoke or the deadline; a read may stay pending after a timeout (it
  // ends when the connection is closed).
  let pending: Promise<unknown> | undefined;
  const deadline = Date.now() + (options.unchokeTimeoutMs ?? 15_000);
  try {
    for (let i = 0; i < 10_000 && !unchoked; i++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const next = reader.next();
      pending = next.catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const message = await Promise.race([
        next,
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), left)),
      ]).finally(() => clearTimeout(timer));
      if (message === "timeout") break;
      pending = undefined;
      if (message === undefined) {
        throw new Error("stalledLeecher: the seeder closed the connection");
      }
      if (message.type === "unchoke") unchoked = true;
    }
    const bytes = requests(options.torrent, options.pieces, true);
    await writeAll(conn, bytes);
  } catch (error) {
    conn.close();
    await pending;
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    unchoked,
    requestsSent: options.pieces,
    blockBytesReceived: 0,
    close() {
      closing ??= (async () => {
        try {
          conn.close();
        } catch { /* closed */ }
        await within(Promise.resolve(pending), 5000, "stalled leecher's last read");
      })();
      return closing;
    },
  };
}

/**
 * Handshakes, says interested and at once writes `count` valid requests (cycling over every
 * block), then reads and discards whatever the seeder sends until closed.
 */
export async function requestFlood(
  options: HostileLeecherOptions & { readonly count: number },
): Promise<HostileLeecher> {
  const conn = await dialSeeder(options);
  const state = { unchoked: false, requestsSent: 0, blockBytesReceived: 0 };
  let closed = false;
  const reading = (async () => {
    const reader = new MessageReader(conn, { context: options.torrent });
    // Bounded by the connection: ends when either side closes it.
    for (;;) {
      const message = await reader.next();
      if (message === undefined) return;
      if (message.type === "unchoke") state.unchoked = true;
      if (message.type === "piece") state.blockBytesReceived += message.block.length;
    }
  })().catch(() => {});
  const writing = writeAll(conn, requests(options.torrent, options.count, false)).then(
    () => void (state.requestsSent = options.count),
    () => {},
  );
  let closing: Promise<void> | undefined;
  return {
    get unchoked() {
      return state.unchoked;
    },
    get requestsSent() {
      return state.requestsSent;
    },
    get blockBytesReceived() {
      return state.blockBytesReceived;
    },
    close() {
      closing ??= (async () => {
        if (!closed) {
          closed = true;
          try {
            conn.close();
          } catch { /* closed */ }
        }
        await within(Promise.all([reading, writing]), 5000, "request flood's reads and writes");
      })();
      return closing;
    },
  };
}
