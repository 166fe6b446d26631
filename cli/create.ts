// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern create`: makes a `.torrent` from a file or a directory. */
import { createTorrent, explainPermission, toHex, type TorrentFormat, VERSION } from "../mod.ts";
import { parseCommandArgs, usageError } from "./args.ts";
import { reportError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { parseWebSeeds, WEB_SEED_FLAG } from "./web_seed_flag.ts";

const USAGE = `Usage: bittern create <path> -o <out.torrent> [options]

Makes a torrent from a file or a directory (entries in name order, symlinks skipped).

Options:
  -o, --output FILE      where to write the .torrent (required)
  --format FORMAT        v1, v2 (BEP 52) or hybrid (both; each file starts on a piece, after a
                         BEP 47 pad file). Default: hybrid, as libtorrent and qBittorrent make,
                         usable by v1 and v2 clients
  -a, --announce URLS    a tracker tier; repeat for more tiers, commas within a tier
  --web-seed URL         a web seed (BEP 19 url-list): an http(s) URL of the file, or of
                         the directory holding the torrent's folder; repeatable
  --private              set the private flag (BEP 27)
  --piece-length N       bytes per piece, a power of two from 16K to 1G (e.g. 262144, 256K, 1M);
                         default: automatic (about 1750 pieces)
  --comment TEXT         comment
  --name NAME            torrent name: a plain file name, not empty, without '/', '\\', NUL,
                         '.' or '..' (default: the path's base name)
  --created-by TEXT      default: Bittern ${VERSION}
  --date                 record the creation date (off: output depends only on the input)
  -h, --help             show this help

Permissions: --allow-read=<path> and --allow-write=<out.torrent>.

Exit codes: 0 written, 1 failed, 2 bad usage.

Examples:
  deno run --allow-read=photos --allow-write=photos.torrent cli.ts create photos -o photos.torrent
  deno run --allow-read --allow-write cli.ts create big.iso -o big.torrent -a http://t.example/announce`;

/** Hybrid, as libtorrent and qBittorrent default to: v1 and v2 clients can both use it. */
const CLI_DEFAULT_FORMAT: TorrentFormat = "hybrid";

const SIZE = /^(\d+)\s*(k|kib|m|mib)?$/i;

/**
 * Runs `bittern create` with `args`.
 *
 * @param args The arguments after `create`.
 * @returns The exit code: 0, 1 on failure, 2 on bad usage.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("create", USAGE, {
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      format: { type: "string" },
      announce: { type: "string", short: "a", multiple: true },
      ...WEB_SEED_FLAG,
      private: { type: "boolean" },
      "piece-length": { type: "string" },
      comment: { type: "string" },
      name: { type: "string" },
      "created-by": { type: "string" },
      date: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError("create", "expected one path", USAGE);
  if (!values.output) return usageError("create", "missing -o/--output", USAGE);
  const format = values.format ?? CLI_DEFAULT_FORMAT;
  if (!isFormat(format)) {
    return usageError("create", `--format expects v1, v2 or hybrid, not '${format}'`, USAGE);
  }
  let pieceLength: number | undefined;
  if (values["piece-length"] !== undefined) {
    pieceLength = parseSize(values["piece-length"]);
    if (pieceLength === undefined || !validPieceLength(pieceLength)) {
      return usageError(
        "create",
        `--piece-length expects a power of two from 16K to 1G, like 262144, 256K or 1M, ` +
          `not '${values["piece-length"]}'`,
        USAGE,
      );
    }
  }
  if (values.name !== undefined && !validName(values.name)) {
    return usageError(
      "create",
      `--name expects a plain file name (not empty, no '/', '\\', NUL, '.' or '..'), ` +
        `not '${values.name}'`,
      USAGE,
    );
  }
  const webSeeds = parseWebSeeds(values);
  if (typeof webSeeds === "string") return usageError("create", webSeeds, USAGE);
  try {
    const created = await createTorrent(positionals[0], {
      format,
      pieceLength,
      announce: (values.announce ?? []).map((tier) =>
        tier.split(",").map((url) => url.trim()).filter((url) => url !== "")
      ),
      webSeeds,
      private: values.private,
      comment: values.comment,
      name: values.name,
      createdBy: values["created-by"] ?? `Bittern ${VERSION}`,
      creationDate: values.date ? new Date() : undefined,
    });
    try {
      await Deno.writeFile(values.output, created.bytes);
    } catch (error) {
      throw explainPermission(error, "write", values.output);
    }
    console.log(`wrote ${values.output}`);
    const { infoHashes } = created;
    console.log(`name:      ${created.name}`);
    console.log(`format:    ${created.format}`);
    if (infoHashes.v1) console.log(`info hash: ${toHex(infoHashes.v1)}`);
    if (infoHashes.v2) console.log(`v2 hash:   ${toHex(infoHashes.v2)}`);
    console.log(`size:      ${formatBytes(created.length)} in ${created.fileCount} file(s)`);
    for (const url of new Set(webSeeds)) console.log(`web seed:  ${url}`);
    console.log(`pieces:    ${created.pieceCount} x ${formatBytes(created.pieceLength)}`);
    return 0;
  } catch (error) {
    return reportError("create", error);
  }
}

function isFormat(text: string): text is TorrentFormat {
  return text === "v1" || text === "v2" || text === "hybrid";
}

/** A power of two from 16 KiB to 1 GiB, as `createTorrent` accepts. */
function validPieceLength(length: number): boolean {
  return Number.isSafeInteger(length) && length >= 16 * 1024 && length <= 2 ** 30 &&
    (length & (length - 1)) === 0;
}

/** A name `createTorrent` accepts: one plain path segment. */
function validName(name: string): boolean {
  // deno-lint-ignore no-control-regex -- NUL is what is refused
  return name !== "" && name !== "." && name !== ".." && !/[/\\\u0000]/.test(name);
}

function parseSize(text: string): number | undefined {
  const match = text.trim().match(SIZE);
  if (!match) return undefined;
  const unit = (match[2] ?? "").toLowerCase();
  const scale = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
  return Number(match[1]) * scale;
}
