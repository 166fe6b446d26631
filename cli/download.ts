// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern download`: fetch a torrent and download it, optionally seeding after. */
import {
  type Magnet,
  metainfoFromInfo,
  PermissionError,
  type SelectorName,
  type Torrent,
  visibleFiles,
} from "../mod.ts";
import {
  parseCommandArgs,
  parseRateLimits,
  RATE_LIMIT_FLAGS,
  rateLimitUsage,
  usageError,
} from "./args.ts";
import { formatBytes, formatDuration } from "./format.ts";
import { outputMode } from "./progress.ts";
import {
  checkWritable,
  DHT_USAGE,
  ENCRYPTION_USAGE,
  ExitCode,
  follow,
  granted,
  parseNetworkFlags,
  PRIVATE_PEERS_NOTICE,
  reportFailure,
  resolveSource,
  SESSION_FLAGS,
  withRuntime,
} from "./session_command.ts";
import { parseWebSeeds, WEB_SEED_FLAG, WEB_SEED_USAGE } from "./web_seed_flag.ts";

const USAGE = `Usage: bittern download <torrent-file|url|magnet> [options]

Downloads a torrent into --out (default: the current directory). A magnet link
(quote it for the shell) is fetched from peers first: its trackers (tr, udp
too), its peers (x.pe) and --peer addresses; "fetching metadata (n peers)"
shows until the torrent is known.

Options:
  --out DIR            download directory (default .)
  --peer HOST:PORT     connect to this peer too (repeatable)
${WEB_SEED_USAGE}
  --bind ADDR          listening address (default 0.0.0.0)
  --port N             listening port (default 6881; 0 picks a free one)
  --connections-per-ip N
                       connections to or from one IP address (default 1; raise it
                       for several peers on one machine, e.g. 127.0.0.1)
${ENCRYPTION_USAGE}
${DHT_USAGE}
  --selector NAME      sequential | rarest | random-rarest (default rarest)
  --files LIST         only these files, by the [index] 'bittern info' shows, e.g. 0,2,5
  --save-torrent FILE  write the .torrent to FILE once it is known (for a magnet link:
                       once its metadata arrived, with its tr and ws); needs
                       --allow-write=FILE
${rateLimitUsage(23)}
  --seed               keep seeding after the download completes (until Ctrl-C)
  --seed-ratio R       seed after the download until uploaded/size reaches R
                       (implies --seed; Ctrl-C still stops earlier)
  --json               one JSON object per event per line
  -h, --help           show this help

Permissions: --allow-net (the torrent's URL, trackers, peers, web seeds and the
listening address) and --allow-write=DIR. Add --allow-read=DIR to resume over existing
data or to --seed, and --allow-read=FILE for a local .torrent file. DIR is
checked for writing before anything is announced.

On a private torrent, --peer addresses are used besides its trackers; no PEX
and no other sources.

Exit codes: 0 complete (or seeding ended), 1 failed, 2 bad usage, 130 interrupted.

Examples:
  deno run --allow-net --allow-write=dl cli.ts download https://example.org/x.torrent --out dl
  deno run --allow-net --allow-write=dl,x.torrent cli.ts download 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&tr=udp%3A%2F%2Ftracker.example%3A1337' --out dl --save-torrent x.torrent
  deno run --allow-net --allow-read=dl,x.torrent --allow-write=dl cli.ts download x.torrent --out dl --seed
  deno run --allow-net --allow-read=x.torrent --allow-write=dl cli.ts download x.torrent --out dl --download-limit 8M`;

const SELECTORS = ["sequential", "rarest", "random-rarest"];

/**
 * Runs `bittern download` with `args`.
 *
 * @param args The arguments after `download`.
 * @returns The exit code: 0 complete, 1 failed, 2 bad usage, 130 interrupted.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("download", USAGE, {
    args,
    allowPositionals: true,
    options: {
      ...SESSION_FLAGS,
      ...RATE_LIMIT_FLAGS,
      out: { type: "string" },
      selector: { type: "string" },
      files: { type: "string" },
      seed: { type: "boolean" },
      "seed-ratio": { type: "string" },
      "save-torrent": { type: "string" },
      ...WEB_SEED_FLAG,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string) => usageError("download", problem, USAGE);
  if (positionals.length !== 1) return usage("expected one torrent file or URL, or a magnet link");
  const network = parseNetworkFlags(values);
  if (typeof network === "string") return usage(network);
  const limits = parseRateLimits(values);
  if (typeof limits === "string") return usage(limits);
  if (values.selector !== undefined && !SELECTORS.includes(values.selector)) {
    return usage(`--selector expects ${SELECTORS.join(" | ")}, not '${values.selector}'`);
  }
  let files: number[] | undefined;
  if (values.files !== undefined) {
    const parts = values.files.split(",").map((part) => part.trim());
    files = parts.map(Number);
    if (parts.some((part) => !/^\d+$/.test(part))) {
      return usage(`--files expects indices like 0,2,5, not '${values.files}'`);
    }
  }
  const webSeeds = parseWebSeeds(values);
  if (typeof webSeeds === "string") return usage(webSeeds);
  const ratio = values["seed-ratio"] === undefined ? undefined : Number(values["seed-ratio"]);
  if (ratio !== undefined && !(ratio > 0)) {
    return usage(`--seed-ratio expects a positive number, not '${values["seed-ratio"]}'`);
  }
  // --seed-ratio means seeding after the download: it implies --seed.
  const seed = (values.seed ?? false) || ratio !== undefined;
  const out = values.out ?? ".";
  const mode = outputMode(values.json ?? false);

  const saveTo = values["save-torrent"];
  if (saveTo === "") return usage("--save-torrent expects a file name");
  const source = await resolveSource("download", positionals[0], mode);
  if (typeof source === "string") return usage(source);
  if (!source) return ExitCode.failed;
  const { magnet, torrent } = source;
  const problem = torrent && filesProblem(torrent, files);
  if (problem) return usage(problem);
  if (saveTo !== undefined && !granted({ name: "write", path: saveTo })) {
    const denied = new PermissionError(
      `saving the torrent to ${saveTo}`,
      `--allow-write=${saveTo}`,
    );
    return reportFailure("download", mode, denied);
  }
  // Without read access to DIR there is nothing to resume from: start fresh.
  const canRead = granted({ name: "read", path: out });
  if (seed && !canRead) {
    const unreadable = new PermissionError(`seeding from ${out}`, `--allow-read=${out}`);
    return reportFailure("download", mode, unreadable);
  }
  // A directory we cannot write to fails now, not after trackers and peers were contacted.
  try {
    await checkWritable(out);
  } catch (error) {
    return reportFailure("download", mode, error);
  }
  if (torrent?.private && network.peers.length > 0) console.error(PRIVATE_PEERS_NOTICE);
  return await withRuntime(network, async (command) => {
    const started = performance.now();
    try {
      const session = await command.add(torrent ?? positionals[0], {
        out,
        peers: network.peers,
        webSeeds,
        selector: values.selector as SelectorName | undefined,
        wantedFiles: files,
        restore: canRead ? "auto" : "none",
        seed,
        ...limits,
      });
      command.show(session, mode, magnet?.name ?? torrent?.name ?? session.infoHash);
      let usageProblem: string | undefined;
      const known = session.metadata.then(async (metadata) => {
        usageProblem = magnet ? filesProblem(metadata, files) : undefined;
        if (usageProblem) return void session.stop("bad --files");
        if (saveTo !== undefined) await saveTorrent(saveTo, metadata, magnet);
      });
      // The session goes on meanwhile; a failed save (or --files that do not fit) ends it.
      const saved = known.then(() => new Promise<never>(() => {}), (error: Error) => error);
      const outcome = await follow(
        session,
        Promise.race([session.completed, saved]),
        command.interrupted,
      );
      if (usageProblem) return usage(usageProblem);
      if (outcome instanceof Error) return reportFailure("download", mode, outcome, true);
      if (outcome === "interrupted") return ExitCode.interrupted;
      await known;
      const name = session.torrent.name;
      const stats = session.stats();
      const seconds = (performance.now() - started) / 1000;
      if (mode !== "json") {
        console.log(
          `downloaded ${name}: ${formatBytes(stats.wantedBytes)} in ${formatDuration(seconds)}` +
            ` (${formatBytes(stats.downloaded / Math.max(seconds, 0.001))}/s)`,
        );
      }
      if (!seed) return ExitCode.ok;
      const ratioReached = new Promise<void>((resolve) => {
        if (ratio === undefined) return;
        session.events.on("progress", (now) => {
          if (now.uploaded / session.torrent.length >= ratio) resolve();
        });
      });
      if (mode !== "json") {
        console.log(
          ratio === undefined
            ? "seeding; Ctrl-C to stop"
            : `seeding until the ratio reaches ${ratio}; Ctrl-C to stop`,
        );
      }
      const seeding = await follow(session, ratioReached, command.interrupted);
      if (seeding instanceof Error) return reportFailure("download", mode, seeding, true);
      return ExitCode.ok;
    } catch (error) {
      return reportFailure("download", mode, error);
    }
  });
}

/** Why `--files` does not fit `torrent`, if it does not. */
function filesProblem(torrent: Torrent, files: number[] | undefined): string | undefined {
  // Indices count the files people see: BEP 47 padding files are never numbered.
  const fileCount = visibleFiles(torrent).length;
  if (!files?.some((index) => index >= fileCount)) return undefined;
  return `--files: the torrent has ${fileCount} files (0..${fileCount - 1}; see 'bittern info')`;
}

/**
 * Writes the .torrent: a magnet's trackers (one tier each) and web seeds (`ws`, as `url-list`),
 * or the torrent's own, and the v2 files' piece layers (fetched by BEP 52 hash requests for a
 * `btmh` magnet).
 */
async function saveTorrent(path: string, torrent: Torrent, magnet: Magnet | undefined) {
  const trackers = magnet ? magnet.trackers : torrent.announce.flat();
  const webSeeds = magnet
    ? magnet.webSeeds
    : (torrent.webSeeds ?? []).filter((seed) => seed.kind === "getright").map((seed) => seed.url);
  const pieceLayers = torrent.files.flatMap((file) =>
    file.piecesRoot && file.pieceLayer ? [{ root: file.piecesRoot, layer: file.pieceLayer }] : []
  );
  await Deno.writeFile(
    path,
    metainfoFromInfo(torrent.infoBytes, { trackers, webSeeds, pieceLayers }),
  );
}
