// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * What `download` and `seed` share: the runtime, the listening port, Ctrl-C
 * handling and permission-aware messages.
 */
import {
  fetchTorrent,
  parsePeerAddress,
  type PeerAddress,
  PermissionError,
  Runtime,
  type Torrent,
  type TorrentSession,
} from "../mod.ts";
import { jsonEvent, type OutputMode, render } from "./progress.ts";

/** Exit codes of the session commands. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const;

/** Whether Deno already granted `permission` (never prompts). */
export function granted(permission: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(permission).state === "granted";
}

/** Parses `--port`: 0..65535. */
export function parsePort(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** The flags `download` and `seed` share, for their `parseArgs` options. */
export const SESSION_FLAGS = {
  port: { type: "string" },
  bind: { type: "string" },
  peer: { type: "string", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** `--bind`, `--port` and `--peer`, parsed. */
export interface NetworkFlags {
  readonly hostname: string;
  readonly port: number;
  readonly peers: PeerAddress[];
}

/** Parses `--bind`, `--port` and `--peer`; returns what was expected when one is bad. */
export function parseNetworkFlags(
  values: { bind?: string; port?: string; peer?: string[] },
): NetworkFlags | string {
  const port = parsePort(values.port, 6881);
  if (port === undefined) return `--port expects 0..65535, not '${values.port}'`;
  const peers: PeerAddress[] = [];
  for (const text of values.peer ?? []) {
    const peer = parsePeerAddress(text);
    if (!peer) return `--peer expects HOST:PORT or [V6]:PORT, not '${text}'`;
    peers.push(peer);
  }
  return { hostname: values.bind ?? "0.0.0.0", port, peers };
}

/** Fetches the torrent a command was given; reports why and returns undefined when it cannot. */
export async function fetchForCommand(
  command: string,
  source: string,
  mode: OutputMode,
): Promise<Torrent | undefined> {
  try {
    return await fetchTorrent(source);
  } catch (error) {
    reportFailure(command, mode, error);
    return undefined;
  }
}

/**
 * Reports a failure: one line on stderr and, in JSON mode, an `error` event on
 * stdout (unless the session already emitted it); returns exit code 1.
 */
export function reportFailure(
  command: string,
  mode: OutputMode,
  error: unknown,
  emitted = false,
): number {
  console.error(explain(command, error));
  if (mode === "json" && !emitted) {
    const asError = error instanceof Error ? error : new Error(String(error));
    console.log(jsonEvent("error", { error: asError }));
  }
  return ExitCode.failed;
}

/**
 * Runs `body` with a runtime; the first Ctrl-C closes it cleanly (stopped
 * announces, storage flushed), a second exits at once.
 */
export async function withRuntime(
  hostname: string,
  port: number,
  body: (runtime: Runtime, interrupted: Promise<void>) => Promise<number>,
): Promise<number> {
  const runtime = new Runtime({ listen: { hostname, port } });
  let interrupts = 0;
  let resolveInterrupted!: () => void;
  const interrupted = new Promise<void>((resolve) => resolveInterrupted = resolve);
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) Deno.exit(ExitCode.interrupted);
    console.error("\nstopping (Ctrl-C again to quit at once)");
    resolveInterrupted();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    return await body(runtime, interrupted);
  } finally {
    await runtime.close();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/** Starts `session` (if not running) and shows its events until `done` settles; returns its outcome or `interrupted`. */
export async function follow(
  session: TorrentSession,
  mode: OutputMode,
  done: Promise<unknown>,
  interrupted: Promise<void>,
): Promise<"done" | "interrupted" | Error> {
  const stop = render(session, mode, session.torrent.name);
  // Started only now, so the renderer sees the `started` event.
  session.start();
  const failed = new AbortController();
  try {
    return await Promise.race([
      done.then(() => "done" as const, (error: Error) => error),
      interrupted.then(() => "interrupted" as const),
      // A session that fails says so in an `error` event (and stops).
      session.events.once("error", undefined, failed.signal).then(
        ({ error }) => error,
        () => "done" as const,
      ),
    ]);
  } finally {
    failed.abort();
    stop();
  }
}

/** One line for an error: the permission flag to add, or the error itself. */
export function explain(command: string, error: unknown): string {
  if (error instanceof PermissionError) return `bittern ${command}: ${error.message}`;
  const cause = error instanceof Error && error.cause instanceof PermissionError
    ? error.cause
    : undefined;
  if (cause) return `bittern ${command}: ${cause.message}`;
  if (error instanceof Deno.errors.NotCapable) {
    return `bittern ${command}: ${error.message.replace(/, run again with.*$/, "")}` +
      ` (add the flag it names)`;
  }
  return `bittern ${command}: ${
    error instanceof Error ? `${error.name}: ${error.message}` : error
  }`;
}
