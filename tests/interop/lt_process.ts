/**
 * Runs tests/interop/lt_peer.py (a libtorrent peer) as a child process and
 * waits on the JSON events it prints.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTorrent, type Torrent } from "../../mod.ts";
import type { FixturePayload } from "./fixture.ts";

/** Whether the Debian libtorrent bindings are importable by /usr/bin/python3. */
export async function hasLibtorrent(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import libtorrent"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const CREATE_HELPER = fileURLToPath(new URL("./lt_create_helper.py", import.meta.url));

/**
 * Writes `payload` under `dir/<name>/` and has libtorrent make a `format` torrent of it with
 * `pieceSize`-byte pieces (lt_create_helper.py `make`), saved as `dir/<format>.torrent`.
 */
export async function libtorrentTorrent(
  dir: string,
  payload: FixturePayload,
  format: "v2" | "hybrid",
  pieceSize: number,
): Promise<{ path: string; torrent: Torrent }> {
  for (const file of payload.files) {
    const path = join(dir, payload.name, ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  const path = join(dir, `${format}.torrent`);
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      CREATE_HELPER,
      "make",
      "--path",
      join(dir, payload.name),
      "--out",
      path,
      "--piece-size",
      String(pieceSize),
      "--format",
      format,
    ],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, `lt_create_helper.py failed: ${new TextDecoder().decode(out.stderr)}`);
  const torrent = parseTorrent(await Deno.readFile(path));
  assert.equal(torrent.version, format === "v2" ? 2 : "hybrid");
  return { path, torrent };
}

/** One event line of lt_peer.py. */
export interface LtEvent {
  event: string;
  [key: string]: unknown;
}

const SCRIPT = fileURLToPath(new URL("./lt_peer.py", import.meta.url));

/** A running libtorrent peer. */
export class LtPeer {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events: LtEvent[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;
  readonly #pump: Promise<void>;
  readonly #stderr: Promise<string>;
  /** The listening port, after {@linkcode LtPeer.start}. */
  port = 0;

  private constructor(args: string[]) {
    this.#child = new Deno.Command("/usr/bin/python3", {
      args: [SCRIPT, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#pump = this.#read();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Starts `lt_peer.py` with `args` and waits until it listens. */
  static async start(args: string[], timeoutMs = 20_000): Promise<LtPeer> {
    const peer = new LtPeer(args);
    try {
      const listening = await peer.waitFor((event) => event.event === "listening", timeoutMs);
      peer.port = listening.port as number;
    } catch (error) {
      await peer.close();
      throw error;
    }
    return peer;
  }

  /**
   * Starts a libtorrent leecher of `torrent` (a .torrent file's path, or a magnet link) into
   * `outDir`, told of one peer on 127.0.0.1 at `peerPort`; `extra` adds `lt_peer.py` flags.
   */
  static leech(
    torrent: string,
    outDir: string,
    peerPort: number | undefined,
    extra: readonly string[] = [],
  ): Promise<LtPeer> {
    if (peerPort === undefined) throw new Error("the peer to leech from is not listening");
    return LtPeer.start([
      "leech",
      torrent.startsWith("magnet:") ? "--magnet" : "--torrent",
      torrent,
      "--out",
      outDir,
      "--peer",
      `127.0.0.1:${peerPort}`,
      ...extra,
    ]);
  }

  /** libtorrent DHT-only nodes (no torrent), each joined to all the ones before it. */
  static async dhtMesh(count: number): Promise<LtPeer[]> {
    const mesh: LtPeer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        mesh.push(
          await LtPeer.start([
            "dht-node",
            ...mesh.flatMap((node) => ["--dht-node", `127.0.0.1:${node.port}`]),
          ]),
        );
      }
    } catch (error) {
      await Promise.all(mesh.map((node) => node.close()));
      throw error;
    }
    return mesh;
  }

  async #read(): Promise<void> {
    const lines = this.#child.stdout.pipeThrough(new TextDecoderStream());
    let buffer = "";
    for await (const chunk of lines) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) this.#events.push(JSON.parse(line));
      }
      this.#wake();
    }
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves with the first event (past or future) matching `test`, or rejects after `timeoutMs`. */
  async waitFor(test: (event: LtEvent) => boolean, timeoutMs: number): Promise<LtEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#events.find(test);
      if (found) return found;
      if (this.#ended) {
        throw new Error(`libtorrent peer exited before the event: ${await this.#stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const last = this.#events.at(-1);
        throw new Error(`libtorrent peer: timed out; last event ${JSON.stringify(last)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Sends a command line (`connect HOST:PORT`, `peers`). */
  async command(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Stops the peer and waits for it to exit. */
  async close(): Promise<void> {
    try {
      await this.#stdin.write(new TextEncoder().encode("quit\n"));
      await this.#stdin.close();
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#pump;
    await this.#stderr;
  }
}
