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
