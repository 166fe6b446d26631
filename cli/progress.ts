// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Renders a session's events: a live status line on a terminal, a progress
 * line every few seconds otherwise, or one JSON object per event (`--json`).
 */
import {
  type Runtime,
  type SessionEvents,
  type SessionStats,
  type TorrentSession,
  WebSeedError,
} from "../mod.ts";
import { describeError, errorDetail } from "./errors.ts";
import { formatBytes, formatDuration } from "./format.ts";

/** How events are shown. */
export type OutputMode = "tty" | "lines" | "json";

/** Picks the mode: JSON when asked, a live line on a terminal, else periodic lines. */
export function outputMode(json: boolean): OutputMode {
  if (json) return "json";
  return Deno.stdout.isTerminal() ? "tty" : "lines";
}

/** One status line: percent, bytes, rates, peers, ETA. */
export function statusLine(name: string, stats: SessionStats): string {
  const percent = (stats.progress * 100).toFixed(1).padStart(5);
  return `${name}  ${percent}%  ${formatBytes(stats.verifiedBytes)}/${
    formatBytes(stats.wantedBytes)
  }` +
    `  down ${formatBytes(stats.downloadRate)}/s  up ${formatBytes(stats.uploadRate)}/s` +
    `  peers ${stats.peers}  ETA ${formatDuration(stats.eta)}`;
}

/**
 * Events written once in JSON mode: one per piece is more noise than signal, but the first
 * verified piece is a milestone (time to first piece).
 */
const FIRST_ONLY: ReadonlySet<string> = new Set(["piece-verified"]);

/**
 * The JSON form of an event: `{ "event": type, "time": ISO-8601, ...fields }`.
 * Peer events are `{ "event": "peer", "action": "connected" | "disconnected" | "failed" | "banned" }`,
 * tracker events `{ "event": "tracker", "action": "started" | "announce" | ... }`, errors
 * `{ "event": "error", "name", "message" (one plain line), "detail" (the chain of causes) }`.
 */
export function jsonEvent<K extends keyof SessionEvents>(type: K, event: SessionEvents[K]): string {
  const fields: Record<string, unknown> = { event: type, time: new Date().toISOString() };
  switch (type) {
    case "tracker": {
      const { event: action, ...rest } = event as SessionEvents["tracker"];
      Object.assign(fields, { action }, rest);
      break;
    }
    case "peer-connected":
    case "peer-disconnected":
    case "peer-failed":
    case "peer-banned":
      fields.event = "peer";
      fields.action = type.slice("peer-".length);
      Object.assign(fields, event);
      break;
    case "web-seed-failed": {
      const { url, error, retryInMs } = event as SessionEvents["web-seed-failed"];
      Object.assign(fields, { url, name: error.name, message: describeError(error), retryInMs });
      break;
    }
    case "error": {
      const { error } = event as SessionEvents["error"];
      Object.assign(fields, {
        name: error.name,
        message: describeError(error),
        detail: errorDetail(error),
      });
      break;
    }
    case "metadata": {
      // The torrent, not its bytes.
      const { torrent } = event as SessionEvents["metadata"];
      Object.assign(fields, {
        infoHash: torrent.infoHashHex,
        name: torrent.name,
        length: torrent.length,
        pieceCount: torrent.pieceCount,
        pieceLength: torrent.pieceLength,
        files: torrent.files.filter((file) => !file.padding).length,
        private: torrent.private,
      });
      break;
    }
    default:
      Object.assign(fields, event);
  }
  return JSON.stringify(fields);
}

const encoder = new TextEncoder();
const CLEAR_LINE = "\r\x1b[2K";

/**
 * Shows `session`'s events in `mode` until the returned function is called.
 *
 * @param session The session.
 * @param mode How to show events.
 * @param name Display name.
 * @returns Stops rendering (and ends a live line with a newline).
 */
export function render(session: TorrentSession, mode: OutputMode, name: string): () => void {
  if (mode === "json") {
    const written = new Set<string>();
    return session.events.onAny(({ type, event }) => {
      if (FIRST_ONLY.has(type)) {
        if (written.has(type)) return;
        written.add(type);
      }
      console.log(jsonEvent(type, event as SessionEvents[typeof type]));
    });
  }
  let lastLine = "";
  let lastPrinted = 0;
  let title = name;
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  const log = (message: string) => {
    if (mode === "tty") write(`${CLEAR_LINE}${message}\n${lastLine}`);
    else console.log(message);
  };
  const show = (line: string) => {
    lastLine = line;
    if (mode === "tty") write(`${CLEAR_LINE}${lastLine}`);
    else if (Date.now() - lastPrinted >= 5000) {
      lastPrinted = Date.now();
      console.log(lastLine);
    }
  };
  const offs = [
    session.events.on("progress", (stats) => show(statusLine(title, stats))),
    session.events.on(
      "metadata-progress",
      ({ peers, stage }) =>
        show(
          `${title}  fetching ${stage === "piece layers" ? stage : "metadata"} (${peers} peers)`,
        ),
    ),
    session.events.on("metadata", ({ torrent }) => {
      title = torrent.name;
      log(
        `metadata received: ${torrent.name}, ${formatBytes(torrent.length)} in ` +
          `${torrent.pieceCount} pieces`,
      );
    }),
    session.events.on(
      "piece-failed",
      ({ index, peers }) =>
        log(`piece ${index} failed its hash check (from ${peers.join(", ") || "?"})`),
    ),
    session.events.on("peer-banned", ({ address, reason }) => log(`banned ${address}: ${reason}`)),
    session.events.on(
      "peer-failed",
      ({ address, reason }) => log(`could not connect to ${address}: ${reason}`),
    ),
    session.events.on("stalled", ({ reason }) => log(`stalled: ${reason}`)),
    session.events.on("web-seed-failed", ({ url, error, retryInMs }) => {
      const what = error instanceof WebSeedError
        ? error.message
        : `web seed ${url}: ${error.message}`;
      const next = retryInMs === undefined
        ? "given up"
        : `retrying in ${formatDuration(retryInMs / 1000)}`;
      log(`${what} (${next})`);
    }),
    session.events.on("tracker", ({ url, event, error, peers }) => {
      if (error) log(`tracker ${url}: ${error}`);
      else if (mode === "lines") log(`tracker ${url}: ${event}, ${peers ?? 0} peers`);
    }),
    session.events.on("warning", ({ message }) => log(`warning: ${message}`)),
  ];
  return () => {
    for (const off of offs) off();
    if (mode === "tty" && lastLine) write("\n");
  };
}

/**
 * Shows the runtime's own events (an incoming connection that failed its handshake) in `mode`
 * until the returned function is called: one line each, or in JSON mode
 * `{ "event": "peer", "action": "incoming-failed", "address", "reason" }`.
 *
 * @param runtime The runtime.
 * @param mode How to show events.
 * @returns Stops rendering.
 */
export function renderRuntime(runtime: Runtime, mode: OutputMode): () => void {
  return runtime.events.on("incoming-failed", ({ address, reason }) => {
    if (mode === "json") {
      const time = new Date().toISOString();
      console.log(
        JSON.stringify({ event: "peer", time, action: "incoming-failed", address, reason }),
      );
    } else if (mode === "tty") {
      // The status line comes back with the next progress event.
      Deno.stdout.writeSync(encoder.encode(`${CLEAR_LINE}incoming ${address} failed: ${reason}\n`));
    } else {
      console.log(`incoming ${address} failed: ${reason}`);
    }
  });
}
