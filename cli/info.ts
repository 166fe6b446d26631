// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern info`: shows what a torrent holds. */
import { fetchTorrent, toHex, type Torrent, visibleFiles } from "../mod.ts";
import { parseCommandArgs, usageError } from "./args.ts";
import { reportError } from "./errors.ts";
import { fileTreeLines, formatBytes } from "./format.ts";

const USAGE = `Usage: bittern info <torrent> [--json]

Shows a torrent's name, version (v1, v2 or hybrid: BEP 52), info hashes, size,
pieces, trackers and files with their BEP 47 attributes (executable, hidden,
symlink target). Each file has its [index] for 'bittern download --files'
(padding files are not listed and never counted). <torrent> is a path, a file:
URL or an http(s): URL.

Options:
  --json      print JSON instead of text
  -h, --help  show this help

Permissions: --allow-read=<torrent> for a file, --allow-net=HOST for a URL.

Exit codes: 0 shown, 1 failed (unreadable or not a torrent), 2 bad usage.

Examples:
  deno run --allow-read=x.torrent cli.ts info x.torrent
  deno run --allow-net=example.org cli.ts info https://example.org/x.torrent --json`;

/**
 * Runs `bittern info` with `args`.
 *
 * @param args The arguments after `info`.
 * @returns The exit code: 0, 1 on failure, 2 on bad usage.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("info", USAGE, {
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return usageError("info", "expected one torrent", USAGE);
  let torrent: Torrent;
  try {
    torrent = await fetchTorrent(parsed.positionals[0]);
  } catch (error) {
    return reportError("info", error);
  }
  console.log(parsed.values.json ? JSON.stringify(toJson(torrent), null, 2) : toText(torrent));
  return 0;
}

const VERSION_TEXT: Record<string, string> = {
  "1": "v1",
  "2": "v2 only (BEP 52)",
  hybrid: "hybrid (v1 and v2, BEP 52)",
};

function toJson(torrent: Torrent): Record<string, unknown> {
  return {
    name: torrent.name,
    version: torrent.version,
    infoHash: torrent.infoHashHex,
    infoHashV2: torrent.infoHashV2Hex,
    length: torrent.length,
    pieceLength: torrent.pieceLength,
    pieceCount: torrent.pieceCount,
    private: torrent.private,
    multiFile: torrent.multiFile,
    announce: torrent.announce,
    creationDate: torrent.creationDate?.toISOString(),
    createdBy: torrent.createdBy,
    comment: torrent.comment,
    // Indices as --files and `wantedFiles` take them: padding files are never counted.
    files: visibleFiles(torrent).map((file, index) => ({
      index,
      path: file.path,
      length: file.length,
      offset: file.offset,
      executable: file.executable,
      hidden: file.hidden,
      symlinkTarget: file.symlinkTarget,
      piecesRoot: file.piecesRoot ? toHex(file.piecesRoot) : undefined,
    })),
    paddingFiles: torrent.files.length - visibleFiles(torrent).length,
    warnings: torrent.warnings,
  };
}

function toText(torrent: Torrent): string {
  const lines = [
    `name:          ${torrent.name}`,
    `version:       ${VERSION_TEXT[String(torrent.version)]}`,
    `info hash:     ${torrent.infoHashHex}${torrent.version === 2 ? " (v2, truncated)" : ""}`,
    `size:          ${formatBytes(torrent.length)} (${torrent.length} bytes)`,
    `pieces:        ${torrent.pieceCount} x ${formatBytes(torrent.pieceLength)}`,
    `private:       ${torrent.private ? "yes" : "no"}`,
  ];
  if (torrent.infoHashV2Hex) lines.splice(3, 0, `info hash v2:  ${torrent.infoHashV2Hex}`);
  if (torrent.creationDate) lines.push(`created:       ${torrent.creationDate.toISOString()}`);
  if (torrent.createdBy) lines.push(`created by:    ${torrent.createdBy}`);
  if (torrent.comment) lines.push(`comment:       ${torrent.comment}`);
  lines.push(`trackers:${torrent.announce.length === 0 ? "      (none)" : ""}`);
  torrent.announce.forEach((tier, i) => {
    for (const url of tier) lines.push(`  tier ${i + 1}: ${url}`);
  });
  const dataFiles = visibleFiles(torrent);
  lines.push(`files:         ${dataFiles.length} ([index] for download --files)`);
  lines.push(...fileTreeLines(dataFiles));
  for (const warning of torrent.warnings) lines.push(`warning:       ${warning}`);
  return lines.join("\n");
}
