// deno-lint-ignore-file no-console -- command-line output is this file's job
/** Flag parsing shared by the commands: `--help`, and bad usage as exit code 2. */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Prints a flag problem and the usage on stderr; returns exit code 2. */
export function usageError(command: string, problem: string, usage: string): number {
  console.error(`bittern ${command}: ${problem}\n\n${usage}`);
  return 2;
}

/**
 * Parses a command's flags; prints the usage for `--help` (exit 0) or a bad
 * flag (exit 2) and returns the exit code instead of the flags.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(command, (error as Error).message, usage);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}

/** Binary multipliers of rate suffixes: `K` 1024, `M` 1024², `G` 1024³. */
const RATE_UNITS: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a rate in bytes per second: a number with an optional binary
 * suffix, `8M` (8 MiB/s), `512K`, `1.5G`, `65536`; `0` means unlimited.
 * Returns `undefined` for anything else.
 */
export function parseRate(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.round(Number(match[1]) * RATE_UNITS[match[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `--download-limit` and `--upload-limit`, for a command's `parseArgs` options. */
export const RATE_LIMIT_FLAGS = {
  "download-limit": { type: "string" },
  "upload-limit": { type: "string" },
} as const;

/**
 * The usage lines of {@linkcode RATE_LIMIT_FLAGS}, descriptions starting at
 * `column` (on the next line when the flag is longer, as other long flags are).
 */
export function rateLimitUsage(column: number): string {
  const indent = " ".repeat(column);
  const option = (flag: string, lines: string[]) => {
    const head = `  ${flag}`;
    const first = head.length < column
      ? head.padEnd(column) + lines[0]
      : `${head}\n${indent}${lines[0]}`;
    return [first, ...lines.slice(1).map((line) => indent + line)].join("\n");
  };
  return [
    option("--download-limit RATE", [
      "receive at most RATE bytes/s of piece data: 8M, 512K, 1G",
      "(binary suffixes) or plain bytes; 0: unlimited (default)",
    ]),
    option("--upload-limit RATE", ["send at most RATE bytes/s of piece data, likewise"]),
  ].join("\n");
}

/** Parses {@linkcode RATE_LIMIT_FLAGS}; returns what was expected when one is bad. */
export function parseRateLimits(
  values: { "download-limit"?: string; "upload-limit"?: string },
): { downloadLimit?: number; uploadLimit?: number } | string {
  const limits: { downloadLimit?: number; uploadLimit?: number } = {};
  for (
    const [flag, key] of [["download-limit", "downloadLimit"], [
      "upload-limit",
      "uploadLimit",
    ]] as const
  ) {
    const text = values[flag];
    if (text === undefined) continue;
    const rate = parseRate(text);
    if (rate === undefined) {
      return `--${flag} expects bytes per second like 8M, 512K or 65536, not '${text}'`;
    }
    limits[key] = rate;
  }
  return limits;
}
