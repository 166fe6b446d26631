/**
 * A small typed event emitter: library code emits, applications listen.
 */

/** A listener for one event type. */
export type Listener<T> = (event: T) => void;

/**
 * Emits typed events to listeners. A listener that throws does not stop the
 * others or the emitter; its error is handed to `onListenerError`.
 *
 * @example
 * ```ts
 * import { Emitter } from "@bittern/bittern";
 *
 * const emitter = new Emitter<{ tick: { n: number } }>();
 * const off = emitter.on("tick", ({ n }) => console.log(n));
 * emitter.emit("tick", { n: 1 });
 * off();
 * ```
 */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #any = new Set<Listener<{ type: keyof Events; event: unknown }>>();

  /**
   * Calls `listener` for every `type` event until the returned function is called.
   *
   * @param type Event name.
   * @param listener Called with each event.
   * @returns A function that removes the listener.
   */
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, set = new Set());
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Calls `listener` for every event of every type (for logs and JSON output).
   *
   * @param listener Called with `{ type, event }`.
   * @returns A function that removes the listener.
   */
  onAny(listener: Listener<{ type: keyof Events; event: unknown }>): () => void {
    this.#any.add(listener);
    return () => this.#any.delete(listener);
  }

  /**
   * Resolves with the next `type` event that satisfies `test`, or rejects
   * when `signal` aborts.
   *
   * @param type Event name.
   * @param test Which event to wait for (default: any).
   * @param signal Gives up when aborted.
   * @returns The event.
   */
  once<K extends keyof Events>(
    type: K,
    test: (event: Events[K]) => boolean = () => true,
    signal?: AbortSignal,
  ): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const abort = () => {
        off();
        reject(signal?.reason);
      };
      const off = this.on(type, (event) => {
        if (!test(event)) return;
        off();
        signal?.removeEventListener("abort", abort);
        resolve(event);
      });
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /**
   * Delivers `event` to the listeners of `type`.
   *
   * @param type Event name.
   * @param event The event.
   */
  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.#listeners.get(type);
    if (set) {
      for (const listener of [...set]) {
        try {
          (listener as Listener<Events[K]>)(event);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
    for (const listener of [...this.#any]) {
      try {
        listener({ type, event });
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Where errors thrown by listeners go; by default they are re-thrown asynchronously. */
  onListenerError: (error: unknown) => void = (error) => {
    queueMicrotask(() => {
      throw error;
    });
  };
}
