// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern seed`: serve a torrent's data from a directory. */
import { FileSystemStorage, PermissionError } from "../mod.ts";
import { outputMode } from "./progress.ts";
import { parseCommandArgs, usageError } from "./render.ts";
import {
  ExitCode,
  fetchForCommand,
  follow,
  granted,
  parseNetworkFlags,
  reportFailure,
  SESSION_FLAGS,
  withRuntime,
} from "./session_command.ts";

const USAGE = `Usage: bittern seed <torrent-file|url> --data DIR [options]

Checks the data in DIR against the torrent and serves it until Ctrl-C.

Options:
  --data DIR        where the torrent's files are (required)
  --bind ADDR       listening address (default 0.0.0.0)
  --port N          listening port (default 6881; 0 picks a free one)
  --peer HOST:PORT  connect to this peer too (repeatable)
  --json            one JSON object per event per line
  -h, --help        show this help

Permissions: --allow-net, --allow-read=DIR (and the .torrent file). Complete
data is served read-only; add --allow-write=DIR to download missing pieces.

Exit codes: 0 stopped by Ctrl-C, 1 failed, 2 bad usage.

Examples:
  deno run --allow-net --allow-read=data,x.torrent cli.ts seed x.torrent --data data
  deno run --allow-net --allow-read --allow-write=data cli.ts seed https://example.org/x.torrent --data data`;

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
      data: { type: "string" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string) => usageError("seed", problem, USAGE);
  if (positionals.length !== 1) return usage("expected one torrent file or URL");
  if (!values.data) return usage("--data DIR is required");
  const network = parseNetworkFlags(values);
  if (typeof network === "string") return usage(network);
  const mode = outputMode(values.json ?? false);
  const torrent = await fetchForCommand("seed", positionals[0], mode);
  if (!torrent) return ExitCode.failed;
  const data = values.data;
  // Serving needs only read access; without write access missing pieces are an error.
  const canWrite = granted({ name: "write", path: data });
  return await withRuntime(network.hostname, network.port, async (runtime, interrupted) => {
    try {
      const session = await runtime.add(torrent, {
        start: false,
        storage: canWrite ? undefined : new FileSystemStorage(data, { readOnly: true }),
        out: data,
        peers: network.peers,
        restore: "recheck",
        seed: true,
      });
      const stats = session.stats();
      if (!canWrite && stats.verifiedPieces < stats.pieceCount) {
        const missing = new PermissionError(
          `completing ${data} (it holds ${stats.verifiedPieces}/${stats.pieceCount} pieces)`,
          `--allow-write=${data}`,
        );
        return reportFailure("seed", mode, missing);
      }
      if (mode !== "json") {
        console.log(
          `seeding ${torrent.name} on port ${runtime.port}: ${stats.verifiedPieces}/${stats.pieceCount} pieces verified`,
        );
      }
      const outcome = await follow(session, mode, new Promise(() => {}), interrupted);
      if (outcome instanceof Error) return reportFailure("seed", mode, outcome, true);
      return ExitCode.ok;
    } catch (error) {
      return reportFailure("seed", mode, error);
    }
  });
}
