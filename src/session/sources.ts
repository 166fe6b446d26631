import type { PeerSource, PeerSourceContext } from "../peers/source.ts";
import type { PeerAddress } from "../util/address.ts";

/**
 * Runs a session's peer sources: iterates each while the session runs,
 * feeding addresses to `add`, and reports a failing source as a warning
 * without stopping the others.
 */
export class SourceRunner {
  #sources: readonly PeerSource[];
  /** The sources a private torrent may use (BEP 27), when that turns out only later (a magnet). */
  readonly #allowedWhenPrivate: ReadonlySet<PeerSource>;
  /** Each running source's own abort, so one can stop while the others run on. */
  readonly #own = new Map<PeerSource, AbortController>();
  #abort: AbortController | undefined;
  #running: Promise<void>[] = [];
  /** The stop in progress, so a second `stop` waits for the first (trackers' `stopped`). */
  #stopping: Promise<void> | undefined;

  /**
   * @param sources The sources, in order.
   * @param allowedWhenPrivate Those kept by {@linkcode SourceRunner.restrictToPrivate}
   * (default all).
   */
  constructor(sources: readonly PeerSource[], allowedWhenPrivate?: Iterable<PeerSource>) {
    this.#sources = sources;
    this.#allowedWhenPrivate = new Set(allowedWhenPrivate ?? sources);
  }

  /** Names of the sources. */
  get names(): string[] {
    return this.#sources.map((source) => source.name);
  }

  /** Starts every source (no-op when running). */
  start(
    context: PeerSourceContext,
    add: (peers: readonly PeerAddress[], source: string) => void,
  ): void {
    if (this.#abort) return;
    const abort = this.#abort = new AbortController();
    this.#running = this.#sources.map(async (source) => {
      const own = new AbortController();
      this.#own.set(source, own);
      const signal = AbortSignal.any([abort.signal, own.signal]);
      try {
        for await (const batch of source.peers(context, signal)) {
          if (signal.aborted) break;
          add(batch, source.name);
        }
      } catch (error) {
        if (!signal.aborted) {
          context.warn(`peer source ${source.name} failed: ${(error as Error).message}`);
        }
      } finally {
        if (this.#own.get(source) === own) this.#own.delete(source);
      }
    });
  }

  /**
   * The torrent turned out private (a magnet link's metadata): stops, now and for good, every
   * source not allowed for a private torrent (BEP 27: the DHT, custom sources).
   *
   * @returns The names of the sources kept.
   */
  restrictToPrivate(): string[] {
    const kept = this.#sources.filter((source) => this.#allowedWhenPrivate.has(source));
    for (const source of this.#sources) {
      if (!kept.includes(source)) this.#own.get(source)?.abort();
    }
    this.#sources = kept;
    return kept.map((source) => source.name);
  }

  /** Tells every source the download completed. */
  completed(): void {
    for (const source of this.#sources) source.completed?.();
  }

  /** Stops every source and waits (bounded) for them to finish (trackers announce `stopped`). */
  stop(timeoutMs = 5000): Promise<void> {
    const abort = this.#abort;
    if (!abort) return this.#stopping ?? Promise.resolve();
    this.#abort = undefined;
    const running = this.#running;
    this.#running = [];
    this.#stopping = this.#finish(abort, running, timeoutMs).finally(() =>
      this.#stopping = undefined
    );
    return this.#stopping;
  }

  async #finish(
    abort: AbortController,
    running: Promise<void>[],
    timeoutMs: number,
  ): Promise<void> {
    abort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(running),
      new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
  }
}
