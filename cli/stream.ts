// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern stream`: download a torrent and serve its files over HTTP while it downloads. */
import {
  explainPermission,
  PermissionError,
  type Torrent,
  type TorrentSession,
  visibleFiles,
} from "../mod.ts";
import {
  parseCommandArgs,
  parseRateLimits,
  RATE_LIMIT_FLAGS,
  rateLimitUsage,
  usageError,
} from "./args.ts";
import { formatBytes } from "./format.ts";
import { outputMode } from "./progress.ts";
import {
  checkWritable,
  DHT_USAGE,
  ENCRYPTION_USAGE,
  ExitCode,
  follow,
  granted,
  parseNetworkFlags,
  parsePort,
  PRIVATE_PEERS_NOTICE,
  reportFailure,
  resolveSource,
  SESSION_FLAGS,
  withRuntime,
} from "./session_command.ts";

const DEFAULT_HTTP_PORT = 8888;

const USAGE = `Usage: bittern stream <torrent-file|url|magnet> --out DIR [options]

Downloads a torrent into DIR and serves its files over HTTP meanwhile, until
Ctrl-C: GET / lists the files, GET /<index> serves one (Range requests, HEAD),
so a video player can start at once and seek. The pieces a reader waits for
are fetched first; the rest of the torrent follows. Several readers may read
at once. The URL is printed at start.

Options:
  --out DIR            download directory (required)
  --http-port N        HTTP port (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --http-bind ADDR     HTTP address (default 127.0.0.1: this machine only)
  --peer HOST:PORT     connect to this peer too (repeatable)
  --bind ADDR          BitTorrent listening address (default 0.0.0.0)
  --port N             BitTorrent listening port (default 6881; 0 picks a free one)
  --connections-per-ip N
                       connections to or from one IP address (default 1)
${rateLimitUsage(23)}
${ENCRYPTION_USAGE}
${DHT_USAGE}
  --json               one JSON object per event per line
  -h, --help           show this help

Permissions: --allow-net (the torrent's URL, trackers, peers, the listening
address and the HTTP listener), --allow-write=DIR and --allow-read=DIR (the
verified data is read back to serve it); --allow-read=FILE for a local
.torrent file.

Exit codes: 0 stopped by Ctrl-C, 1 failed, 2 bad usage.

Examples:
  deno run --allow-net --allow-read=dl --allow-write=dl cli.ts stream https://example.org/x.torrent --out dl
  deno run --allow-net --allow-read=dl,x.torrent --allow-write=dl cli.ts stream x.torrent --out dl --http-port 0`;

/**
 * Runs `bittern stream` with `args`.
 *
 * @param args The arguments after `stream`.
 * @returns The exit code: 0 after Ctrl-C, 1 failed, 2 bad usage.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("stream", USAGE, {
    args,
    allowPositionals: true,
    options: {
      ...SESSION_FLAGS,
      ...RATE_LIMIT_FLAGS,
      out: { type: "string" },
      "http-port": { type: "string" },
      "http-bind": { type: "string" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const usage = (problem: string) => usageError("stream", problem, USAGE);
  if (positionals.length !== 1) return usage("expected one torrent file or URL, or a magnet link");
  if (!values.out) return usage("--out DIR is required");
  const network = parseNetworkFlags(values);
  if (typeof network === "string") return usage(network);
  const limits = parseRateLimits(values);
  if (typeof limits === "string") return usage(limits);
  const httpPort = parsePort(values["http-port"], DEFAULT_HTTP_PORT);
  if (httpPort === undefined) {
    return usage(`--http-port expects 0..65535, not '${values["http-port"]}'`);
  }
  const httpBind = values["http-bind"] ?? "127.0.0.1";
  if (httpBind === "") return usage("--http-bind expects an address");
  const out = values.out;
  const mode = outputMode(values.json ?? false);

  const source = await resolveSource("stream", positionals[0], mode);
  if (typeof source === "string") return usage(source);
  if (!source) return ExitCode.failed;
  const { torrent } = source;
  // Serving reads the verified data back: without read access there is nothing to serve.
  if (!granted({ name: "read", path: out })) {
    const unreadable = new PermissionError(`streaming from ${out}`, `--allow-read=${out}`);
    return reportFailure("stream", mode, unreadable);
  }
  try {
    await checkWritable(out);
  } catch (error) {
    return reportFailure("stream", mode, error);
  }
  if (torrent?.private && network.peers.length > 0) console.error(PRIVATE_PEERS_NOTICE);
  return await withRuntime(network, async (command) => {
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const session = await command.add(torrent ?? positionals[0], {
        out,
        peers: network.peers,
        ...limits,
        // Keep running (and serving) after the download completes.
        seed: true,
      });
      command.show(session, mode, torrent?.name ?? session.infoHash);
      server = listenHttp(session, httpBind, httpPort);
      const url = `http://${formatHost(httpBind)}:${server.addr.port}/`;
      if (mode === "json") {
        console.log(JSON.stringify({ event: "http", time: new Date().toISOString(), url }));
      } else console.log(`serving ${url} (Ctrl-C to stop)`);
      const outcome = await follow(session, new Promise(() => {}), command.interrupted);
      if (outcome instanceof Error) return reportFailure("stream", mode, outcome, true);
      return ExitCode.ok;
    } catch (error) {
      return reportFailure("stream", mode, error);
    } finally {
      await server?.shutdown();
    }
  });
}

/** Starts the HTTP server; a taken port or a missing permission names the flag to change. */
function listenHttp(
  session: TorrentSession,
  hostname: string,
  port: number,
): Deno.HttpServer<Deno.NetAddr> {
  let known: Torrent | undefined;
  session.metadata.then((torrent) => known = torrent, () => {});
  try {
    return Deno.serve({ hostname, port, onListen: () => {} }, (request) => {
      if (!known) {
        return new Response("fetching the torrent's metadata; try again in a moment\n", {
          status: 503,
          headers: { "retry-after": "2", "content-type": "text/plain; charset=utf-8" },
        });
      }
      const path = new URL(request.url).pathname;
      if (path === "/") return listing(request, session, known);
      const match = /^\/(\d{1,9})$/.exec(path);
      if (!match) return new Response("not found\n", { status: 404 });
      return session.serveFile(request, Number(match[1]));
    });
  } catch (error) {
    const address = `${formatHost(hostname)}:${port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Deno.errors.AddrInUse(
        `cannot serve HTTP on ${address}: the address is already in use ` +
          `(choose another with --http-port N, or --http-port 0 for a free one)`,
        { cause: error },
      );
    }
    throw explainPermission(error, "net", address);
  }
}

/** `GET /`: the files with links, their sizes and how much of each is verified. */
function listing(request: Request, session: TorrentSession, torrent: Torrent): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const verified = session.verified;
  const rows = visibleFiles(torrent).map((file, index) => {
    const first = Math.floor(file.offset / torrent.pieceLength);
    const last = Math.floor((file.offset + Math.max(file.length, 1) - 1) / torrent.pieceLength);
    let done = 0;
    for (let piece = first; piece <= last; piece++) if (verified.get(piece)) done++;
    const percent = file.length === 0 ? 100 : Math.floor(done / (last - first + 1) * 100);
    return `<li><a href="/${index}">${escapeHtml(file.path.join("/"))}</a> ` +
      `${formatBytes(file.length)}, ${percent}%</li>`;
  });
  const title = escapeHtml(torrent.name);
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>
<ol start="0">
${rows.join("\n")}
</ol></body></html>
`;
  const body = new TextEncoder().encode(html);
  return new Response(request.method === "HEAD" ? null : body, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-length": String(body.length),
      "cache-control": "no-store",
    },
  });
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** An address as it goes in a URL (IPv6 in brackets). */
function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
