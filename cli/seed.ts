// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern seed`: serve a torrent's data from a directory. */
import { FileSystemStorage, type Torrent, visibleFiles } from "../mod.ts";
import {
  parseCommandArgs,
  parseRateLimits,
  RATE_LIMIT_FLAGS,
  rateLimitUsage,
  usageError,
} from "./args.ts";
import { formatRanges } from "./format.ts";
import { outputMode } from "./progress.ts";
import {
  ExitCode,
  fetchForCommand,
  follow,
  granted,
  parseNetworkFlags,
  PRIVATE_PEERS_NOTICE,
  reportFailure,
  SESSION_FLAGS,
  withRuntime,
} from "./session_command.ts";
import { parseWebSeeds, WEB_SEED_FLAG } from "./web_seed_flag.ts";

const USAGE = `Usage: bittern seed <torrent-file|url> --data DIR [options]

Checks the data in DIR against the torrent and serves it until Ctrl-C.

Options:
  --data DIR        where the torrent's files are (required)
  --bind ADDR       listening address (default 0.0.0.0)
  --port N          listening port (default 6881; 0 picks a free one)
  --connections-per-ip N
                    connections to or from one IP address (default 1; raise it
                    for several peers on one machine, e.g. 127.0.0.1)
  --encryption MODE MSE/PE: prefer (default: try encrypted first, accept both),
                    require (encrypted only, RC4), off (plain only)
  --no-dht          no DHT (BEP 5); private torrents never use it
  --dht-bootstrap HOST:PORT
                    start the DHT from this node instead of the public routers
                    (repeatable)
  --dht-state FILE  keep the DHT's node list in FILE for fast restarts (needs
                    --allow-read for FILE, --allow-write for its directory)
  --peer HOST:PORT  connect to this peer too (repeatable)
${rateLimitUsage(20)}
  --web-seed URL    with --allow-write=DIR, fetch missing pieces from this http(s)
                    server too (BEP 19; repeatable)
  --json            one JSON object per event per line
  -h, --help        show this help

Permissions: --allow-net, --allow-read=DIR (and the .torrent file). Data is
served read-only: with pieces missing, the verified ones are served and the
missing ones listed (a warning); add --allow-write=DIR to download them too.

Exit codes: 0 stopped by Ctrl-C, 1 failed, 2 bad usage.

Examples:
  deno run --allow-net --allow-read=data,x.torrent cli.ts seed x.torrent --data data
  deno run --allow-net --allow-read --allow-write=data cli.ts seed https://example.org/x.torrent --data data
  deno run --allow-net --allow-read=data,x.torrent cli.ts seed x.torrent --data data --upload-limit 2M`;

/** Most missing-file names listed in the warning. */
const MAX_LISTED_FILES = 5;

/**
 * Runs `bittern seed` with `args`.
 *
 * @param args The arguments after `seed`.
 * @returns The exit code: 0 after Ctrl-C, 1 failed, 2 bad usage.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("seed", USAGE, {
    args,
    allowPositionals: true,
    options: {
      ...SESSION_FLAGS,
      ...RATE_LIMIT_FLAGS,
      data: { type: "string" },
      ...WEB_SEED_FLAG,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string) => usageError("seed", problem, USAGE);
  if (positionals.length !== 1) return usage("expected one torrent file or URL");
  if (!values.data) return usage("--data DIR is required");
  const network = parseNetworkFlags(values);
  if (typeof network === "string") return usage(network);
  const limits = parseRateLimits(values);
  if (typeof limits === "string") return usage(limits);
  const webSeeds = parseWebSeeds(values);
  if (typeof webSeeds === "string") return usage(webSeeds);
  const mode = outputMode(values.json ?? false);
  const torrent = await fetchForCommand("seed", positionals[0], mode);
  if (!torrent) return ExitCode.failed;
  const data = values.data;
  // Serving needs only read access; without write access nothing is downloaded.
  const canWrite = granted({ name: "write", path: data });
  if (torrent.private && network.peers.length > 0) console.error(PRIVATE_PEERS_NOTICE);
  return await withRuntime(network, async (command) => {
    try {
      const session = await command.add(torrent, {
        storage: canWrite ? undefined : new FileSystemStorage(data, { readOnly: true }),
        out: data,
        peers: network.peers,
        webSeeds,
        restore: "recheck",
        seed: true,
        // Read-only: want no file, so only verified pieces are served and nothing is fetched.
        wantedFiles: canWrite ? undefined : [],
        ...limits,
      });
      const stats = session.stats();
      const verified = session.verified;
      const missing: number[] = [];
      for (let piece = 0; piece < torrent.pieceCount; piece++) {
        if (!verified.get(piece)) missing.push(piece);
      }
      if (missing.length > 0 && !canWrite) {
        const message = missingWarning(torrent, missing, data);
        if (mode === "json") {
          console.log(JSON.stringify({
            event: "warning",
            time: new Date().toISOString(),
            source: "seed",
            message,
            missingPieces: missing,
          }));
        } else console.error(`warning: ${message}`);
      }
      if (mode !== "json") {
        console.log(
          `seeding ${torrent.name} on port ${command.runtime.port}: ${stats.verifiedPieces}/${stats.pieceCount} pieces verified`,
        );
      }
      command.show(session, mode);
      const outcome = await follow(session, new Promise(() => {}), command.interrupted);
      if (outcome instanceof Error) return reportFailure("seed", mode, outcome, true);
      return ExitCode.ok;
    } catch (error) {
      return reportFailure("seed", mode, error);
    }
  });
}

/** Which pieces (and files) are missing, and the flag that would complete them. */
function missingWarning(torrent: Torrent, missing: readonly number[], dir: string): string {
  const files = visibleFiles(torrent).filter((file) => {
    if (file.length === 0) return false;
    const first = Math.floor(file.offset / torrent.pieceLength);
    const last = Math.floor((file.offset + file.length - 1) / torrent.pieceLength);
    return missing.some((piece) => piece >= first && piece <= last);
  }).map((file) => file.path.join("/"));
  const listed = files.slice(0, MAX_LISTED_FILES).join(", ") +
    (files.length > MAX_LISTED_FILES ? `, and ${files.length - MAX_LISTED_FILES} more` : "");
  return `${dir} lacks ${missing.length}/${torrent.pieceCount} pieces ` +
    `(${formatRanges(missing)}; in ${listed}): serving the others; ` +
    `add --allow-write=${dir} to download the missing ones`;
}
