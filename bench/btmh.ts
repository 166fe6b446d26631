// deno-lint-ignore-file no-console -- a benchmark prints its results
/**
 * A `btmh` magnet link (BEP 52, v2-only) against a libtorrent seeder on 127.0.0.1, whose one
 * 64 MiB file has 4096 pieces of 16 KiB (a 128 KiB piece layer, 8 hash requests of 512):
 *
 * - time to first piece: `bittern download '<btmh magnet>'` (a fresh process: metadata, the
 *   whole piece layer by hash request, then one piece) vs a libtorrent client given the same
 *   magnet and the peer (it asks hashes as pieces need them), alternating, in one run;
 * - the piece-layer step alone, in process: from the info dictionary to the complete torrent,
 *   from the libtorrent seeder and from a Bittern seeder of the same torrent.
 *
 * Run: `deno task bench btmh` or
 * `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run bench/btmh.ts [rounds]`.
 */
import { join } from "node:path";
import {
  FileSystemStorage,
  formatMagnet,
  MemoryStorage,
  type MessagingAgent,
  parseTorrent,
  Runtime,
  type Torrent,
} from "../mod.ts";
import { hasLibtorrent, LtPeer } from "../tests/interop/lt_process.ts";
import { bitternFirstPiece, libtorrentFirstPiece, median } from "./magnet.ts";
import { seededBytes } from "./util.ts";

const HELPER = new URL("../tests/interop/lt_create_helper.py", import.meta.url).pathname;
const SKIPPED =
  "skipped: /usr/bin/python3 cannot import libtorrent (apt-get install python3-libtorrent)";
const PIECE = 16384;
const PIECES = 4096;

/** Milliseconds from the info dictionary to the complete torrent (piece layers in). */
async function layerStep(torrent: Torrent, port: number): Promise<number> {
  let wanted = 0;
  const timer: MessagingAgent = {
    name: "layer-timer",
    beforeMetadata: { pieceLayersWanted: () => void (wanted = performance.now()) },
  };
  await using runtime = new Runtime({ listen: false });
  const session = await runtime.add(
    formatMagnet({ infoHashV2: torrent.infoHashV2!, peers: [{ host: "127.0.0.1", port }] }),
    { storage: new MemoryStorage(), agents: [timer] },
  );
  await session.metadata;
  const elapsed = performance.now() - wanted;
  await session.stop();
  return elapsed;
}

/** Runs the benchmark: `rounds` of each, alternating. */
export async function run(rounds = 5): Promise<void> {
  console.log(`\n## btmh: a v2-only magnet (4096 piece hashes) from a libtorrent seeder`);
  if (!await hasLibtorrent()) return console.log(SKIPPED);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "data"));
    await Deno.writeFile(join(dir, "data", "big.bin"), seededBytes(PIECES * PIECE, 52));
    const path = join(dir, "v2.torrent");
    // A v2-only torrent of 16 KiB pieces, made by libtorrent.
    const v2 = await new Deno.Command("/usr/bin/python3", {
      args: [
        HELPER,
        "make",
        "--path",
        join(dir, "data", "big.bin"),
        "--out",
        path,
        "--piece-size",
        String(PIECE),
        "--format",
        "v2",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!v2.success) throw new Error(new TextDecoder().decode(v2.stderr));
    const torrent = parseTorrent(await Deno.readFile(path));
    const seeder = await LtPeer.start(["seed", "--torrent", path, "--data", join(dir, "data")]);
    const bittern = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
    try {
      await bittern.add(torrent, { storage: new FileSystemStorage(join(dir, "data")) });
      const bare = formatMagnet({ infoHashV2: torrent.infoHashV2! });
      const withPeer = formatMagnet({
        infoHashV2: torrent.infoHashV2!,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      // Not timed: the first run type-checks and caches the CLI's modules.
      await bitternFirstPiece(withPeer);
      const ours: number[] = [];
      const theirs: number[] = [];
      const fromLibtorrent: number[] = [];
      const fromBittern: number[] = [];
      for (let round = 0; round < rounds; round++) {
        ours.push(await bitternFirstPiece(withPeer));
        theirs.push(await libtorrentFirstPiece(bare, seeder.port));
        fromLibtorrent.push(await layerStep(torrent, seeder.port));
        fromBittern.push(await layerStep(torrent, bittern.port!));
      }
      const show = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(", ");
      console.log(`bittern download '<btmh magnet>' to first piece ms: ${show(ours)}`);
      console.log(`libtorrent (magnet + peer) to first piece   ms: ${show(theirs)}`);
      console.log(
        `median: bittern ${median(ours).toFixed(0)} ms, libtorrent ${
          median(theirs).toFixed(0)
        } ms, ratio ${(median(ours) / median(theirs)).toFixed(2)}x (lower is faster)`,
      );
      console.log(
        `piece-layer step (info dictionary to complete torrent), median: from libtorrent ${
          median(fromLibtorrent).toFixed(0)
        } ms, from Bittern ${median(fromBittern).toFixed(0)} ms`,
      );
    } finally {
      await bittern.close();
      await seeder.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run(Number(Deno.args[0] ?? 5));
