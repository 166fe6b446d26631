/**
 * The DHT (BEP 5) against libtorrent's: a mesh of libtorrent DHT nodes on 127.0.0.1, and
 * bare magnet links (no `tr`, no `x.pe`, no peers) that only the DHT can resolve. Bittern
 * finds a libtorrent seeder through the mesh, and a libtorrent leecher finds a Bittern
 * seeder. The first test also prints, for the same mesh and run, the time from a bare
 * magnet to the first verified piece for Bittern and for a libtorrent leecher.
 */
import { FileSystemStorage, Runtime } from "../../mod.ts";
import { assertFixture, type Fixture, sessionEvent, withTimeout, writeFixture } from "./fixture.ts";
import { hasLibtorrent, type LtEvent, LtPeer } from "./lt_process.ts";

const libtorrent = await hasLibtorrent();
const ignore = !libtorrent;
const why = ignore ? " [skipped: /usr/bin/python3 cannot import libtorrent]" : "";

/**
 * Asks `node`'s DHT for `infoHashHex` until an answer lists 127.0.0.1:`port` (an announce
 * takes a moment to land), or rejects after `timeoutMs`.
 */
async function waitFindable(
  node: LtPeer,
  infoHashHex: string,
  port: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const found = (event: LtEvent) =>
    event.event === "dht-peers" && event.info_hash === infoHashHex &&
    (event.peers as string[]).includes(`127.0.0.1:${port}`);
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`127.0.0.1:${port} never became findable in the DHT mesh`);
    await node.command(`dht-get-peers ${infoHashHex}`);
    // One lookup answers in about 0.1 s on loopback; ask again after a second without it.
    const answered = await node.waitFor(found, Math.min(1000, left)).then(() => true, () => false);
    if (answered) return;
  }
}

const bareMagnet = (fixture: Fixture) => `magnet:?xt=urn:btih:${fixture.infoHashHex}`;

Deno.test({
  name:
    `interop: Bittern finds a libtorrent seeder through libtorrent's DHT from a bare magnet${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const ltLeechDir = await Deno.makeTempDir();
    const fixture = await writeFixture(seedDir);
    const peers: LtPeer[] = [];
    let runtime: Runtime | undefined;
    const giveUp = new AbortController();
    try {
      const mesh = await LtPeer.dhtMesh(3);
      peers.push(...mesh);
      const seeder = await LtPeer.start([
        "seed",
        "--torrent",
        fixture.torrentPath,
        "--data",
        seedDir,
        ...mesh.flatMap((node) => ["--dht-node", `127.0.0.1:${node.port}`]),
      ]);
      peers.push(seeder);
      await waitFindable(mesh[2], fixture.infoHashHex, seeder.port, 30_000);

      // Bittern: one mesh node as its only bootstrap, nothing else.
      const started = performance.now();
      runtime = new Runtime({
        maxConnectionsPerIp: 64,
        listen: { hostname: "127.0.0.1", port: 0 },
        // Every node here is 127.0.0.1: rate-limit per IP:port, not per IP.
        dht: {
          bootstrap: [{ host: "127.0.0.1", port: mesh[0].port }],
          rateLimit: { key: "ip-port" },
        },
      });
      const session = await runtime.add(bareMagnet(fixture), { out: leechDir });
      const firstPiece = sessionEvent(session, "piece-verified", () => true, 60_000, giveUp.signal);
      firstPiece.catch(() => {}); // awaited below; a failure before that must not go unhandled
      await withTimeout(session.metadata, 30_000, "metadata through the DHT");
      await firstPiece;
      const bitternFirstPieceMs = performance.now() - started;
      await withTimeout(session.completed, 60_000, "download from the DHT-found seeder");
      await assertFixture(leechDir);
      await runtime.close();
      runtime = undefined;

      // libtorrent, the same way, against the same mesh.
      const ltLeecher = await LtPeer.start([
        "leech",
        "--magnet",
        bareMagnet(fixture),
        "--out",
        ltLeechDir,
        "--dht-node",
        `127.0.0.1:${mesh[0].port}`,
      ]);
      peers.push(ltLeecher);
      const ltFirstPiece = await ltLeecher.waitFor(
        (event) => event.event === "first-piece",
        60_000,
      );
      await ltLeecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(ltLeechDir);
      // deno-lint-ignore no-console -- the issue asks for this comparison in the test output
      console.log(
        `bare magnet -> first verified piece through a 4-node libtorrent DHT mesh: ` +
          `Bittern ${Math.round(bitternFirstPieceMs)} ms, ` +
          `libtorrent ${Math.round((ltFirstPiece.seconds as number) * 1000)} ms`,
      );
    } finally {
      giveUp.abort();
      await runtime?.close();
      await Promise.all(peers.map((peer) => peer.close()));
      for (const dir of [seedDir, leechDir, ltLeechDir]) {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test({
  name:
    `interop: a libtorrent leecher finds a Bittern seeder through the DHT from a bare magnet${why}`,
  ignore,
  async fn() {
    const seedDir = await Deno.makeTempDir();
    const leechDir = await Deno.makeTempDir();
    const fixture = await writeFixture(seedDir);
    const peers: LtPeer[] = [];
    let runtime: Runtime | undefined;
    try {
      const mesh = await LtPeer.dhtMesh(3);
      peers.push(...mesh);
      // Bittern joins the mesh through one node and seeds; its DHT announces the torrent.
      runtime = new Runtime({
        maxConnectionsPerIp: 64,
        listen: { hostname: "127.0.0.1", port: 0 },
        dht: {
          bootstrap: [{ host: "127.0.0.1", port: mesh[0].port }],
          rateLimit: { key: "ip-port" },
        },
      });
      await runtime.add(fixture.bytes, { storage: new FileSystemStorage(seedDir) });
      await waitFindable(mesh[2], fixture.infoHashHex, runtime.port!, 30_000);
      // The leecher knows one other mesh node and the bare magnet, nothing else.
      const leecher = await LtPeer.start([
        "leech",
        "--magnet",
        bareMagnet(fixture),
        "--out",
        leechDir,
        "--dht-node",
        `127.0.0.1:${mesh[1].port}`,
      ]);
      peers.push(leecher);
      await leecher.waitFor((event) => event.event === "metadata", 60_000);
      await leecher.waitFor((event) => event.event === "finished", 60_000);
      await assertFixture(leechDir);
    } finally {
      await runtime?.close();
      await Promise.all(peers.map((peer) => peer.close()));
      for (const dir of [seedDir, leechDir]) await Deno.remove(dir, { recursive: true });
    }
  },
});
