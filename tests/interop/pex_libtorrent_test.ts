/**
 * Peer exchange with libtorrent: Bittern learns of a peer through libtorrent's ut_pex only.
 *
 * L is a libtorrent seeder, X a libtorrent leecher that connects to L. Bittern (B) is told
 * only about L: the torrent has no tracker and B does not listen, so nobody can tell X about
 * B and X cannot dial B. The only way B can connect to X's listening address is by hearing
 * it in a ut_pex message from L.
 *
 * Timing (libtorrent 2.0, src/ut_pex.cpp): each peer connection's plugin sends its first
 * ut_pex message (the full peer list) on the first one-second tick after the extended
 * handshake at which the torrent has more than one peer; across connections libtorrent spaces
 * messages by min(max(60 s / peers, 100 ms), 3 s). So B normally hears of X within a few
 * seconds. That full list leaves out a peer still in its handshake or (if it connected in)
 * whose listening port is not known yet, so the test first waits until X has a verified piece
 * from L: the connection is then well established. (Waiting only for "X has a peer" let the
 * list come out empty in about 1 run of 10.) Should the full list still miss X, the next
 * message is a diff about a minute later that adds X (L rebuilds it every 60 s from its
 * start), hence the 75 s bound; in 40 runs here B always connected to X within about 3 s.
 * L's upload is capped (for loopback peers too) so that B cannot finish the download, and as
 * a seed hang up on the seed L, before that message arrives.
 */
import assert from "node:assert/strict";
import { Runtime } from "../../mod.ts";
import { sessionEvent, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";

const ignore = !await hasLibtorrent();
/** Shown in the test name when skipped, so the reason is in the report. */
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

Deno.test({
  name: `interop: Bittern learns a libtorrent peer through libtorrent's ut_pex and connects${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir({ prefix: "bittern-pex-seed-" });
    const otherDir = await Deno.makeTempDir({ prefix: "bittern-pex-x-" });
    const ownDir = await Deno.makeTempDir({ prefix: "bittern-pex-b-" });
    const peers: LtPeer[] = [];
    const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
    try {
      const fixture = await writeFixture(seedDir);
      // 64 KiB/s: the 3.9 MB payload takes a minute, far longer than the first ut_pex.
      const seeder = await LtPeer.start(
        ["seed", "--torrent", fixture.torrentPath, "--data", seedDir, "--upload-limit", "65536"],
      );
      peers.push(seeder);
      const other = await LtPeer.leech(fixture.torrentPath, otherDir, seeder.port);
      peers.push(other);
      // X has a piece from L: their handshakes are long done and L knows X's listening port
      // (from X's extended handshake), so L's first ut_pex list to B includes 127.0.0.1:X.port.
      await other.waitFor(
        (event) => event.event === "progress" && Number(event.progress) > 0,
        20_000,
      );

      const session = await runtime.add(fixture.bytes, {
        out: ownDir,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      assert.equal(session.torrent.announce.length, 0, "no tracker could name X");
      const learned = await sessionEvent(
        session,
        "peer-connected",
        (peer) => peer.address === `127.0.0.1:${other.port}`,
        75_000,
      );
      assert.equal(learned.incoming, false, "Bittern dialled X itself");
      assert.match(learned.client, /^libtorrent /);
      assert.ok(session.stats().progress < 1, "still downloading: the address came from L");
    } finally {
      await runtime.close();
      for (const peer of peers) await peer.close();
      for (const dir of [seedDir, otherDir, ownDir]) await Deno.remove(dir, { recursive: true });
    }
  },
});
