import { explainPermission } from "../util/permissions.ts";
import { FetchError } from "./errors.ts";
import type { MetainfoFetcher } from "./fetcher.ts";
import { DEFAULT_MAX_METAINFO_BYTES, readLimited, tooLarge } from "./limits.ts";

/**
 * Options for {@linkcode FileFetcher}.
 *
 * @example
 * ```ts
 * import { FileFetcher } from "@bittern/bittern";
 *
 * const fetcher = new FileFetcher({ maxBytes: 4 * 1024 * 1024 });
 * ```
 */
export interface FileFetcherOptions {
  /** Largest file accepted. Default 16 MiB. */
  maxBytes?: number;
}

/** A URL scheme such as `http:` (two letters at least, so `C:\x` stays a path). */
const URL_SCHEME = /^[a-z][a-z0-9+.-]+:/i;
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Fetches metainfo from a local path or a `file:` URL. Needs only
 * `--allow-read` for that path; without it, fails with a PermissionError
 * naming the flag.
 *
 * @example
 * ```ts
 * import { FileFetcher } from "@bittern/bittern";
 *
 * const fetcher = new FileFetcher({ maxBytes: 1 << 20 });
 * const bytes = await fetcher.fetch("./x.torrent", AbortSignal.timeout(5000));
 * ```
 */
export class FileFetcher implements MetainfoFetcher {
  /** `file`. */
  readonly name = "file";
  readonly #maxBytes: number;

  /**
   * Creates a file fetcher.
   *
   * @param options Size limit.
   */
  constructor(options: FileFetcherOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_METAINFO_BYTES;
  }

  /**
   * Whether `source` is a `file:` URL or has no URL scheme (a path).
   *
   * @param source A path or URL.
   * @returns Whether this fetcher handles it.
   */
  canFetch(source: string): boolean {
    return source.toLowerCase().startsWith("file:") || !URL_SCHEME.test(source);
  }

  /**
   * Reads the file, at most `maxBytes`.
   *
   * @param source A path or `file:` URL.
   * @param signal Aborts the read.
   * @returns The file contents.
   */
  async fetch(source: string, signal: AbortSignal): Promise<Uint8Array> {
    const path = toPath(source);
    signal.throwIfAborted();
    let opened: Deno.FsFile;
    try {
      opened = await Deno.open(path, { read: true });
    } catch (error) {
      const explained = explainPermission(error, "read", path);
      if (explained !== error) throw explained;
      const reason = error instanceof Error ? error.message : String(error);
      throw new FetchError(source, `cannot open: ${reason}`, { cause: error });
    }
    using file = opened;
    const { size, isFile } = await file.stat();
    if (!isFile) throw new FetchError(source, "not a regular file");
    if (size > this.#maxBytes) throw tooLarge(source, this.#maxBytes);
    return await readLimited(chunks(file, signal), source, this.#maxBytes);
  }
}

/** The file's bytes in chunks, checking `signal` before each read. */
async function* chunks(file: Deno.FsFile, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  // Bounded by the caller's size limit: it stops pulling once past it.
  for (;;) {
    signal.throwIfAborted();
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    const count = await file.read(buffer);
    if (count === null) return;
    yield buffer.subarray(0, count);
  }
}

function toPath(source: string): string {
  if (!source.toLowerCase().startsWith("file:")) return source;
  try {
    return decodeURIComponent(new URL(source).pathname);
  } catch (error) {
    throw new FetchError(source, "a valid file: URL", { cause: error });
  }
}
