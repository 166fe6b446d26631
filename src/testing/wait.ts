/**
 * Bounded waits: every swarm wait ends, by its condition or by its timeout, and leaves no
 * timer or listener behind.
 */

/**
 * Waits until `subscribe` calls `done` (or `fail`), or `timeoutMs` passes, in which case
 * the promise rejects with `onTimeout()`. `subscribe` returns its clean-up, which always runs.
 */
export function waitWithTimeout<T>(
  timeoutMs: number,
  subscribe: (done: (value: T) => void, fail: (error: unknown) => void) => () => void,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup?.();
      settle();
    };
    const timer = setTimeout(() => {
      finish(() => {
        try {
          reject(onTimeout());
        } catch (error) {
          reject(error);
        }
      });
    }, timeoutMs);
    try {
      cleanup = subscribe(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    } catch (error) {
      finish(() => reject(error));
    }
    // `subscribe` may have finished synchronously, before `cleanup` was assigned.
    if (settled) cleanup?.();
  });
}
