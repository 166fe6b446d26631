// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * `bittern tracker`: run the small HTTP (and, with `--udp-port`, UDP) tracker until
 * interrupted (Ctrl-C).
 *
 * @module
 */
import { TrackerServer } from "../mod.ts";
import { parseCommandArgs, usageError } from "./args.ts";

const USAGE = `Usage: bittern tracker [options]

Runs an HTTP tracker (announce + scrape) until Ctrl-C; with --udp-port, a UDP
tracker (BEP 15) too, over the same swarms.

Options:
  --port N            port to listen on (default 6969; 0 picks a free one)
  --udp-port N        also answer UDP announces and scrapes on this port (0: a free one)
  --bind ADDR         address to listen on (default 127.0.0.1; --host is the same)
  --interval SECONDS  announce interval sent to clients (default 1800)
  -h, --help          show this help

Permissions: --allow-net=ADDR:PORT (e.g. --allow-net=0.0.0.0:6969).

Exit codes: 0 stopped by Ctrl-C, 1 cannot listen, 2 bad usage.

Examples:
  deno run --allow-net=127.0.0.1:6969 cli.ts tracker
  deno run --allow-net=0.0.0.0:6969 cli.ts tracker --bind 0.0.0.0 --interval 600`;

/** A whole number from `min` to `max`, or a message saying what was expected. */
function parseWhole(text: string, name: string, min: number, max: number): number | string {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    return `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`;
  }
  return value;
}

/**
 * Runs the tracker until SIGINT (or SIGTERM), then shuts it down.
 *
 * @param args Command-line arguments after `tracker`.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { main } from "./cli/tracker.ts";
 *
 * Deno.exit(await main(["--port", "6969"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("tracker", USAGE, {
    args,
    options: {
      port: { type: "string", default: "6969" },
      "udp-port": { type: "string" },
      bind: { type: "string" },
      host: { type: "string" },
      interval: { type: "string", default: "1800" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const port = parseWhole(values.port, "port", 0, 65535);
  if (typeof port === "string") return usageError("tracker", port, USAGE);
  const interval = parseWhole(values.interval, "interval", 1, 86_400);
  if (typeof interval === "string") return usageError("tracker", interval, USAGE);
  const udpText = values["udp-port"];
  const udpPort = udpText === undefined ? undefined : parseWhole(udpText, "udp-port", 0, 65535);
  if (typeof udpPort === "string") return usageError("tracker", udpPort, USAGE);
  const hostname = values.bind ?? values.host ?? "127.0.0.1";
  const server = new TrackerServer({ hostname, port, interval, udpPort });
  try {
    await server.start();
  } catch (error) {
    console.error(
      `bittern tracker: cannot listen on ${hostname}:${port}: ${
        error instanceof Error ? error.message : error
      }`,
    );
    return 1;
  }
  const { promise: interrupted, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, resolve);
  console.log(`Tracker listening: ${server.url}`);
  if (udpPort !== undefined) console.log(`Tracker listening: ${server.udpUrl}`);
  try {
    await interrupted;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, resolve);
    await server.close();
  }
  console.log(`Tracker stopped after ${server.announceCount} announces.`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
