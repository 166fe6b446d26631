/**
 * Web seeds against nginx (Debian `nginx-light`): a torrent made by libtorrent with a
 * url-list pointing at nginx on 127.0.0.1 downloads from the web seed alone, and together
 * with a rate-limited libtorrent seeder (both contribute).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type MessagingAgent, parseTorrent, Runtime } from "../../mod.ts";
import { payload } from "../session/helpers.ts";
import { assertFixture, type FixturePayload, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, LtPeer } from "./lt_process.ts";
import { hasNginx, NGINX_MISSING, startNginx } from "./nginx_process.ts";

const libtorrent = await hasLibtorrent();
const nginx = hasNginx();
const ignore = !libtorrent || !nginx;
const why = !nginx
  ? ` [${NGINX_MISSING}]`
  : !libtorrent
  ? " [skipped: /usr/bin/python3 cannot import libtorrent]"
  : "";
const HELPER = new URL("./lt_helper.py", import.meta.url).pathname;

const WEB: FixturePayload = {
  name: "web seeded",
  files: [
    { path: ["alpha.bin"], data: payload(3_000_000, 31) },
    { path: ["nested", "dir", "beta é.bin"], data: payload(77_777, 32) },
    { path: ["nested", "zero.txt"], data: new Uint8Array(0) },
    { path: ["gamma.bin"], data: payload(2_345_678, 33) },
  ],
};

/** Makes the torrent with libtorrent, its url-list naming `url`. */
async function libtorrentTorrent(dir: string, url: string): Promise<string> {
  const out = join(dir, "web.torrent");
  const { success, stderr } = await new Deno.Command("/usr/bin/python3", {
    args: [
      HELPER,
      "make-torrent",
      "--path",
      join(dir, WEB.name),
      "--out",
      out,
      "--piece-size",
      "65536",
      "--url-seed",
      url,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return out;
}

/** An agent counting the payload each kind of sender delivered (web seeds are peers to it). */
function byClient(): { agent: MessagingAgent; bytes: Map<string, number> } {
  const bytes = new Map<string, number>();
  return {
    bytes,
    agent: {
      name: "count-by-client",
      consumes: {
        piece(peer, message) {
          const kind = peer.client.startsWith("web seed") ? "web" : "peer";
          bytes.set(kind, (bytes.get(kind) ?? 0) + message.block.length);
        },
      },
    },
  };
}

Deno.test({
  name: `interop: a libtorrent-made torrent downloads from its nginx web seed alone${why}`,
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = await Deno.makeTempDir();
    await writeFixture(dir, undefined, WEB);
    await using server = await startNginx(dir);
    const torrentPath = await libtorrentTorrent(dir, server.url);
    const torrent = parseTorrent(await Deno.readFile(torrentPath));
    assert.deepEqual(torrent.webSeeds, [{ url: server.url, kind: "getright" }]);
    const runtime = new Runtime({ listen: false });
    try {
      const session = await runtime.add(torrent, { out, trackers: false, seed: false });
      const failures: string[] = [];
      session.events.on("web-seed-failed", ({ error }) => failures.push(error.message));
      await withTimeout(session.completed, 60_000, "download from nginx");
      assert.deepEqual(failures, []);
      await assertFixture(out, { payload: WEB });
    } finally {
      await runtime.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: `interop: nginx web seed and a rate-limited libtorrent seeder both contribute${why}`,
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = await Deno.makeTempDir();
    await writeFixture(dir, undefined, WEB);
    // nginx slow (64 KiB/s per response) so that it is still at work when libtorrent connects.
    await using server = await startNginx(dir, { limitRate: "64k" });
    const torrentPath = await libtorrentTorrent(dir, server.url);
    const seeder = await LtPeer.start([
      "seed",
      "--torrent",
      torrentPath,
      "--data",
      dir,
      "--upload-limit",
      String(1024 * 1024),
    ]);
    const runtime = new Runtime({ listen: false, maxConnectionsPerIp: 64 });
    const counter = byClient();
    try {
      const session = await runtime.add(await Deno.readFile(torrentPath), {
        out,
        trackers: false,
        seed: false,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
        agents: [counter.agent],
      });
      await withTimeout(session.completed, 90_000, "download from nginx and libtorrent");
      await assertFixture(out, { payload: WEB });
      const web = counter.bytes.get("web") ?? 0;
      const peer = counter.bytes.get("peer") ?? 0;
      assert.ok(web > 0 && peer > 0, `web seed ${web} bytes, libtorrent ${peer} bytes`);
    } finally {
      await runtime.close();
      await seeder.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  },
});
