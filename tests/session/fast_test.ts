/**
 * The fast extension (BEP 6) in whole sessions over real sockets on 127.0.0.1: raw peers
 * speaking the wire by hand misbehave in its new ways (rejects for blocks never requested,
 * allowed-fast for pieces that do not exist, have_all then a bitfield, suggestion floods,
 * fast messages without the bit) and are dropped or ignored while an honest seeder
 * completes the download; and a Bittern seeder that chokes a fast leecher offers it the
 * BEP's allowed-fast set, serves those pieces and rejects the rest.
 */
import assert from "node:assert/strict";
import {
  type AgentPeer,
  allowedFastAddress,
  allowedFastSet,
  encodeHandshake,
  encodeMessage,
  formatMagnet,
  type Message,
  MessageReader,
  type MessagingAgent,
  readHandshake,
  ReservedBits,
  Runtime,
  setReservedBit,
  type Torrent,
} from "../../mod.ts";
import { MemoryStorage } from "../../mod.ts";
import { readAll, seededMemory, singleFile, within } from "./helpers.ts";

const listen = { hostname: "127.0.0.1", port: 0 };

function handshakeBytes(torrent: Torrent, fast: boolean, name: string): Uint8Array {
  const reserved = new Uint8Array(8);
  if (fast) setReservedBit(reserved, ReservedBits.fast);
  const peerId = new TextEncoder().encode(`-RW0001-${name}`.padEnd(20, "-").slice(0, 20));
  return encodeHandshake({ reserved, infoHash: torrent.infoHash, peerId });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** A raw peer Bittern dials: answers the handshake, runs `script`, reads until closed. */
interface RawSeed {
  readonly address: string;
  readonly port: number;
  /** Resolves when its one connection has ended (by either side). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

function rawSeed(
  torrent: Torrent,
  name: string,
  fast: boolean,
  script: (send: (messages: Message[]) => Promise<void>) => Promise<void>,
): RawSeed {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let connection: Deno.Conn | undefined;
  const ended = (async () => {
    const conn = connection = await listener.accept();
    try {
      await readHandshake(conn, { timeout: 10_000 });
      await writeAll(conn, handshakeBytes(torrent, fast, name));
      const reader = new MessageReader(conn, { context: torrent, fast });
      const reading = (async () => {
        try {
          while (await reader.next() !== undefined) { /* drain */ }
        } catch { /* closed by the other side */ }
      })();
      // Frames batched into few writes: a flood is one write, not thousands.
      await script((messages) => writeAll(conn, concat(messages.map(encodeMessage))));
      await reading;
    } catch {
      /* the session closed the connection mid-script */
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  })();
  return {
    address: `127.0.0.1:${port}`,
    port,
    ended,
    async close() {
      try {
        listener.close();
      } catch { /* closed */ }
      try {
        connection?.close();
      } catch { /* closed */ }
      await within(ended.catch(() => {}), 10_000, `closing raw peer ${name}`);
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** What a user's agent saw of a peer when it said `interested` (each script's last word). */
interface Snapshot {
  readonly fast: boolean;
  readonly suggested: number;
  readonly allowedFast: number;
}

Deno.test("fast session: hostile fast peers are dropped or ignored; the download completes", async () => {
  const { torrent, data } = await singleFile("fast-hostile.bin", 16384 * 32);
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  const snapshots = new Map<string, Snapshot>();
  const reported = new Map<string, (snapshot: Snapshot) => void>();
  const recorder: MessagingAgent = {
    name: "fast-recorder",
    consumes: {
      interested(peer: AgentPeer) {
        const snapshot = {
          fast: peer.fast,
          suggested: peer.suggested.length,
          allowedFast: peer.allowedFast.size,
        };
        snapshots.set(peer.key, snapshot);
        reported.get(peer.key)?.(snapshot);
      },
    },
  };
  const haveAll: Message = { type: "have-all" };
  const rejects = rawSeed(torrent, "rejects", true, (send) =>
    // Choking us, it "rejects" 50 blocks we never asked for.
    send([
      haveAll,
      ...Array.from({ length: 50 }, (_, i): Message => ({
        type: "reject-request",
        index: i % 32,
        begin: 0,
        length: 16384,
      })),
    ]));
  const twice = rawSeed(
    torrent,
    "twice",
    true,
    (send) => send([haveAll, { type: "bitfield", bitfield: new Uint8Array(4) }]),
  );
  const noBit = rawSeed(torrent, "nobit", false, (send) => send([haveAll]));
  const outOfRange = rawSeed(torrent, "range", true, (send) =>
    send([
      haveAll,
      { type: "allowed-fast", index: 32 },
      { type: "allowed-fast", index: 1_000_000 },
      { type: "allowed-fast", index: 0xffffffff },
      { type: "interested" },
    ]));
  const flood = rawSeed(torrent, "flood", true, (send) =>
    send([
      haveAll,
      ...Array.from({ length: 20_000 }, (_, i): Message => ({
        type: "suggest-piece",
        index: i % 2 ? i % 32 : 32 + i,
      })),
      { type: "interested" },
    ]));
  const raw = [rejects, twice, noBit, outOfRange, flood];
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, {
      storage,
      agents: [recorder],
      // Raw peers speak plain BitTorrent only, and take one connection each.
      encryption: "off",
      peers: raw.map(({ port }) => ({ host: "127.0.0.1", port })),
    });
    const disconnected = new Map<string, string>();
    const waiting = new Map<string, (reason: string) => void>();
    session.events.on("peer-disconnected", ({ address, reason }) => {
      if (disconnected.has(address)) return;
      disconnected.set(address, reason);
      waiting.get(address)?.(reason);
    });
    const dropped = (seed: RawSeed): Promise<string> => {
      const reason = disconnected.get(seed.address);
      if (reason !== undefined) return Promise.resolve(reason);
      return new Promise((resolve) => waiting.set(seed.address, resolve));
    };
    const heard = (seed: RawSeed): Promise<Snapshot> => {
      const snapshot = snapshots.get(seed.address);
      if (snapshot) return Promise.resolve(snapshot);
      return new Promise((resolve) => reported.set(seed.address, resolve));
    };
    // The offenders go, each with the rule it broke.
    const [rejected, repeated, unnegotiated] = await within(
      Promise.all([dropped(rejects), dropped(twice), dropped(noBit)]),
      15_000,
      "offenders dropped",
    );
    assert.match(rejected, /rejects for requests we did not make/);
    assert.match(repeated, /bitfield without piece 0, which it announced before/);
    assert.match(unnegotiated, /have-all .*without the fast extension/);
    // The others are heard out: hints out of range ignored, suggestions bounded.
    const range = await within(heard(outOfRange), 15_000, "out-of-range peer heard");
    assert.deepEqual(range, { fast: true, suggested: 0, allowedFast: 0 });
    const flooded = await within(heard(flood), 15_000, "flooding peer heard");
    assert.equal(flooded.fast, true);
    assert.ok(flooded.suggested > 0 && flooded.suggested <= 32, `${flooded.suggested} kept`);
    // An honest peer completes the download.
    session.addPeers([{ host: "127.0.0.1", port: seeder.port! }]);
    await within(session.completed, 20_000, "download from the honest seeder");
    assert.deepEqual(await readAll(storage, torrent), data);
    for (const seed of [outOfRange, flood]) {
      const reason = disconnected.get(seed.address);
      assert.ok(reason === undefined || reason === "both complete", `${seed.address}: ${reason}`);
    }
  } finally {
    await leecher.close();
    await seeder.close();
    for (const seed of raw) await seed.close();
  }
});

Deno.test("fast session: a choked fast leecher gets the allowed-fast set, is served it, is rejected the rest", async () => {
  const { torrent, data } = await singleFile("fast-choked.bin", 16384 * 32);
  // One slot (the optimistic one): the first leecher takes it, the second stays choked.
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const conns: Deno.Conn[] = [];
  try {
    await seeder.add(torrent, {
      storage: await seededMemory(torrent, data),
      uploadSlots: 0,
      seedSlots: 0,
    });
    const dial = async (name: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seeder.port! });
      conns.push(conn);
      await writeAll(conn, handshakeBytes(torrent, true, name));
      const remote = await readHandshake(conn, { timeout: 10_000 });
      assert.ok((remote.reserved[7] & 0x04) !== 0, "the seeder sets the fast bit");
      const reader = new MessageReader(conn, { context: torrent, fast: true });
      const next = async (type: string) => {
        for (;;) {
          const message = await within(reader.next(), 10_000, `${name}: waiting for ${type}`);
          assert.ok(message, `${name}: connection ended waiting for ${type}`);
          if (message.type === type) return message;
        }
      };
      return { conn, reader, next, send: (m: Message) => writeAll(conn, encodeMessage(m)) };
    };
    const first = await dial("first");
    // A complete seeder says have_all, not a bitfield.
    assert.equal((await within(first.reader.next(), 10_000, "first message"))?.type, "have-all");
    await first.send({ type: "have-none" });
    await first.send({ type: "interested" });
    await first.next("unchoke");

    const second = await dial("second");
    assert.equal((await within(second.reader.next(), 10_000, "first message"))?.type, "have-all");
    await second.send({ type: "have-none" });
    await second.send({ type: "interested" });
    const expected = allowedFastSet({
      address: allowedFastAddress("127.0.0.1")!,
      infoHash: torrent.infoHash,
      pieceCount: torrent.pieceCount,
      size: 10,
    });
    const offered: number[] = [];
    const seen: string[] = [];
    while (offered.length < expected.length) {
      const message = await within(second.reader.next(), 10_000, "allowed-fast set");
      assert.ok(message);
      seen.push(message.type);
      if (message.type === "allowed-fast") offered.push(message.index);
    }
    assert.deepEqual(offered, expected);
    assert.ok(!seen.includes("unchoke"), "the second leecher stays choked");
    // Choked, it is served an allowed piece and rejected another.
    const allowed = expected[0];
    const other = [...Array(torrent.pieceCount).keys()].find((i) => !expected.includes(i))!;
    await second.send({ type: "request", index: allowed, begin: 0, length: 16384 });
    await second.send({ type: "request", index: other, begin: 0, length: 16384 });
    const answers: Message[] = [];
    while (answers.length < 2) {
      const message = await within(second.reader.next(), 10_000, "answers");
      assert.ok(message);
      if (message.type === "piece") {
        answers.push({ ...message, block: message.block.slice() });
      } else if (message.type === "reject-request") answers.push(message);
    }
    const piece = answers.find((m) => m.type === "piece");
    assert.ok(piece && piece.type === "piece" && piece.index === allowed);
    assert.deepEqual(piece.block, data.subarray(allowed * 16384, allowed * 16384 + 16384));
    assert.deepEqual(answers.find((m) => m.type === "reject-request"), {
      type: "reject-request",
      index: other,
      begin: 0,
      length: 16384,
    });
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await seeder.close();
  }
});

Deno.test("fast session: a magnet link holds the seeder's have_all until the metadata, then applies it", async () => {
  const { torrent, data } = await singleFile("fast-magnet.bin", 16384 * 24);
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  const announced: { type: string; fast: boolean; pieces: number }[] = [];
  const recorder: MessagingAgent = {
    name: "fast-recorder",
    consumes: {
      "have-all": (peer) =>
        void announced.push({ type: "have-all", fast: peer.fast, pieces: peer.pieces.count() }),
      bitfield: (peer) =>
        void announced.push({ type: "bitfield", fast: peer.fast, pieces: peer.pieces.count() }),
    },
  };
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    const session = await leecher.add(formatMagnet({ infoHash: torrent.infoHash }), {
      storage,
      agents: [recorder],
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    await within(session.completed, 20_000, "magnet download");
    assert.deepEqual(await readAll(storage, torrent), data);
    // Sent before the metadata (the seeder's first message), replayed at the hand-over.
    assert.deepEqual(announced, [{ type: "have-all", fast: true, pieces: torrent.pieceCount }]);
  } finally {
    await leecher.close();
    await seeder.close();
  }
});

Deno.test("fast session: malformed requests are rejected and the leecher is served; a flood of them is dropped", async () => {
  // 32 KiB pieces, the last one 5000 bytes.
  const { torrent, data } = await singleFile("fast-malformed.bin", 32768 * 7 + 5000, 32768);
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const conns: Deno.Conn[] = [];
  try {
    const session = await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const reasons: string[] = [];
    const disconnected = new Promise<void>((resolve) =>
      session.events.on("peer-disconnected", ({ reason }) => {
        reasons.push(reason);
        resolve();
      })
    );
    const dial = async (name: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seeder.port! });
      conns.push(conn);
      await writeAll(conn, handshakeBytes(torrent, true, name));
      await readHandshake(conn, { timeout: 10_000 });
      const reader = new MessageReader(conn, { context: torrent, fast: true });
      const next = () => within(reader.next(), 10_000, `${name}: next message`);
      return { reader, next, send: (m: Message[]) => writeAll(conn, concat(m.map(encodeMessage))) };
    };

    const honest = await dial("honest");
    await honest.send([{ type: "have-none" }, { type: "interested" }]);
    for (let message = await honest.next(); message?.type !== "unchoke";) {
      assert.ok(message, "connection ended before the unchoke");
      message = await honest.next();
    }
    const malformed = [
      { index: 0, begin: 0, length: 0 }, // zero length
      { index: 0, begin: 0, length: 32768 }, // over the 16 KiB block limit
      { index: 1, begin: 32768 - 100, length: 16384 }, // past the end of the piece
      { index: 7, begin: 0, length: 16384 }, // past the end of the 5000-byte last piece
      { index: 8, begin: 0, length: 16384 }, // no such piece
    ];
    const good = { index: 7, begin: 0, length: 5000 };
    await honest.send([
      ...malformed.map((block): Message => ({ type: "request", ...block })),
      { type: "request", ...good },
    ]);
    const rejects: Message[] = [];
    let served: Uint8Array | undefined;
    while (!served) {
      const message = await honest.next();
      assert.ok(message, "the honest leecher was dropped");
      if (message.type === "reject-request") rejects.push(message);
      if (message.type === "piece") served = message.block.slice();
    }
    assert.deepEqual(rejects, malformed.map((block) => ({ type: "reject-request", ...block })));
    assert.deepEqual(served, data.subarray(7 * 32768));

    // Past the bound, malformed requests are abuse: that peer goes, the honest one stays.
    const abuser = await dial("abuser");
    await abuser.send(
      // Exactly one over: nothing left unread when it closes (no reset before our reads).
      Array.from({ length: 301 }, (): Message => ({
        type: "request",
        index: 0,
        begin: 0,
        length: 65536,
      })),
    );
    let rejected = 0;
    try {
      for (let message = await abuser.next(); message; message = await abuser.next()) {
        if (message.type === "reject-request") rejected++;
      }
    } catch { /* reset by the seeder */ }
    await within(disconnected, 10_000, "abuser dropped");
    // Each was answered until the last (rejects still queued at the close may be lost).
    assert.ok(rejected <= 300, `${rejected} rejects`);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /sent 301 invalid requests, the last for 65536 bytes/);
    assert.equal(session.stats().peers, 1);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await seeder.close();
  }
});

Deno.test("fast session: fastExtension false leaves the bit unset; a peer's fast message then closes it", async () => {
  const off = await singleFile("fast-off.bin", 16384 * 8);
  const on = await singleFile("fast-on-again.bin", 16384 * 8);
  // Off for the runtime, on again for one torrent.
  const seeder = new Runtime({ maxConnectionsPerIp: 64, listen, fastExtension: false });
  const conns: Deno.Conn[] = [];
  try {
    const offSession = await seeder.add(off.torrent, {
      storage: await seededMemory(off.torrent, off.data),
    });
    await seeder.add(on.torrent, {
      storage: await seededMemory(on.torrent, on.data),
      fastExtension: true,
    });
    const dropped = new Promise<string>((resolve) =>
      offSession.events.on("peer-disconnected", ({ reason }) => resolve(reason))
    );
    const dial = async (torrent: Torrent) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seeder.port! });
      conns.push(conn);
      await writeAll(conn, handshakeBytes(torrent, true, "bit"));
      const remote = await readHandshake(conn, { timeout: 10_000 });
      const fast = (remote.reserved[7] & 0x04) !== 0;
      const reader = new MessageReader(conn, { context: torrent, fast });
      const first = await within(reader.next(), 10_000, "first message");
      return { conn, reader, fast, first: first?.type };
    };
    const withFast = await dial(on.torrent);
    assert.deepEqual([withFast.fast, withFast.first], [true, "have-all"]);
    const without = await dial(off.torrent);
    // Not negotiated: a complete seeder says bitfield, not have_all.
    assert.deepEqual([without.fast, without.first], [false, "bitfield"]);
    await writeAll(without.conn, encodeMessage({ type: "have-all" }));
    assert.match(
      await within(dropped, 10_000, "fast message without the extension"),
      /have-all .*without the fast extension/,
    );
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await seeder.close();
  }
});
