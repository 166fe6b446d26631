/**
 * v2-only and hybrid torrents (BEP 52) made by libtorrent 2.0 (python3-libtorrent), swarmed
 * between Bittern and libtorrent on 127.0.0.1: Bittern downloads each from a libtorrent seeder
 * and seeds each to a libtorrent leecher, byte-exact; the handshakes show which info hash each
 * side used. Both dial a hybrid torrent's peer (given by hand) under its v1 hash and set the v2
 * bit; libtorrent 2.0.8 answers under the hash asked, as Bittern does.
 */
import assert from "node:assert/strict";
import {
  FileSystemStorage,
  type HandshakeHandler,
  hasReservedBit,
  parseTorrent,
  PeerWire,
  ProtocolError,
  ReservedBits,
  Runtime,
  toHex,
  type Torrent,
  V2Extension,
} from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, libtorrentTorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
/** Shown in the test name when skipped, so the reason is in the report. */
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

/** Several files: nested, empty, non-ASCII, none a whole number of pieces. */
const V2_SWARM: FixturePayload = {
  name: "v2 swarm",
  files: [
    { path: ["alpha.bin"], data: payload(1_500_000, 41) },
    { path: ["nested", "dir", "beta.bin"], data: payload(77_777, 42) },
    { path: ["nested", "zero.txt"], data: new Uint8Array(0) },
    { path: ["gamma-é.bin"], data: payload(345_678, 43) },
  ],
};

/** Records, as hex, the info hash each handshake asked for and the one it was answered with. */
function recorder(): { handler: HandshakeHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    handler: {
      name: "record",
      onRemoteHandshake(context, remote) {
        const v2 = hasReservedBit(remote.reserved, ReservedBits.v2);
        seen.push(
          context.direction === "outgoing"
            ? { asked: toHex(context.infoHash), answered: toHex(remote.infoHash), v2 }
            : { asked: toHex(remote.infoHash), answered: toHex(context.infoHash), v2 },
        );
      },
    },
  };
}

interface Seen {
  asked: string;
  answered: string;
  /** Whether libtorrent set the v2 bit. */
  v2: boolean;
}

/**
 * Every handshake was under `infoHash` (hex) and answered alike; libtorrent 2.0.8 set the v2 bit
 * (the upgrade) under a hybrid torrent's v1 hash only.
 */
function assertHandshakes(seen: readonly Seen[], infoHash: string, torrent: Torrent): void {
  assert.ok(seen.length > 0, "no handshake seen");
  const v2 = torrent.version === "hybrid" && infoHash === torrent.infoHashHex;
  for (const entry of seen) assert.deepEqual(entry, { asked: infoHash, answered: infoHash, v2 });
}

async function withDirs(run: (seedDir: string, leechDir: string) => Promise<void>) {
  const seedDir = await Deno.makeTempDir();
  const leechDir = await Deno.makeTempDir();
  try {
    await run(seedDir, leechDir);
  } finally {
    await Deno.remove(seedDir, { recursive: true });
    await Deno.remove(leechDir, { recursive: true });
  }
}

// A hybrid's peer given by hand is dialled under the v1 hash; one found in the v2 swarm (a v2
// announce or lookup) under the v2 hash. A v2-only torrent has the one hash.
const DOWNLOADS = [
  { format: "hybrid", swarm: "v1" },
  { format: "hybrid", swarm: "v2" },
  { format: "v2", swarm: "v2" },
] as const;

for (const { format, swarm } of DOWNLOADS) {
  Deno.test({
    name:
      `interop: libtorrent seeder -> Bittern leecher of a libtorrent-made ${format} torrent (${swarm} swarm)${why}`,
    ignore,
    fn: () =>
      withDirs(async (seedDir, leechDir) => {
        const { path, torrent } = await libtorrentTorrent(seedDir, V2_SWARM, format, 65536);
        const seeder = await LtPeer.start(["seed", "--torrent", path, "--data", seedDir]);
        const seen = recorder();
        const runtime = new Runtime({
          maxConnectionsPerIp: 64,
          listen: false,
          handshakeHandlers: [seen.handler],
        });
        try {
          const session = await runtime.add(torrent, {
            out: leechDir,
            peers: [{ host: "127.0.0.1", port: seeder.port, swarm }],
          });
          await withTimeout(session.completed, 60_000, `download of the ${format} torrent`);
          await assertFixture(leechDir, { payload: V2_SWARM });
          const expected = swarm === "v2"
            ? toHex(torrent.infoHashV2Truncated!)
            : torrent.infoHashHex;
          assertHandshakes(seen.seen, expected, torrent);
        } finally {
          await runtime.close();
          await seeder.close();
        }
      }),
  });
}

for (const format of ["hybrid", "v2"] as const) {
  Deno.test({
    name:
      `interop: Bittern seeder -> libtorrent leecher of a libtorrent-made ${format} torrent${why}`,
    ignore,
    fn: () =>
      withDirs(async (seedDir, leechDir) => {
        const { path, torrent } = await libtorrentTorrent(seedDir, V2_SWARM, format, 65536);
        const seen = recorder();
        const runtime = new Runtime({
          maxConnectionsPerIp: 64,
          listen: { hostname: "127.0.0.1", port: 0 },
          handshakeHandlers: [seen.handler],
        });
        let leecher: LtPeer | undefined;
        try {
          const session = await runtime.add(torrent, { storage: new FileSystemStorage(seedDir) });
          assert.equal(session.stats().progress, 1);
          leecher = await LtPeer.leech(path, leechDir, runtime.port);
          await leecher.waitFor((event) => event.event === "finished", 60_000);
          await assertFixture(leechDir, { payload: V2_SWARM });
          // libtorrent dials a hybrid under its v1 hash (a peer given by hand) with the v2 bit.
          assertHandshakes(seen.seen, torrent.infoHashHex, torrent);
        } finally {
          await leecher?.close();
          await runtime.close();
        }
      }),
  });
}

/** Whether a dial failed because the peer closed or reset the connection before answering. */
const dropped = (error: unknown) =>
  error instanceof ProtocolError && error.code === "connection-closed";

Deno.test({
  name: `interop: libtorrent drops a peer setting the v2 bit for a v1-only torrent${why}`,
  ignore,
  fn: () =>
    withDirs(async (seedDir) => {
      const { torrentPath, bytes } = await writeFixture(seedDir, undefined, V2_SWARM);
      const torrent = parseTorrent(bytes);
      assert.equal(torrent.version, 1);
      const seeder = await LtPeer.start(["seed", "--torrent", torrentPath, "--data", seedDir]);
      let dials = 0;
      const dial = async (handlers: HandshakeHandler[]) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: seeder.port });
        return await PeerWire.connect(conn, {
          infoHash: torrent.infoHash,
          peerId: new TextEncoder().encode(`-XX0001-v2bitpro${String(++dials).padStart(4, "0")}`),
          handlers,
        });
      };
      try {
        // libtorrent drops handshakes until its torrent has started (about 0.5 s after it
        // listens): a plain dial that succeeds shows it is ready.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const plain = await dial([]).catch((error) => {
            // Only a connection closed (or reset) before the answer means not ready yet.
            if (Date.now() > deadline || !dropped(error)) throw error;
          });
          if (plain) {
            assert.equal(toHex(plain.remote.infoHash), torrent.infoHashHex);
            plain.close();
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        // Why the runtime sets the bit only for torrents with a v2 hash.
        await assert.rejects(dial([new V2Extension()]), dropped);
        // ...and only for that: a plain peer is still welcome.
        (await dial([])).close();
      } finally {
        await seeder.close();
      }
    }),
});
