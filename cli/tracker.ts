// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * `bittern tracker`: run the small HTTP tracker until interrupted (Ctrl-C).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { TrackerServer } from "../src/tracker/mod.ts";

const USAGE = `Usage: bittern tracker [--port N] [--host ADDRESS] [--interval SECONDS]

Runs an HTTP tracker (announce + scrape) until Ctrl-C.
  --port N            port to listen on (default 6969; 0 picks a free one)
  --host ADDRESS      address to listen on (default 127.0.0.1)
  --interval SECONDS  announce interval sent to clients (default 1800)`;

function parseWhole(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(
      `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
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
  let port: number;
  let hostname: string;
  let interval: number;
  try {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: "string", default: "6969" },
        host: { type: "string", default: "127.0.0.1" },
        interval: { type: "string", default: "1800" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    port = parseWhole(values.port, "port", 0, 65535);
    interval = parseWhole(values.interval, "interval", 1, 86_400);
    hostname = values.host;
  } catch (error) {
    console.error(`bittern tracker: ${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    return 2;
  }
  const server = new TrackerServer({ hostname, port, interval });
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
