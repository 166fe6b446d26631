/**
 * Peer wire interop with a real libtorrent seeder (Debian python3-libtorrent,
 * driven by tests/interop/lt_wire_helper.py): our handshake and BEP 10
 * extended handshake are accepted, we parse libtorrent's, and a requested
 * block arrives with the right bytes. Skipped when libtorrent is absent.
 */
import assert from "node:assert/strict";
import { fromHex } from "../../src/util/bytes.ts";
import {
  ExtensionProtocol,
  ExtensionRegistry,
  type Message,
  PeerWire,
} from "../../src/wire/mod.ts";
import { VERSION } from "../../src/version.ts";
import { hasLibtorrent } from "./lt_process.ts";

const PYTHON = "/usr/bin/python3";
const HELPER = new URL("./lt_wire_helper.py", import.meta.url).pathname;
const STEP_TIMEOUT = 20_000;

const libtorrent = await hasLibtorrent();
if (!libtorrent) {
  // deno-lint-ignore no-console -- says why the test below is skipped
  console.warn("libtorrent wire interop skipped: /usr/bin/python3 cannot import libtorrent");
}

/** Reads JSON lines from the helper's stdout. */
class JsonLines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next<T>(): Promise<T> {
    for (let reads = 0; reads < 10_000; reads++) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return JSON.parse(line) as T;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("helper closed its output");
      this.#buffer += value;
    }
    throw new Error("helper output has no line end");
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** Rejects after `ms` unless `promise` settles first; the timer is always cleared. */
async function within<T>(promise: Promise<T>, what: string, ms = STEP_TIMEOUT): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function nextMatching(
  wire: PeerWire,
  accept: (message: Message) => boolean,
  what: string,
): Promise<Message> {
  return await within(
    (async () => {
      for (let i = 0; i < 10_000; i++) {
        const message = await wire.next();
        if (!message) throw new Error(`libtorrent closed the connection before ${what}`);
        if (accept(message)) return message;
      }
      throw new Error(`no ${what} in 10000 messages`);
    })(),
    what,
  );
}

const passThrough = (name: string) => ({
  name,
  encode: (value: Uint8Array) => value,
  decode: (payload: Uint8Array) => payload,
});

Deno.test({
  name: "interop: libtorrent accepts our handshakes and serves a block",
  ignore: !libtorrent,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bittern-wire-lt-" });
    const child = new Deno.Command(PYTHON, {
      args: [HELPER, "--file", `${dir}/data.bin`, "--piece-size", "32768"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    });
    let process: Deno.ChildProcess | undefined;
    let wire: PeerWire | undefined;
    let lines: JsonLines | undefined;
    try {
      const data = new Uint8Array(9 * 32768 + 5000).map((_, i) => (i * 2654435761) >>> 24);
      await Deno.writeFile(`${dir}/data.bin`, data);
      process = child.spawn();
      lines = new JsonLines(process.stdout);
      const seed = await within(
        lines.next<{ port: number; info_hash: string; piece_length: number; num_pieces: number }>(),
        "the libtorrent seeder",
      );
      assert.equal(seed.num_pieces, 10);

      const registry = new ExtensionRegistry()
        .register(passThrough("ut_metadata"))
        .register(passThrough("ut_pex"));
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seed.port });
      wire = await PeerWire.connect(conn, {
        infoHash: fromHex(seed.info_hash)!,
        peerId: new TextEncoder().encode("-BT0100-wireinterop1"),
        handlers: [new ExtensionProtocol({ registry, listenPort: 6881 })],
        context: { pieceCount: 10, pieceLength: 32768, length: data.length },
      });
      assert.ok(wire.supportsExtensions, "libtorrent sets the BEP 10 bit");
      assert.equal(new TextDecoder().decode(wire.remote.peerId.subarray(0, 3)), "-LT");

      // libtorrent's bitfield (or haves) and extended handshake, in whatever order.
      const have = new Set<number>();
      let extended = false;
      await nextMatching(wire, (message) => {
        if (message.type === "bitfield") {
          for (let i = 0; i < 10; i++) {
            if (message.bitfield[i >> 3] & (0x80 >> (i & 7))) have.add(i);
          }
        }
        if (message.type === "have") have.add(message.index);
        if (message.type === "extended" && message.id === 0) extended = true;
        return extended && have.size === 10;
      }, "libtorrent's bitfield and extended handshake");
      const handshake = (await wire.extendedHandshake)!;
      assert.ok(handshake.m.has("ut_metadata"), `m: ${[...handshake.m.keys()]}`);
      assert.ok(handshake.m.has("ut_pex"), `m: ${[...handshake.m.keys()]}`);
      assert.ok(handshake.metadataSize! > 0);
      assert.match(handshake.v ?? "", /libtorrent/i);
      assert.deepEqual(wire.handshake.extensions?.remoteNames().includes("ut_metadata"), true);

      await wire.send({ type: "interested" });
      await nextMatching(wire, (message) => message.type === "unchoke", "unchoke");
      await wire.send({ type: "request", index: 1, begin: 16384, length: 16384 });
      const piece = await nextMatching(wire, (message) => message.type === "piece", "the block");
      assert.ok(piece.type === "piece");
      assert.equal(piece.index, 1);
      assert.equal(piece.begin, 16384);
      assert.deepEqual(piece.block, data.subarray(32768 + 16384, 65536));

      // libtorrent kept the connection and read our extended handshake's `v`.
      const writer = process.stdin.getWriter();
      await writer.write(new TextEncoder().encode("peers\n"));
      writer.releaseLock();
      const { peers } = await within(
        lines.next<{ peers: { client: string }[] }>(),
        "libtorrent's peer list",
      );
      assert.ok(
        peers.some((peer) => peer.client.includes(`Bittern ${VERSION}`)),
        `peers: ${JSON.stringify(peers)}`,
      );
      assert.equal(wire.isClosed, false);
    } finally {
      wire?.close();
      if (process) {
        await process.stdin.close().catch(() => {});
        await lines?.cancel();
        const status = await within(process.status, "the helper to exit");
        assert.ok(status.success, "the helper exits cleanly when its stdin closes");
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
