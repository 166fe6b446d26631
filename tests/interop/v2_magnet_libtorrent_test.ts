/**
 * BEP 52 magnet links (`btmh`) between Bittern and libtorrent 2.0 on 127.0.0.1: the info
 * dictionary by BEP 9 (checked by SHA-256), then the piece layers by `hash request` /
 * `hashes`, then the data. Each side leeches a libtorrent-made v2-only torrent from the
 * other given only the magnet link and the peer.
 */
import assert from "node:assert/strict";
import { FileSystemStorage, formatMagnet, type MessagingAgent, Runtime } from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout } from "./fixture.ts";
import { hasLibtorrent, libtorrentTorrent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

/** Files of many pieces (several hash runs for the first: 700 pieces of 16 KiB) and of one. */
const PAYLOAD: FixturePayload = {
  name: "btmh",
  files: [
    { path: ["many.bin"], data: payload(700 * 16384 - 5000, 51) },
    { path: ["dir", "some.bin"], data: payload(100_000, 52) },
    { path: ["one.txt"], data: payload(3000, 53) },
  ],
};

/** libtorrent's `format` torrent (v2-only by default) of the payload, written under `dir`. */
function libtorrentV2(dir: string, format: "v2" | "hybrid" = "v2") {
  return libtorrentTorrent(dir, PAYLOAD, format, 16384);
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

Deno.test({
  name: `interop: Bittern downloads a btmh magnet from a libtorrent seeder (v2-only)${why}`,
  ignore,
  fn: () =>
    withDirs(async (seedDir, leechDir) => {
      const { path, torrent } = await libtorrentV2(seedDir);
      const seeder = await LtPeer.start(["seed", "--torrent", path, "--data", seedDir]);
      const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
      try {
        const session = await runtime.add(
          formatMagnet({
            infoHashV2: torrent.infoHashV2!,
            peers: [{ host: "127.0.0.1", port: seeder.port }],
          }),
          { out: leechDir },
        );
        const fetched = await withTimeout(session.metadata, 60_000, "metadata and piece layers");
        assert.equal(fetched.infoHashV2Hex, torrent.infoHashV2Hex);
        assert.deepEqual(
          fetched.files.map((file) => file.pieceLayer),
          torrent.files.map((file) => file.pieceLayer),
        );
        await withTimeout(session.completed, 60_000, "download");
        await assertFixture(leechDir, { payload: PAYLOAD });
      } finally {
        await runtime.close();
        await seeder.close();
      }
    }),
});

Deno.test({
  name: `interop: libtorrent downloads a btmh magnet from a Bittern seeder (v2-only)${why}`,
  ignore,
  fn: () =>
    withDirs(async (seedDir, leechDir) => {
      const { torrent } = await libtorrentV2(seedDir);
      const runtime = new Runtime({
        maxConnectionsPerIp: 64,
        listen: { hostname: "127.0.0.1", port: 0 },
      });
      let leecher: LtPeer | undefined;
      try {
        // A user agent hears the hash requests the built-in one answers.
        const asked: string[] = [];
        const spy: MessagingAgent = {
          name: "hash-request-spy",
          consumes: {
            "hash-request": (_peer, message) =>
              asked.push(`${message.baseLayer}:${message.index}+${message.length}`),
          },
        };
        const session = await runtime.add(torrent, {
          storage: new FileSystemStorage(seedDir),
          agents: [spy],
        });
        assert.equal(session.stats().progress, 1);
        leecher = await LtPeer.leech(
          formatMagnet({ infoHashV2: torrent.infoHashV2! }),
          leechDir,
          runtime.port,
        );
        await leecher.waitFor((event) => event.event === "finished", 60_000);
        await assertFixture(leechDir, { payload: PAYLOAD });
        // libtorrent 2.0.8 asks for each piece layer in runs of up to 512 (here 0+8 for the
        // 7-piece file, 0+512 and 512+256 for the 695-piece one) and took every answer: a wrong
        // one would have closed the connection and been asked again.
        assert.ok(asked.includes("0:0+512") && asked.includes("0:512+256"), asked.join(" "));
        assert.equal(new Set(asked).size, asked.length, `asked twice: ${asked.join(" ")}`);
      } finally {
        await leecher?.close();
        await runtime.close();
      }
    }),
});

// A hybrid link (btih and btmh): libtorrent 2.0.8 answers hash requests on a connection made
// under the truncated v2 hash (a peer of the v2 swarm), but closes one made under the v1 hash,
// even with the v2 bit in both handshakes; Bittern then asks it no more and, with no layer
// fetched for 20 s, checks the hybrid's pieces by SHA-1 alone.
for (const swarm of ["v2", "v1"] as const) {
  Deno.test({
    name:
      `interop: Bittern downloads a btih+btmh magnet from a libtorrent hybrid seeder (${swarm} swarm)${why}`,
    ignore,
    fn: () =>
      withDirs(async (seedDir, leechDir) => {
        const { path, torrent } = await libtorrentV2(seedDir, "hybrid");
        const seeder = await LtPeer.start(["seed", "--torrent", path, "--data", seedDir]);
        const runtime = new Runtime({ maxConnectionsPerIp: 64, listen: false });
        try {
          const session = await runtime.add(
            formatMagnet({ infoHash: torrent.infoHash, infoHashV2: torrent.infoHashV2! }),
            { out: leechDir, peers: [{ host: "127.0.0.1", port: seeder.port, swarm }] },
          );
          const fetched = await withTimeout(session.metadata, 60_000, "metadata");
          assert.equal(fetched.infoHashHex, torrent.infoHashHex);
          assert.deepEqual(
            fetched.files.map((file) => file.pieceLayer),
            swarm === "v2"
              ? torrent.files.map((file) => file.pieceLayer)
              : torrent.files.map(() => undefined),
          );
          await withTimeout(session.completed, 60_000, "download");
          await assertFixture(leechDir, { payload: PAYLOAD });
        } finally {
          await runtime.close();
          await seeder.close();
        }
      }),
  });
}
