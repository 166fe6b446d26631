// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Errors as one plain line for people (`bittern info: x.torrent is not a torrent file: …`),
 * and the full chain of causes for `--json`.
 */
import { BencodeError, FetchError, PermissionError, TorrentError } from "../mod.ts";

/** The chain `error`, its `cause`, the cause's cause … (at most 10 deep). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let at = error; at !== undefined && chain.length < 10;) {
    chain.push(at);
    at = at instanceof Error ? at.cause : undefined;
  }
  return chain;
}

function find<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  return causes(error).find((item): item is T => item instanceof type);
}

function torrentProblems(error: TorrentError): string {
  const [first, ...rest] = error.problems;
  const text = `${first.path}: expected ${first.expected}${
    first.found ? `, found ${first.found}` : ""
  }`;
  return rest.length ? `${text} (and ${rest.length} more problems)` : text;
}

/** What went wrong, in one line without nesting; the chain is in {@linkcode errorDetail}. */
export function describeError(error: unknown): string {
  const permission = find(error, PermissionError);
  if (permission) return permission.message;
  if (error instanceof Deno.errors.NotCapable) {
    return `${error.message.replace(/, run again with.*$/, "")} (add the flag it names)`;
  }
  if (error instanceof FetchError) {
    const bencode = find(error, BencodeError);
    if (bencode) {
      const where = bencode.offset >= 0 ? ` at byte ${bencode.offset}` : "";
      return `${error.source} is not a torrent file: bencode error${where} (expected ${bencode.expected})`;
    }
    const invalid = find(error, TorrentError);
    if (invalid) return `${error.source} is not a valid torrent: ${torrentProblems(invalid)}`;
    return error.message;
  }
  if (error instanceof TorrentError) {
    return error.code ? error.message : `invalid torrent: ${torrentProblems(error)}`;
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Every error of the chain as `Name: message`, joined by ` <- ` (for `--json` and logs). */
export function errorDetail(error: unknown): string {
  return causes(error)
    .map((item) => item instanceof Error ? `${item.name}: ${item.message}` : String(item))
    .join(" <- ");
}

/** One line for an error, prefixed by the command: the permission flag to add, or what failed. */
export function explain(command: string, error: unknown): string {
  return `bittern ${command}: ${describeError(error)}`;
}

/** Prints `error` as one line on stderr (see {@linkcode explain}); returns exit code 1. */
export function reportError(command: string, error: unknown): number {
  console.error(explain(command, error));
  return 1;
}
