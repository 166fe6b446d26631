// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Wire codec throughput over a real loopback socket: 16 KiB piece messages
 * encoded, sent, received and decoded, as a ratio to raw socket throughput
 * (16 KiB chunks written, read and discarded) measured in the same run.
 *
 * Run: deno run --allow-net=127.0.0.1 bench/wire.ts
 */
import {
  encodeMessage,
  encodePieceHeader,
  FrameDecoder,
  type Message,
  MessageDecoderStream,
  MessageEncoderStream,
  MessageReader,
  MessageWriter,
} from "../src/wire/mod.ts";

const BLOCK = 16 * 1024;
const MAX_BYTES = 1024 * 1024 * 1024;
const MAX_MILLIS = 3000;

interface Result {
  name: string;
  bytes: number;
  seconds: number;
  mibPerSecond: number;
}

/** Opens a loopback pair, runs `send` on one end and `receive` on the other. */
async function measure(
  name: string,
  send: (conn: Deno.Conn, keepGoing: (sentBytes: number) => boolean) => Promise<void>,
  receive: (conn: Deno.Conn) => Promise<number>,
): Promise<Result> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  listener.close();
  const started = performance.now();
  const keepGoing = (sent: number) => sent < MAX_BYTES && performance.now() - started < MAX_MILLIS;
  try {
    const [received] = await Promise.all([receive(server), send(client, keepGoing)]);
    const seconds = (performance.now() - started) / 1000;
    return { name, bytes: received, seconds, mibPerSecond: received / 1048576 / seconds };
  } finally {
    try {
      client.close();
    } catch { /* closed by the sender already */ }
    try {
      server.close();
    } catch { /* closed already */ }
  }
}

const payload = new Uint8Array(BLOCK).map((_, i) => i * 7);

async function sendRawChunks(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  const writer = conn.writable.getWriter();
  let sent = 0;
  while (keepGoing(sent)) {
    await writer.ready;
    writer.write(payload);
    sent += payload.length;
  }
  await writer.close();
}

async function receiveRaw(conn: Deno.Conn): Promise<number> {
  let received = 0;
  for await (const chunk of conn.readable) received += chunk.length;
  return received;
}

function* pieces(keepGoing: (sent: number) => boolean): Generator<Message> {
  let sent = 0;
  for (let n = 0; keepGoing(sent); n++) {
    yield { type: "piece", index: n >>> 4, begin: (n & 15) * BLOCK, block: payload };
    sent += BLOCK;
  }
}

async function sendEncoderStream(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  const encoder = new MessageEncoderStream();
  const piping = encoder.readable.pipeTo(conn.writable);
  const writer = encoder.writable.getWriter();
  for (const message of pieces(keepGoing)) {
    await writer.ready;
    writer.write(message);
  }
  await writer.close();
  await piping;
}

async function sendConcatenated(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  const writer = conn.writable.getWriter();
  for (const message of pieces(keepGoing)) {
    await writer.ready;
    writer.write(encodeMessage(message));
  }
  await writer.close();
}

async function sendHeaderThenBlock(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  const writer = conn.writable.getWriter();
  for (const message of pieces(keepGoing)) {
    if (message.type !== "piece") continue;
    await writer.ready;
    writer.write(encodePieceHeader(message.index, message.begin, message.block.length));
    writer.write(message.block);
  }
  await writer.close();
}

async function receiveDecoderStream(conn: Deno.Conn): Promise<number> {
  let received = 0;
  for await (const message of conn.readable.pipeThrough(new MessageDecoderStream())) {
    if (message.type === "piece") received += message.block.length;
  }
  return received;
}

async function receiveFrameDecoder(conn: Deno.Conn): Promise<number> {
  let received = 0;
  const decoder = new FrameDecoder();
  const count = (message: Message) => {
    if (message.type === "piece") received += message.block.length;
  };
  for await (const chunk of conn.readable) decoder.push(chunk, count);
  decoder.end();
  return received;
}

async function sendMessageWriter(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  const writer = new MessageWriter(conn);
  for (const message of pieces(keepGoing)) await writer.send(message);
  await writer.flush();
  conn.closeWrite();
}

async function receiveMessageReader(conn: Deno.Conn): Promise<number> {
  let received = 0;
  for await (const message of new MessageReader(conn)) {
    if (message.type === "piece") received += message.block.length;
  }
  return received;
}

async function sendRawWrites(conn: Deno.Conn, keepGoing: (sent: number) => boolean) {
  let sent = 0;
  while (keepGoing(sent)) {
    for (let written = 0; written < payload.length;) {
      written += await conn.write(payload.subarray(written));
    }
    sent += payload.length;
  }
  conn.closeWrite();
}

async function receiveRawReads(conn: Deno.Conn): Promise<number> {
  let received = 0;
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const count = await conn.read(buffer);
    if (count === null) return received;
    received += count;
  }
}

/** Prints raw and codec throughput and their ratio. */
export async function run(): Promise<void> {
  const raw = await measure("raw socket (16 KiB chunks)", sendRawChunks, receiveRaw);
  const rawDirect = await measure(
    "raw socket, conn.write/conn.read",
    sendRawWrites,
    receiveRawReads,
  );
  const variants = [
    rawDirect,
    await measure(
      "codec: MessageWriter -> MessageReader (PeerWire)",
      sendMessageWriter,
      receiveMessageReader,
    ),
    await measure(
      "codec: encoder stream -> decoder stream",
      sendEncoderStream,
      receiveDecoderStream,
    ),
    await measure(
      "codec: one buffer per piece -> decoder stream",
      sendConcatenated,
      receiveDecoderStream,
    ),
    await measure(
      "codec: header+block writes -> decoder stream",
      sendHeaderThenBlock,
      receiveDecoderStream,
    ),
    await measure(
      "codec: encoder stream -> FrameDecoder on readable",
      sendEncoderStream,
      receiveFrameDecoder,
    ),
  ];
  console.log(`wire codec over loopback, 16 KiB blocks (~${MAX_MILLIS / 1000} s or 1 GiB each)`);
  for (const result of [raw, ...variants]) {
    const ratio = result === raw
      ? ""
      : `  ${(result.mibPerSecond / raw.mibPerSecond).toFixed(2)}x raw`;
    console.log(
      `  ${result.name.padEnd(52)} ${result.mibPerSecond.toFixed(0).padStart(6)} MiB/s${ratio}`,
    );
  }
}

if (import.meta.main) await run();
