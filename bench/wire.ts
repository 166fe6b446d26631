// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Wire codec throughput over a real loopback socket: 16 KiB piece messages
 * encoded, sent, received and decoded, as a ratio to raw socket throughput
 * (16 KiB chunks written, read and discarded) measured in the same run.
 * Sender and receiver share this process, as they would in a session.
 *
 * Each variant runs for ~2 s (or 1 GiB), three rounds interleaved so that
 * background load hits all of them alike; the median is reported.
 *
 * Run: deno run --allow-net=127.0.0.1 bench/wire.ts
 */
import { type Message, MessageReader, MessageWriter, StreamSink } from "../src/wire/mod.ts";

const BLOCK = 16 * 1024;
const MAX_BYTES = 1024 * 1024 * 1024;
const MAX_MILLIS = 2000;
const ROUNDS = 3;

type KeepGoing = (sentBytes: number) => boolean;

interface Variant {
  name: string;
  send: (conn: Deno.Conn, keepGoing: KeepGoing) => Promise<void>;
  receive: (conn: Deno.Conn) => Promise<number>;
}

/** Opens a loopback pair and returns MiB/s received while `send` runs on the other end. */
async function measure(variant: Variant): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  listener.close();
  const started = performance.now();
  const keepGoing = (sent: number) => sent < MAX_BYTES && performance.now() - started < MAX_MILLIS;
  try {
    const [received] = await Promise.all([
      variant.receive(server),
      variant.send(client, keepGoing),
    ]);
    return received / 1048576 / ((performance.now() - started) / 1000);
  } finally {
    for (const conn of [client, server]) {
      try {
        conn.close();
      } catch { /* a writable stream's close closed it already */ }
    }
  }
}

const payload = new Uint8Array(BLOCK).map((_, i) => i * 7);

function* pieces(keepGoing: KeepGoing): Generator<Message> {
  let sent = 0;
  for (let n = 0; keepGoing(sent); n++) {
    yield { type: "piece", index: n >>> 4, begin: (n & 15) * BLOCK, block: payload };
    sent += BLOCK;
  }
}

const rawStreams: Variant = {
  name: "raw socket, Web Streams (writable/readable)",
  async send(conn, keepGoing) {
    const writer = conn.writable.getWriter();
    for (let sent = 0; keepGoing(sent); sent += payload.length) {
      await writer.ready;
      writer.write(payload);
    }
    await writer.close();
  },
  async receive(conn) {
    let received = 0;
    for await (const chunk of conn.readable) received += chunk.length;
    return received;
  },
};

const rawDirect: Variant = {
  name: "raw socket, conn.write / conn.read (reused buffer)",
  async send(conn, keepGoing) {
    for (let sent = 0; keepGoing(sent); sent += payload.length) {
      for (let written = 0; written < payload.length;) {
        written += await conn.write(payload.subarray(written));
      }
    }
    conn.closeWrite();
  },
  async receive(conn) {
    let received = 0;
    const buffer = new Uint8Array(256 * 1024);
    for (;;) {
      const count = await conn.read(buffer);
      if (count === null) return received;
      received += count;
    }
  },
};

/**
 * Piece messages through `MessageWriter` and `MessageReader`: on the socket itself (as
 * `PeerWire` reads TCP) or over its Web Streams (the path of every other transport).
 */
function codec(name: string, overStreams: boolean): Variant {
  return {
    name,
    async send(conn, keepGoing) {
      const sink = overStreams ? new StreamSink(conn.writable) : undefined;
      const writer = new MessageWriter(sink ?? conn);
      for (const message of pieces(keepGoing)) await writer.send(message);
      await writer.flush();
      if (sink) sink.close();
      else conn.closeWrite();
    },
    async receive(conn) {
      let received = 0;
      const source = overStreams ? conn.readable : conn;
      for await (const message of new MessageReader(source, { reuseBuffer: true })) {
        if (message.type === "piece") received += message.block.length;
      }
      return received;
    },
  };
}

const codecDirect = codec("codec: MessageWriter -> MessageReader (PeerWire)", false);
const codecStreams = codec("codec over Web Streams (other transports)", true);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Prints raw and codec throughput and their ratios. */
export async function run(): Promise<void> {
  const variants = [rawStreams, rawDirect, codecStreams, codecDirect];
  const results = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) results.get(variant)!.push(await measure(variant));
  }
  const mib = (variant: Variant) => median(results.get(variant)!);
  console.log(
    `wire codec over loopback, 16 KiB blocks (median of ${ROUNDS} x ~${MAX_MILLIS / 1000} s)`,
  );
  for (const variant of variants) {
    console.log(`  ${variant.name.padEnd(52)} ${mib(variant).toFixed(0).padStart(6)} MiB/s`);
  }
  const ratio = (codec: Variant, raw: Variant) => (mib(codec) / mib(raw)).toFixed(2);
  console.log(
    `  ratio, codec over Web Streams / raw Web Streams socket: ${
      ratio(codecStreams, rawStreams)
    }x` +
      `; PeerWire codec / raw Web Streams socket: ${ratio(codecDirect, rawStreams)}x` +
      `; PeerWire codec / raw direct socket: ${ratio(codecDirect, rawDirect)}x (target >= 0.7x)`,
  );
}

if (import.meta.main) await run();
