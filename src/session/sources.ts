import type { PeerSource, PeerSourceContext } from "../peers/source.ts";
import type { PeerAddress } from "../util/address.ts";

/**
 * Runs a session's peer sources: iterates each while the session runs,
 * feeding addresses to `add`, and reports a failing source as a warning
 * without stopping the others.
 */
export class SourceRunner {
  readonly #sources: readonly PeerSource[];
  #abort: AbortController | undefined;
  #running: Promise<void>[] = [];
  /** The stop in progress, so a second `stop` waits for the first (trackers' `stopped`). */
  #stopping: Promise<void> | undefined;

  /** @param sources The sources, in order. */
  constructor(sources: readonly PeerSource[]) {
    this.#sources = sources;
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
      try {
        for await (const batch of source.peers(context, abort.signal)) {
          if (abort.signal.aborted) break;
          add(batch, source.name);
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          context.warn(`peer source ${source.name} failed: ${(error as Error).message}`);
        }
      }
    });
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
