import { concatBytes } from "../../src/util/bytes.ts";
import {
  type AcceptOptions,
  type ConnectOptions,
  encodeHandshake,
  PeerWire,
} from "../../src/wire/mod.ts";

export const infoHash = new Uint8Array(20).fill(0xab);
export const otherInfoHash = new Uint8Array(20).fill(0xcd);
export const clientId = new TextEncoder().encode("-BT0100-client000001");
export const serverId = new TextEncoder().encode("-BT0100-server000001");

/** A loopback listener; `close` must be called (tests use try/finally). */
export function listen(): { listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>; port: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return { listener, port: listener.addr.port };
}

/** Connects a PeerWire to a PeerWire over loopback. */
export async function wirePair(
  client: Partial<ConnectOptions> = {},
  server: Partial<AcceptOptions> = {},
): Promise<{ client: PeerWire; server: PeerWire }> {
  const { listener, port } = listen();
  try {
    const accepting = listener.accept().then((conn) =>
      PeerWire.accept(conn, {
        peerId: serverId,
        findTorrent: (hash) => hash[0] === infoHash[0] ? {} : undefined,
        idleTimeout: 0,
        keepAliveInterval: 0,
        writeTimeout: 0,
        ...server,
      })
    );
    const connecting = Deno.connect({ hostname: "127.0.0.1", port }).then((conn) =>
      PeerWire.connect(conn, {
        infoHash,
        peerId: clientId,
        idleTimeout: 0,
        keepAliveInterval: 0,
        writeTimeout: 0,
        ...client,
      })
    );
    const [a, b] = await Promise.allSettled([connecting, accepting]);
    if (a.status === "rejected" || b.status === "rejected") {
      if (a.status === "fulfilled") a.value.close();
      if (b.status === "fulfilled") b.value.close();
      throw a.status === "rejected" ? a.reason : (b as PromiseRejectedResult).reason;
    }
    return { client: a.value, server: b.value };
  } finally {
    listener.close();
  }
}

/** The bytes of a plain handshake (no reserved bits) for `hash`. */
export function rawHandshake(hash = infoHash, peerId = clientId): Uint8Array {
  return encodeHandshake({ reserved: new Uint8Array(8), infoHash: hash, peerId });
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** Reads until the peer closes; returns everything received. */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    let count: number | null;
    try {
      count = await conn.read(buffer);
    } catch {
      count = null; // reset by peer counts as closed
    }
    if (count === null) break;
    parts.push(buffer.slice(0, count));
  }
  return concatBytes(parts);
}

/**
 * Accepts one connection as a PeerWire (serving `infoHash`) and connects a raw
 * socket to it; `close` closes both ends and the listener.
 */
export async function rawClientOf(
  server: Partial<AcceptOptions> = {},
): Promise<{ conn: Deno.Conn; accepting: Promise<PeerWire>; close: () => void }> {
  const { listener, port } = listen();
  const accepting = listener.accept().then((conn) =>
    PeerWire.accept(conn, {
      peerId: serverId,
      findTorrent: (hash) => hash[0] === infoHash[0] ? {} : undefined,
      ...server,
    })
  );
  accepting.catch(() => {}); // each test asserts on it
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return {
    conn,
    accepting,
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
      listener.close();
    },
  };
}

/**
 * `promise`, or a rejection naming `what` if it has not settled within `ms`
 * (a hang fails the test instead of stalling the run).
 */
export async function bounded<T>(promise: Promise<T>, what = "operation", ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A sink whose writes complete only when `release` is called: back-pressure made visible. */
export class ManualSink {
  readonly #pending: { bytes: Uint8Array; settle: (error?: Error, count?: number) => void }[] = [];
  /** Lengths of the writes completed so far. */
  readonly written: number[] = [];

  /** Writes in flight (at most one for a MessageWriter). */
  get pending(): number {
    return this.#pending.length;
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#pending.push({
        bytes,
        settle: (error, count = bytes.length) => {
          if (error) return reject(error);
          this.written.push(count);
          resolve(count);
        },
      });
    });
  }

  /** Completes the oldest write (whole), or fails it with `error`. */
  release(error?: Error): void {
    const next = this.#pending.shift();
    if (!next) throw new Error("no write in flight");
    next.settle(error);
  }

  /** Completes the oldest write having taken only its first `count` bytes. */
  releasePart(count: number): void {
    const next = this.#pending.shift();
    if (!next) throw new Error("no write in flight");
    next.settle(undefined, Math.min(count, next.bytes.length));
  }
}

/** Lets queued microtasks (a writer's drain steps) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Reads from in-memory chunks: each read returns (part of) the next chunk, as a socket would. */
export class ChunkSource {
  readonly #chunks: Uint8Array[];

  constructor(chunks: Uint8Array[]) {
    this.#chunks = [...chunks];
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks[0];
    if (!chunk) return Promise.resolve(null);
    const count = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, count));
    if (count === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(count);
    return Promise.resolve(count);
  }
}
