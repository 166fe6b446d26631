/**
 * The fast extension (BEP 6) against real libtorrent peers (python3-libtorrent 2.0.8) on
 * 127.0.0.1: both sides set the fast bit, libtorrent announces a seed with `have_all` and a
 * peer without pieces with `have_none`, and its allowed-fast set is the one our generator
 * draws from the same address and info hash.
 */
import assert from "node:assert/strict";
import {
  type AgentPeer,
  allowedFastAddress,
  allowedFastSet,
  FileSystemStorage,
  type MessagingAgent,
  parseTorrent,
  Runtime,
} from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

/** 2 MiB in 64 KiB pieces: 32 pieces, more than libtorrent's allowed-fast set of 5. */
const FAST: FixturePayload = {
  name: "fast",
  files: [{ path: ["fast.bin"], data: payload(2 * 1024 * 1024, 61) }],
};

/** What a user's agent sees of each peer: the fast flag and the fast extension's messages. */
interface Seen {
  fast?: boolean;
  types: string[];
  allowedFast: number[];
}

function recorder(): { agent: MessagingAgent; seen: Map<string, Seen> } {
  const seen = new Map<string, Seen>();
  const of = (peer: AgentPeer) => {
    let entry = seen.get(peer.key);
    if (!entry) seen.set(peer.key, entry = { types: [], allowedFast: [] });
    return entry;
  };
  const agent: MessagingAgent = {
    name: "fast-recorder",
    opened: (peer) => void (of(peer).fast = peer.fast),
    consumes: {
      bitfield: (peer) => void of(peer).types.push("bitfield"),
      "have-all": (peer) => void of(peer).types.push("have-all"),
      "have-none": (peer) => void of(peer).types.push("have-none"),
      "allowed-fast": (peer, message) => {
        of(peer).types.push("allowed-fast");
        of(peer).allowedFast.push(message.index);
      },
    },
  };
  return { agent, seen };
}

Deno.test({
  name: `interop fast: libtorrent seeder -> Bittern leecher: have_all, its allowed-fast set${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const { torrentPath, bytes } = await writeFixture(seedDir, undefined, FAST);
    const seeder = await LtPeer.start(["seed", "--torrent", torrentPath, "--data", seedDir]);
    const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
    const { agent, seen } = recorder();
    try {
      const session = await runtime.add(bytes, {
        out: leechDir,
        agents: [agent],
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      await withTimeout(session.completed, 60_000, "download from libtorrent");
      await assertFixture(leechDir, { payload: FAST });
      const peer = seen.get(`127.0.0.1:${seeder.port}`);
      assert.ok(peer, "the seeder was seen");
      assert.equal(peer.fast, true, "fast negotiated");
      // A seed announces itself with have_all, never a bitfield.
      assert.equal(peer.types[0], "have-all");
      assert.ok(!peer.types.includes("bitfield"));
      // libtorrent 2.0.8 offers 5 (its allowed_fast_set_size) once we are interested, drawn by
      // the same generator but from the whole address: BEP 6's /24 mask would give others.
      const torrent = parseTorrent(bytes);
      const draw = (mask: boolean) =>
        allowedFastSet({
          address: allowedFastAddress("127.0.0.1", { mask })!,
          infoHash: torrent.infoHash,
          pieceCount: torrent.pieceCount,
          size: 5,
        });
      assert.deepEqual(peer.allowedFast, draw(false));
      assert.notDeepEqual(draw(true), draw(false));
    } finally {
      await runtime.close();
      await seeder.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});

Deno.test({
  name: `interop fast: Bittern seeder -> libtorrent leecher with fast negotiated${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const { torrentPath, bytes } = await writeFixture(seedDir, undefined, FAST);
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    const { agent, seen } = recorder();
    let leecher: LtPeer | undefined;
    try {
      await runtime.add(bytes, { storage: new FileSystemStorage(seedDir), agents: [agent] });
      leecher = await LtPeer.leech(torrentPath, leechDir, runtime.port);
      await leecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(leechDir, { payload: FAST });
      const peers = [...seen.values()];
      assert.equal(peers.length, 1);
      assert.equal(peers[0].fast, true, "fast negotiated");
      // A libtorrent peer without pieces says have_none.
      assert.equal(peers[0].types[0], "have-none");
    } finally {
      await leecher?.close();
      await runtime.close();
      await Deno.remove(seedDir, { recursive: true });
      await Deno.remove(leechDir, { recursive: true });
    }
  },
});
