// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * What `download` and `seed` share: the runtime, the listening port, Ctrl-C
 * handling, checks before announcing and permission-aware messages.
 */
import {
  type DhtOptions,
  type EncryptionPolicy,
  explainPermission,
  fetchTorrent,
  type Magnet,
  MagnetError,
  parseMagnet,
  parsePeerAddress,
  type PeerAddress,
  Runtime,
  type SessionOptions,
  type Torrent,
  type TorrentSession,
} from "../mod.ts";
import { explain } from "./errors.ts";
import { jsonEvent, type OutputMode, render, renderRuntime } from "./progress.ts";

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
  "connections-per-ip": { type: "string" },
  encryption: { type: "string" },
  "no-dht": { type: "boolean" },
  "dht-bootstrap": { type: "string", multiple: true },
  "dht-state": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** `--bind`, `--port`, `--peer`, `--connections-per-ip` and `--encryption`, parsed. */
export interface NetworkFlags {
  readonly hostname: string;
  readonly port: number;
  readonly peers: PeerAddress[];
  readonly connectionsPerIp: number;
  readonly encryption: EncryptionPolicy;
  /** `--no-dht`, `--dht-bootstrap`, `--dht-state`: off, or the DHT's options. */
  readonly dht: false | DhtOptions;
}

/** The DHT lines both commands' usage shows. */
export const DHT_USAGE = `  --no-dht             no DHT (BEP 5); private torrents never use it
  --dht-bootstrap HOST:PORT
                       start the DHT from this node instead of the public routers
                       (repeatable)
  --dht-state FILE     keep the DHT's node list in FILE for fast restarts (needs
                       --allow-read for FILE, --allow-write for its directory)`;

/** The `--encryption` line both commands' usage shows. */
export const ENCRYPTION_USAGE =
  `  --encryption MODE    MSE/PE: prefer (default: try encrypted first, accept both),
                       require (encrypted only, RC4), off (plain only)`;

const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ["prefer", "require", "off"];

/** Parses the network flags; returns what was expected when one is bad. */
export function parseNetworkFlags(
  values: {
    bind?: string;
    port?: string;
    peer?: string[];
    "connections-per-ip"?: string;
    encryption?: string;
    "no-dht"?: boolean;
    "dht-bootstrap"?: string[];
    "dht-state"?: string;
  },
): NetworkFlags | string {
  const encryption = (values.encryption ?? "prefer") as EncryptionPolicy;
  if (!ENCRYPTION_POLICIES.includes(encryption)) {
    return `--encryption expects prefer, require or off, not '${values.encryption}'`;
  }
  const port = parsePort(values.port, 6881);
  if (port === undefined) return `--port expects 0..65535, not '${values.port}'`;
  const perIpText = values["connections-per-ip"];
  const connectionsPerIp = perIpText === undefined ? 1 : Number(perIpText);
  if (!Number.isInteger(connectionsPerIp) || connectionsPerIp < 1 || connectionsPerIp > 1000) {
    return `--connections-per-ip expects 1..1000, not '${perIpText}'`;
  }
  const peers: PeerAddress[] = [];
  for (const text of values.peer ?? []) {
    const peer = parsePeerAddress(text);
    if (!peer) return `--peer expects HOST:PORT or [V6]:PORT, not '${text}'`;
    peers.push(peer);
  }
  const bootstrap: PeerAddress[] = [];
  for (const text of values["dht-bootstrap"] ?? []) {
    const node = parsePeerAddress(text);
    if (!node) return `--dht-bootstrap expects HOST:PORT, not '${text}'`;
    bootstrap.push(node);
  }
  if (values["no-dht"] && (bootstrap.length || values["dht-state"])) {
    return "--no-dht cannot go with --dht-bootstrap or --dht-state";
  }
  const dht: false | DhtOptions = values["no-dht"] ? false : {
    ...bootstrap.length ? { bootstrap } : {},
    ...values["dht-state"] ? { statePath: values["dht-state"] } : {},
  };
  return { hostname: values.bind ?? "0.0.0.0", port, peers, connectionsPerIp, encryption, dht };
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

/** What a command's argument names: a magnet link, or a torrent already fetched. */
export type CommandSource =
  | { readonly magnet: Magnet; readonly torrent?: undefined }
  | { readonly magnet?: undefined; readonly torrent: Torrent };

/**
 * Reads a command's torrent argument: a magnet link is parsed (a bad one
 * returns its problem, for the usage message), anything else is fetched
 * (`undefined` when that failed, already reported).
 */
export async function resolveSource(
  command: string,
  argument: string,
  mode: OutputMode,
): Promise<CommandSource | string | undefined> {
  if (!/^magnet:/i.test(argument)) {
    const torrent = await fetchForCommand(command, argument, mode);
    return torrent && { torrent };
  }
  try {
    return { magnet: parseMagnet(argument) };
  } catch (error) {
    if (error instanceof MagnetError) return error.message;
    throw error;
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
 * Checks, before anything is announced, that `dir` can be written (creating it
 * if needed): a missing `--allow-write` becomes a `PermissionError` naming the
 * flag, a directory the system refuses an error naming it.
 */
export async function checkWritable(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    // A file of our own, created exclusively and removed: nothing there is opened.
    const probe = await Deno.makeTempFile({ dir, prefix: ".bittern-write-check-" });
    await Deno.remove(probe);
  } catch (error) {
    const explained = explainPermission(error, "write", dir);
    if (explained !== error) throw explained;
    throw new Error(`cannot write to ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** The notice for `--peer` on a private torrent (BEP 27: no PEX, no other sources). */
export const PRIVATE_PEERS_NOTICE =
  "notice: private torrent: connecting only to its trackers and the --peer addresses given " +
  "(no PEX or other sources)";

/** What {@linkcode withRuntime} hands a command. */
export interface CommandRuntime {
  /** The runtime, listening on the command's address. */
  readonly runtime: Runtime;
  /** Resolves on the first Ctrl-C (SIGINT or SIGTERM). */
  readonly interrupted: Promise<void>;
  /**
   * Adds a session that does not start yet (so no event is missed), naming the
   * listening address and `--port` when it is taken.
   */
  add(torrent: Torrent | string, options: SessionOptions): Promise<TorrentSession>;
  /**
   * Shows `session`'s events in `mode` until the runtime has closed, so the
   * last tracker announce and the `stopped` event are shown too.
   */
  show(session: TorrentSession, mode: OutputMode, name?: string): void;
}

/**
 * Runs `body` with a runtime; the first Ctrl-C closes it cleanly (stopped
 * announces, storage flushed), a second exits at once.
 */
export async function withRuntime(
  network: NetworkFlags,
  body: (command: CommandRuntime) => Promise<number>,
): Promise<number> {
  const { hostname, port } = network;
  const runtime = new Runtime({
    listen: { hostname, port },
    maxConnectionsPerIp: network.connectionsPerIp,
    encryption: network.encryption,
    dht: network.dht,
  });
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
  const renderers: (() => void)[] = [];
  const command: CommandRuntime = {
    runtime,
    interrupted,
    add: async (torrent, options) => {
      try {
        return await runtime.add(torrent, { ...options, start: false });
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
        const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
        throw new Deno.errors.AddrInUse(
          `cannot listen on ${address}: the address is already in use ` +
            `(choose another port with --port N, or --port 0 for a free one)`,
          { cause: error },
        );
      }
    },
    show: (session, mode, name) => {
      // The runtime's own events once, with the first session shown.
      if (renderers.length === 0) renderers.push(renderRuntime(runtime, mode));
      renderers.push(render(session, mode, name ?? session.torrent.name));
    },
  };
  try {
    return await body(command);
  } finally {
    await runtime.close();
    for (const stop of renderers) stop();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/** Starts `session` (if not running) and waits until `done` settles; returns its outcome or `interrupted`. */
export async function follow(
  session: TorrentSession,
  done: Promise<unknown>,
  interrupted: Promise<void>,
): Promise<"done" | "interrupted" | Error> {
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
  }
}
