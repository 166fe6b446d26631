// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * The `bittern` command line: parses flags and calls the library.
 *
 * Run with the permissions a command needs, for example:
 * `deno run --allow-net --allow-write cli.ts download <url> --out dl/`.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A sub-command: gets its own arguments, returns the exit code. */
type Command = (args: string[]) => Promise<number>;

/**
 * The commands, each loaded only when run: a download does not pay for loading `create` or
 * `tracker`, and `--help` loads no command at all. The imports are literal so `deno compile`
 * and `deno check` still see every command.
 */
const COMMANDS: Record<string, { load: () => Promise<{ main: Command }>; summary: string }> = {
  download: {
    load: () => import("./cli/download.ts"),
    summary: "download a torrent (file or URL)",
  },
  seed: { load: () => import("./cli/seed.ts"), summary: "serve a torrent's data from a directory" },
  stream: {
    load: () => import("./cli/stream.ts"),
    summary: "download and serve the files over HTTP meanwhile",
  },
  create: {
    load: () => import("./cli/create.ts"),
    summary: "make a .torrent from a file or directory",
  },
  info: { load: () => import("./cli/info.ts"), summary: "show what a torrent holds" },
  verify: {
    load: () => import("./cli/verify.ts"),
    summary: "check data on disk against a torrent",
  },
  tracker: { load: () => import("./cli/tracker.ts"), summary: "run a small HTTP tracker" },
  version: { load: () => import("./cli/version.ts"), summary: "print the version" },
};

const HELP = `bittern: a BitTorrent client for Deno

Usage: bittern <command> [options]

Commands:
${
  Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`).join(
    "\n",
  )
}

Options:
  -h, --help     show this help
  -V, --version  print the version

Run 'bittern <command> --help' for a command's options, permissions and exit codes.

Examples:
  deno run --allow-net --allow-write=dl cli.ts download https://example.org/x.torrent --out dl
  deno run --allow-read=x.torrent cli.ts info x.torrent`;

/** Runs the CLI with `args` and returns the process exit code. */
export async function runCli(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help") {
    console.log(HELP);
    return 0;
  }
  if (name.startsWith("-")) {
    const { values } = parseArgs({
      args: [name],
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" } },
      strict: false,
    });
    if (values.version) return await (await COMMANDS.version.load()).main([]);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`bittern: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await command.load()).main(rest);
  } catch (error) {
    // A failure no command expected still gets one line, not a stack trace. Loaded here
    // since errors.ts brings in the library, which `--help` does not need.
    const { explain } = await import("./cli/errors.ts");
    console.error(explain(name, error));
    return 1;
  }
}

/** Longest the process lingers after a command returns, finishing work it left (ms). */
const EXIT_GRACE_MS = 5000;

if (import.meta.main) {
  // Not Deno.exit at once: work a command leaves behind (a `stopped` announce, bounded by
  // its own timeout) gets to finish; the unref'd timer only fires if something lingers.
  // Once nothing is left (`unload`), exit there: the runtime's own teardown of the loaded
  // library took ~10 ms more per run.
  globalThis.addEventListener("unload", () => Deno.exit());
  Deno.exitCode = await runCli(Deno.args);
  Deno.unrefTimer(setTimeout(() => Deno.exit(), EXIT_GRACE_MS));
}
