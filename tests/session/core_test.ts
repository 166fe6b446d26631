/**
 * The session core as a user sees it: adds that race, `--peer` on a private torrent, what a
 * failed connection and a stall look like, bans that follow a peer across reconnections, and
 * file selection and rechecks that reach the piece selector.
 */
import assert from "node:assert/strict";
import {
  type AgentSession,
  createTorrent,
  type HandshakeHandler,
  MemoryStorage,
  type MessagingAgent,
  Runtime,
} from "../../mod.ts";
import { payload, readAll, seededMemory, singleFile, within } from "./helpers.ts";

const listen = { hostname: "127.0.0.1", port: 0 };

/** A port nothing listens on: bound, then released. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("runtime: two concurrent adds of one torrent: one session, the other add fails", async () => {
  const { torrent } = await singleFile("twice.bin", 100_000);
  await using runtime = new Runtime({ listen: false });
  const results = await Promise.allSettled([
    runtime.add(torrent, { storage: new MemoryStorage(), start: false }),
    runtime.add(torrent, { storage: new MemoryStorage(), start: false }),
  ]);
  assert.deepEqual(results.map((result) => result.status).sort(), ["fulfilled", "rejected"]);
  const rejected = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
  assert.match(String(rejected.reason), /already in this runtime/);
  assert.equal(runtime.sessions().length, 1);
});

Deno.test("session: peers given for a private torrent are dialled (PEX stays off)", async () => {
  const data = payload(300_000, 11);
  const { torrent } = await createTorrent({ name: "private.bin", data }, {
    pieceLength: 16384,
    private: true,
  });
  assert.equal(torrent.private, true);
  await using seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  await using leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
  const storage = new MemoryStorage();
  const session = await leecher.add(torrent, {
    storage,
    peers: [{ host: "127.0.0.1", port: seeder.port! }],
  });
  assert.deepEqual(session.extensionNames, []); // no ut_pex on a private torrent
  await within(session.completed, 20_000, "private download");
  assert.deepEqual(await readAll(storage, torrent), data);
});

Deno.test("session: a peer at a closed port is a peer-failed event, then the session says it is stalled", async () => {
  const { torrent } = await singleFile("stall.bin", 50_000);
  await using runtime = new Runtime({ listen: false });
  const port = closedPort();
  const session = await runtime.add(torrent, { storage: new MemoryStorage(), start: false });
  const failed = session.events.once("peer-failed");
  const stalled = session.events.once("stalled");
  session.addPeers([{ host: "127.0.0.1", port }]);
  session.start();
  const failure = await within(failed, 10_000, "peer-failed");
  assert.equal(failure.address, `127.0.0.1:${port}`);
  assert.equal(failure.reason, "connection refused");
  const stall = await within(stalled, 10_000, "stalled");
  assert.match(stall.reason, /all 1 known peers failed or were banned/);
});

Deno.test("session: a handshake refused by a handler is a peer-failed event naming the reason", async () => {
  const { torrent, data } = await singleFile("refused.bin", 50_000);
  await using seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
  const picky: HandshakeHandler = {
    name: "picky",
    onRemoteHandshake(context) {
      context.reject("picky refuses every peer");
    },
  };
  await using leecher = new Runtime({ listen: false, handshakeHandlers: [picky] });
  const session = await leecher.add(torrent, { storage: new MemoryStorage(), start: false });
  const failed = session.events.once("peer-failed");
  session.addPeers([{ host: "127.0.0.1", port: seeder.port! }]);
  session.start();
  const failure = await within(failed, 10_000, "peer-failed");
  assert.match(failure.reason, /picky refuses every peer/);
});

Deno.test("session: a ban follows the peer to its next connection (IP and listen port)", async () => {
  const { torrent, data } = await singleFile("banned.bin", 200_000);
  // The leecher bans whoever connects first, through the public agent seam.
  let bannedOnce = false;
  let agentSession: AgentSession | undefined;
  const banFirst: MessagingAgent = {
    name: "ban-first",
    attach: (session) => agentSession = session,
    connected(peer) {
      if (bannedOnce) return;
      bannedOnce = true;
      agentSession!.ban(peer, "test ban");
    },
  };
  await using leecher = new Runtime({ maxConnectionsPerIp: 64, listen });
  await using seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  const leeching = await leecher.add(torrent, { storage: new MemoryStorage(), agents: [banFirst] });
  const banned = leeching.events.once("peer-banned");
  // The seeder dials the leecher: every connection comes in from a new source port.
  const refused = leeching.events.once(
    "peer-disconnected",
    (event) => event.reason === "banned",
  );
  await seeder.add(torrent, {
    storage: await seededMemory(torrent, data),
    peers: [{ host: "127.0.0.1", port: leecher.port! }],
  });
  const ban = await within(banned, 10_000, "peer-banned");
  assert.match(ban.reason, /test ban/);
  const again = await within(refused, 20_000, "the banned peer's next connection refused");
  assert.notEqual(again.address, ban.address); // a new socket, the same peer
  assert.equal(leeching.stats().verifiedPieces, 0);
});

Deno.test("session: files selected after completion are downloaded too; a recheck finds lost pieces again", async () => {
  const files = [
    { path: ["one.bin"], data: payload(100_000, 21) },
    { path: ["two.bin"], data: payload(100_000, 22) },
  ];
  const whole = new Uint8Array(200_000);
  whole.set(files[0].data, 0);
  whole.set(files[1].data, 100_000);
  const { torrent } = await createTorrent({ name: "pair", files }, { pieceLength: 16384 });
  await using seeder = new Runtime({ maxConnectionsPerIp: 64, listen });
  await using leecher = new Runtime({ maxConnectionsPerIp: 64, listen: false });
  await seeder.add(torrent, { storage: await seededMemory(torrent, whole) });
  const storage = new MemoryStorage();
  const session = await leecher.add(torrent, {
    storage,
    wantedFiles: [0],
    peers: [{ host: "127.0.0.1", port: seeder.port! }],
  });
  await within(session.completed, 20_000, "first file");
  const firstOnly = session.stats().verifiedPieces;
  assert.ok(firstOnly < torrent.pieceCount);
  const completedAgain = session.events.once("completed");
  session.setWantedFiles([0, 1]);
  await within(completedAgain, 20_000, "both files");
  assert.deepEqual(await readAll(storage, torrent), whole);

  // Corrupt one piece behind the session's back: a recheck must find it and fetch it again.
  const opened = await storage.open(torrent);
  await opened.write(3, 0, new Uint8Array(16384));
  const refetched = session.events.once("piece-verified", (event) => event.index === 3);
  await session.recheck();
  await within(refetched, 20_000, "piece 3 fetched again");
  assert.deepEqual(await readAll(storage, torrent), whole);
});
