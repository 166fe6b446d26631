/**
 * Runs another BitTorrent client (aria2c, transmission-cli) as a child process, keeps the
 * tail of what it prints, and waits, bounded, for its output or its exit.
 */

/** Most output kept per process, in characters: enough for a failure message. */
const KEEP_CHARS = 64 * 1024;

/** A running client process. */
export class ClientProcess {
  readonly #child: Deno.ChildProcess;
  readonly #name: string;
  #output = "";
  #waiters: (() => void)[] = [];
  readonly #pumps: Promise<void>;
  #exit: Deno.CommandStatus | undefined;

  /**
   * Starts `command` with `args`, stdin closed.
   *
   * @param name Short name for messages (e.g. `"aria2c"`).
   */
  constructor(name: string, command: string, args: string[], options: { cwd?: string } = {}) {
    this.#name = name;
    this.#child = new Deno.Command(command, {
      args,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = Promise.all([this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)])
      .then(() => {});
    this.#child.status.then((status) => {
      this.#exit = status;
      this.#wake();
    });
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The last `KEEP_CHARS` characters it printed (stdout and stderr interleaved). */
  get output(): string {
    return this.#output;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#output = (this.#output + text).slice(-KEEP_CHARS);
      this.#wake();
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `check` returns a value (re-checked on new output and on exit), or `ms`. */
  async #until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.#name}: timed out after ${ms} ms waiting for ${what}; ` +
            `output tail:\n${this.#output.slice(-2000)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Resolves when its output matches `pattern`; rejects if it exits first or after `ms`. */
  waitForOutput(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    return this.#until(
      () => {
        const match = this.#output.match(pattern);
        if (match) return match;
        if (this.#exit) {
          throw new Error(
            `${this.#name} exited with ${this.#exit.code} before printing ` +
              `${pattern}; output tail:\n${this.#output.slice(-2000)}`,
          );
        }
      },
      ms,
      `${pattern}`,
    );
  }

  /** Resolves with its exit status, or rejects after `ms`. */
  waitForExit(ms: number): Promise<Deno.CommandStatus> {
    return this.#until(() => this.#exit, ms, "its exit");
  }

  /** Kills it (SIGTERM, then SIGKILL after 5 s) and waits until its output is drained. */
  async close(): Promise<void> {
    if (!this.#exit) {
      try {
        this.#child.kill("SIGTERM");
      } catch { /* exited meanwhile */ }
      try {
        await this.waitForExit(5000);
      } catch {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }
    }
    await this.#child.status;
    await this.#pumps;
  }
}
