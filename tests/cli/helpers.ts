/**
 * Shared set-up for the CLI end-to-end tests: the `bittern` CLI run as a real
 * subprocess with chosen permission flags, and a local swarm (tracker, seeder,
 * an HTTP server for the .torrent) in a temp directory.
 */
import { join } from "node:path";
import {
  createTorrent,
  FileSystemStorage,
  Runtime,
  type Torrent,
  TrackerServer,
} from "../../mod.ts";
import { createPayload, type Payload } from "../../src/testing/mod.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Longest any single CLI run may take before the test fails (the child is killed). */
export const RUN_TIMEOUT_MS = 60_000;

/** What a finished CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The `deno run` arguments for the CLI with exactly `permissions`. */
export function cliArgs(permissions: readonly string[], args: readonly string[]): string[] {
  return ["run", "--config", CONFIG, "--no-prompt", ...permissions, CLI, ...args];
}

/**
 * Runs `bittern <args>` in a child Deno with exactly `permissions` and waits
 * (at most {@linkcode RUN_TIMEOUT_MS}) for it to exit.
 */
export function runCli(
  permissions: readonly string[],
  args: readonly string[],
): Promise<CliResult> {
  return runDeno(cliArgs(permissions, args));
}

/**
 * Runs `deno <args>` (in `cwd`, if given) to its end (at most {@linkcode RUN_TIMEOUT_MS}),
 * collecting its output.
 */
export async function runDeno(args: readonly string[], cwd?: string): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A stack trace line as V8 prints it (`    at foo (file:...)`). */
export const STACK_LINE = /^\s+at /m;

/** Compares two byte arrays without printing megabytes on failure. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return false;
  return true;
}

/** Options for {@linkcode startLocalSwarm}. */
export interface LocalSwarmOptions {
  /** Total payload bytes. Default 256 KiB. */
  readonly size?: number;
  /** Number of files (1: single-file torrent). Default 1. */
  readonly files?: number;
  /** Piece length. Default 16 KiB. */
  readonly pieceLength?: number;
  /** Whether a seeder serves the data. Default true. */
  readonly seeder?: boolean;
}

/**
 * A tracker, a seeder and an HTTP server handing out the .torrent, all on
 * 127.0.0.1, with the data in a temp directory; `await using` cleans up.
 */
export interface LocalSwarm extends AsyncDisposable {
  /** Temp directory holding everything; removed on dispose. */
  readonly dir: string;
  /** The payload the seeder serves. */
  readonly payload: Payload;
  readonly torrent: Torrent;
  /** Path of the .torrent file (under {@linkcode dir}). */
  readonly torrentPath: string;
  /** `http://127.0.0.1:P/x.torrent`. */
  readonly torrentUrl: string;
  /** Directory holding the seeder's copy (the torrent's content root's parent). */
  readonly seedDir: string;
  readonly tracker: TrackerServer;
  /** The seeder's listening port (0 without a seeder). */
  readonly seederPort: number;
  /** The seeder's runtime (idle without a seeder); closing it early is fine. */
  readonly seeder: Runtime;
}

/** Starts a {@linkcode LocalSwarm}; everything started is stopped again if a step fails. */
export async function startLocalSwarm(options: LocalSwarmOptions = {}): Promise<LocalSwarm> {
  const dir = await Deno.makeTempDir({ prefix: "bittern-cli-test-" });
  const tracker = new TrackerServer({ hostname: "127.0.0.1", port: 0, interval: 1 });
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
  });
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  const dispose = async () => {
    await seeder.close();
    await server?.shutdown();
    await tracker.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const payload = createPayload({
      size: options.size ?? 256 * 1024,
      files: options.files ?? 1,
      pieceLength: options.pieceLength ?? 16 * 1024,
      seed: 7,
    });
    const seedDir = join(dir, "seed");
    const multiFile = payload.files.length > 1;
    for (const file of payload.files) {
      const path = join(seedDir, ...(multiFile ? [payload.name] : []), ...file.path);
      await Deno.mkdir(join(path, ".."), { recursive: true });
      await Deno.writeFile(path, file.data);
    }
    await tracker.start();
    const { bytes, torrent } = await createTorrent(join(seedDir, payload.name), {
      announce: [tracker.url],
      pieceLength: payload.pieceLength,
    });
    const torrentPath = join(dir, "x.torrent");
    await Deno.writeFile(torrentPath, bytes);
    const listening = Promise.withResolvers<void>();
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => listening.resolve() },
      (request) =>
        new URL(request.url).pathname === "/x.torrent"
          ? new Response(bytes.slice(), { headers: { "content-type": "application/x-bittorrent" } })
          : new Response("not found", { status: 404 }),
    );
    await listening.promise;
    if (options.seeder ?? true) {
      await seeder.add(torrent, { storage: new FileSystemStorage(seedDir) });
    }
    return {
      dir,
      payload,
      torrent,
      torrentPath,
      torrentUrl: `http://127.0.0.1:${server.addr.port}/x.torrent`,
      seedDir,
      tracker,
      seederPort: seeder.port ?? 0,
      seeder,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Whether `script` (util-linux) is there to give a child a pseudo-terminal. */
export const hasScript = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

/** `arg` quoted for `sh`. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * A CLI child process whose output is read as it comes. With `terminal`, it
 * runs under `script`, so its stdout is a pseudo-terminal (and its stderr is
 * mixed into that output) and {@linkcode CliProcess.typeCtrlC} is a real Ctrl-C.
 */
export class CliProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #output: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  readonly #terminal: boolean;
  #text = "";
  #ended = false;

  constructor(
    permissions: readonly string[],
    args: readonly string[],
    options: { terminal?: boolean } = {},
  ) {
    const deno = cliArgs(permissions, args);
    this.#terminal = options.terminal ?? false;
    this.#child = this.#terminal
      ? new Deno.Command("/usr/bin/script", {
        args: ["-qfec", [Deno.execPath(), ...deno].map(shellQuote).join(" "), "/dev/null"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
      : new Deno.Command(Deno.execPath(), {
        args: deno,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    this.#output = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Every complete stdout line read so far. */
  get lines(): string[] {
    return this.#text.split("\n").slice(0, -1);
  }

  /** Everything read from stdout so far. */
  get text(): string {
    return this.#text;
  }

  /** Reads stdout until `found` returns a value; rejects on end of output or after `timeoutMs`. */
  async #readUntil<T>(found: () => T | undefined, timeoutMs: number): Promise<T> {
    const reading = async () => {
      // Bounded by the deadline below: the read is abandoned when it fires.
      for (;;) {
        const result = found();
        if (result !== undefined) return result;
        const { done, value } = await this.#output.read();
        if (done) throw new Error(`output ended before the expected text:\n${this.#text}`);
        this.#text += value;
      }
    };
    return await withTimeout(reading(), timeoutMs, () => `expected text not seen:\n${this.#text}`);
  }

  /** Waits for a whole stdout line that passes `test`; returns it. */
  waitForLine(test: (line: string) => boolean, timeoutMs = RUN_TIMEOUT_MS): Promise<string> {
    return this.#readUntil(() => this.lines.find(test), timeoutMs);
  }

  /** Waits until stdout so far matches `pattern`; returns the match. */
  waitForText(pattern: RegExp, timeoutMs = RUN_TIMEOUT_MS): Promise<RegExpMatchArray> {
    return this.#readUntil(() => this.#text.match(pattern) ?? undefined, timeoutMs);
  }

  /** Sends `signal` to the child. */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Types Ctrl-C on the child's terminal (only with `terminal`). */
  async typeCtrlC(): Promise<void> {
    const writer = this.#child.stdin.getWriter();
    try {
      await writer.write(new Uint8Array([3]));
    } finally {
      writer.releaseLock();
    }
  }

  /** Waits (at most `timeoutMs`) for the exit; returns the code, all stdout and stderr. */
  async exit(timeoutMs = RUN_TIMEOUT_MS): Promise<CliResult> {
    const status = await withTimeout(this.#child.status, timeoutMs, () => "still running");
    for (let reads = 0; reads < 100_000 && !this.#ended; reads++) {
      const { done, value } = await this.#output.read();
      if (done) this.#ended = true;
      else this.#text += value;
    }
    return { code: status.code, stdout: this.#text, stderr: await this.#stderr };
  }

  /** Kills the child if it still runs and releases its streams. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#output.cancel().catch(() => {});
    if (this.#terminal) await this.#child.stdin.close().catch(() => {});
    await this.#child.status;
    await this.#stderr.catch(() => "");
  }
}

/** `promise`, or a rejection naming `what()` once `timeoutMs` pass. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: () => string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`after ${timeoutMs} ms: ${what()}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `bittern stream` of `torrentPath` (under `dir`) into `out`, told of
 * one peer on 127.0.0.1 at `peerPort`, listening on free ports on 127.0.0.1,
 * without the DHT, with JSON events (the first names the HTTP URL).
 */
export function streamCli(
  dir: string,
  torrentPath: string,
  out: string,
  peerPort: number,
): CliProcess {
  return new CliProcess(
    ["--allow-net=127.0.0.1", `--allow-read=${dir}`, `--allow-write=${out}`],
    [
      "stream",
      torrentPath,
      "--out",
      out,
      "--peer",
      `127.0.0.1:${peerPort}`,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--no-dht",
      "--http-port",
      "0",
      "--json",
    ],
  );
}
