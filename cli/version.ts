// deno-lint-ignore-file no-console -- command-line output is this file's job
/** `bittern version`: prints the version. */
import { VERSION } from "../mod.ts";
import { parseCommandArgs } from "./args.ts";

const USAGE = `Usage: bittern version

Prints the version (also: bittern --version, bittern -V).

Options:
  -h, --help  show this help

Permissions: none.

Exit codes: 0 printed, 2 bad usage.

Examples:
  deno run cli.ts version`;

/**
 * Runs `bittern version` with `args`.
 *
 * @param args The arguments after `version`.
 * @returns The exit code: 0, or 2 on bad usage.
 */
export function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("version", USAGE, {
    args,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (typeof parsed === "number") return Promise.resolve(parsed);
  console.log(`bittern ${VERSION}`);
  return Promise.resolve(0);
}
