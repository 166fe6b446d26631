// deno-lint-ignore-file no-console -- a skipped interop test says why
/**
 * Interop with opentracker (Debian build, whitelist-only) and a libtorrent seeder announcing to
 * it. Skipped with a message when opentracker or python3-libtorrent is missing.
 */
import assert from "node:assert/strict";
import { clientName, generatePeerId } from "../../src/peers/mod.ts";
import { announce, scrape, TrackerClient } from "../../src/tracker/mod.ts";
import type { PeerAddress, TrackerClientEventMap } from "../../src/tracker/mod.ts";
import { bytesEqual, fromHex, toHex } from "../../src/util/bytes.ts";
import { freePort } from "./fixture.ts";
import { hasLibtorrent } from "./lt_process.ts";
import { hasOpentracker, type Opentracker, startOpentracker } from "./opentracker_process.ts";

const PYTHON = "/usr/bin/python3";

const libtorrent = await hasLibtorrent();
if (!hasOpentracker) {
  console.warn("skipping opentracker interop: /usr/bin/opentracker not installed");
}
if (!libtorrent) console.warn("skipping libtorrent interop: python3-libtorrent not installed");

Deno.test({
  name: "opentracker: two Bittern peers announce and find each other; scrape counts them",
  ignore: !hasOpentracker,
  async fn() {
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    const tracker = await startOpentracker([toHex(infoHash)]);
    try {
      const base = { infoHash, uploaded: 0, downloaded: 0, event: "started" as const };
      const first = await announce(tracker.url, {
        ...base,
        peerId: generatePeerId(),
        port: 7101,
        left: 100,
      });
      assert.ok(first.interval > 0);
      const second = await announce(tracker.url, {
        ...base,
        peerId: generatePeerId(),
        port: 7102,
        left: 0,
      });
      // opentracker includes the requester itself: skip our own address.
      const others = (peers: PeerAddress[], port: number) =>
        peers.filter((p) => !(p.host === "127.0.0.1" && p.port === port));
      assert.deepEqual(others(second.peers, 7102), [{ host: "127.0.0.1", port: 7101 }]);
      const again = await announce(tracker.url, {
        ...base,
        event: undefined,
        peerId: generatePeerId(),
        port: 7101,
        left: 100,
      });
      assert.deepEqual(others(again.peers, 7101), [{ host: "127.0.0.1", port: 7102 }]);
      const counts = await scrape(tracker.url, [infoHash]);
      assert.deepEqual(counts.get(toHex(infoHash)), { complete: 1, incomplete: 1, downloaded: 0 });
      // A hash outside the whitelist is refused with opentracker's failure reason.
      await assert.rejects(
        announce(tracker.url, {
          ...base,
          infoHash: new Uint8Array(20),
          peerId: generatePeerId(),
          port: 7103,
          left: 1,
        }),
        /not authorized/,
      );
    } finally {
      await tracker.close();
    }
  },
});

/** Reads newline-delimited JSON objects from a child's stdout. */
function jsonLines(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<Record<string, unknown>> {
      for (let reads = 0; reads < 1000; reads++) {
        const newline = buffer.indexOf("\n");
        if (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          return JSON.parse(line);
        }
        const { done, value } = await reader.read();
        if (done) throw new Error("helper exited early");
        buffer += value;
      }
      throw new Error("helper sent no line");
    },
    cancel: () => reader.cancel(),
  };
}

/** BitTorrent handshake with a peer; returns the peer id it answers with. */
async function handshake(
  peer: PeerAddress,
  infoHash: Uint8Array,
  peerId: Uint8Array,
): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: peer.host, port: peer.port });
  try {
    const hello = new Uint8Array(68);
    hello[0] = 19;
    hello.set(new TextEncoder().encode("BitTorrent protocol"), 1);
    hello.set(infoHash, 28);
    hello.set(peerId, 48);
    await conn.write(hello);
    const reply = new Uint8Array(68);
    let filled = 0;
    for (let reads = 0; reads < 100 && filled < 68; reads++) {
      const count = await conn.read(reply.subarray(filled));
      if (count === null) throw new Error(`peer closed after ${filled} handshake bytes`);
      filled += count;
    }
    assert.ok(bytesEqual(reply.subarray(28, 48), infoHash), "peer answered for another torrent");
    return reply.slice(48, 68);
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "opentracker: Bittern finds a libtorrent seeder through the tracker and handshakes with it",
  ignore: !hasOpentracker || !libtorrent,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "bittern-lt-tracker-" });
    // The helper needs the tracker URL before the tracker can whitelist its hash: fix the port.
    const port = freePort();
    const url = `http://127.0.0.1:${port}/announce`;
    const helper = new Deno.Command(PYTHON, {
      args: [new URL("./lt_tracker_helper.py", import.meta.url).pathname, url, work],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = jsonLines(helper.stdout);
    const stdin = helper.stdin.getWriter();
    let tracker: Opentracker | undefined;
    let client: TrackerClient | undefined;
    try {
      const ready = await lines.next();
      const infoHashHex = String(ready.infoHash);
      const seederPort = Number(ready.port);
      tracker = await startOpentracker([infoHashHex], port);
      await stdin.write(new TextEncoder().encode("start\n"));
      assert.deepEqual(await lines.next(), { announced: true });

      const infoHash = fromHex(infoHashHex)!;
      const ownId = generatePeerId();
      client = new TrackerClient({
        announce: [[url]],
        infoHash,
        peerId: ownId,
        port: 7201,
        stats: () => ({ uploaded: 0, downloaded: 0, left: 64 * 1024 }),
      });
      const found = new Promise<TrackerClientEventMap["peers"]>((resolve) =>
        client!.addEventListener("peers", resolve, { once: true })
      );
      await client.start();
      const event = await found;
      const seeder = event.detail.peers.find((p) => p.port === seederPort);
      assert.ok(seeder, `seeder port ${seederPort} not in ${JSON.stringify(event.detail.peers)}`);
      const remoteId = await handshake(seeder, infoHash, ownId);
      assert.match(clientName(remoteId), /^libtorrent \d+\.\d+/);
    } finally {
      await client?.stop();
      await stdin.close().catch(() => {});
      await lines.cancel().catch(() => {});
      await helper.status;
      await tracker?.close();
      await Deno.remove(work, { recursive: true });
    }
  },
});
