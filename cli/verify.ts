// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern verify`: checks existing data against a torrent's piece hashes. */
import {
  type Bitfield,
  fetchTorrent,
  filePieceRange,
  FileSystemStorage,
  PieceStore,
  type Torrent,
} from "../mod.ts";
import { parseCommandArgs, usageError } from "./args.ts";
import { reportError } from "./errors.ts";
import { formatBytes } from "./format.ts";

const USAGE = `Usage: bittern verify <torrent> --data DIR [--json]

Reads the torrent's files under DIR (read-only), checks every piece's SHA-1 and
reports which pieces and files are complete. <torrent> is a path, a file: URL or
an http(s): URL.

Options:
  --data DIR  the download directory (required)
  --json      print JSON instead of text
  -h, --help  show this help

Permissions: --allow-read=DIR and the torrent file (--allow-net=HOST for a URL).

Exit codes: 0 every piece good, 3 some missing or corrupt, 1 failed, 2 bad usage.

Examples:
  deno run --allow-read=dl,x.torrent cli.ts verify x.torrent --data dl
  deno run --allow-read=dl,x.torrent cli.ts verify x.torrent --data dl --json`;

/** Exit code when the check ran but not every piece is good. */
const INCOMPLETE = 3;

/**
 * Runs `bittern verify` with `args`.
 *
 * @param args The arguments after `verify`.
 * @returns The exit code: 0 complete, 3 incomplete, 1 on failure, 2 on bad usage.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("verify", USAGE, {
    args,
    allowPositionals: true,
    options: {
      data: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return usageError("verify", "expected one torrent", USAGE);
  const dir = parsed.values.data;
  if (!dir) return usageError("verify", "--data DIR is required", USAGE);
  let torrent: Torrent;
  let verified: Bitfield;
  try {
    torrent = await fetchTorrent(parsed.positionals[0]);
    const showProgress = !parsed.values.json && Deno.stderr.isTerminal();
    let shown = -1;
    const store = await PieceStore.open(
      torrent,
      new FileSystemStorage(dir, { readOnly: true }),
      {
        restore: "recheck",
        onRecheckProgress: ({ checked, total }) => {
          const percent = Math.floor((checked / total) * 100);
          if (!showProgress || percent === shown) return;
          shown = percent;
          Deno.stderr.writeSync(new TextEncoder().encode(`\rchecking ${percent}%`));
        },
      },
    );
    if (showProgress) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
    verified = store.verified;
    await store.close();
  } catch (error) {
    return reportError("verify", error);
  }
  const report = summarize(torrent, verified);
  console.log(parsed.values.json ? JSON.stringify(report, null, 2) : toText(report));
  return report.complete ? 0 : INCOMPLETE;
}

interface FileReport {
  path: string;
  length: number;
  piecesComplete: number;
  piecesTotal: number;
  complete: boolean;
}

interface VerifyReport {
  name: string;
  infoHash: string;
  pieceCount: number;
  piecesComplete: number;
  bytesComplete: number;
  length: number;
  complete: boolean;
  /** One character per piece: `1` good, `0` missing or corrupt. */
  pieces: string;
  files: FileReport[];
}

function summarize(torrent: Torrent, verified: Bitfield): VerifyReport {
  let bytesComplete = 0;
  let pieces = "";
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    const good = verified.get(piece);
    pieces += good ? "1" : "0";
    if (good) {
      bytesComplete += Math.min(torrent.pieceLength, torrent.length - piece * torrent.pieceLength);
    }
  }
  const files = torrent.files.flatMap((file, index): FileReport[] => {
    if (file.padding) return [];
    const range = filePieceRange(torrent, index);
    let piecesComplete = 0;
    const piecesTotal = range ? range.last - range.first + 1 : 0;
    for (let piece = range?.first ?? 0; range && piece <= range.last; piece++) {
      if (verified.get(piece)) piecesComplete++;
    }
    return [{
      path: file.path.join("/"),
      length: file.length,
      piecesComplete,
      piecesTotal,
      complete: piecesComplete === piecesTotal,
    }];
  });
  return {
    name: torrent.name,
    infoHash: torrent.infoHashHex,
    pieceCount: torrent.pieceCount,
    piecesComplete: verified.count(),
    bytesComplete,
    length: torrent.length,
    complete: verified.hasAll(),
    pieces,
    files,
  };
}

function toText(report: VerifyReport): string {
  const percent = report.pieceCount === 0 ? 100 : (report.piecesComplete / report.pieceCount) * 100;
  const lines = [
    `${report.name} (${report.infoHash})`,
    `pieces: ${report.piecesComplete}/${report.pieceCount} good (${percent.toFixed(1)}%), ` +
    `${formatBytes(report.bytesComplete)} of ${formatBytes(report.length)}`,
  ];
  for (const file of report.files) {
    const state = file.complete ? "complete" : `${file.piecesComplete}/${file.piecesTotal} pieces`;
    lines.push(`  ${file.path}  ${formatBytes(file.length)}  ${state}`);
  }
  lines.push(
    report.complete ? "all pieces verified" : "incomplete: some pieces are missing or corrupt",
  );
  return lines.join("\n");
}
