/**
 * Errors of the swarm kit: a bad option, a wait that timed out, bytes that differ.
 */

/**
 * Something about a swarm went wrong: an invalid option, a peer name that does not exist,
 * a leecher whose bytes differ from the payload, a failed clean-up. The message names the
 * peer (e.g. `leecher-3`) and what was expected.
 *
 * @example
 * ```ts
 * import { SwarmError } from "@bittern/bittern/testing";
 *
 * const error = new SwarmError("swarm: no peer named leecher-9");
 * console.log(error.name); // "SwarmError"
 * ```
 */
export class SwarmError extends Error {
  /**
   * Creates the error.
   *
   * @param message What went wrong and where.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SwarmError";
  }
}

/**
 * A swarm wait did not finish in time. The message says which peers were stuck and at what
 * progress, and how the other peers were doing, e.g.
 * `swarm: leecher-3 stuck at 41.2% (2 peers) after 30000 ms; others: leecher-1 100% (3 peers)`.
 *
 * @example
 * ```ts
 * import { createSwarm, SwarmTimeoutError } from "@bittern/bittern/testing";
 *
 * await using swarm = await createSwarm({ seeders: 0, leechers: 1 });
 * await swarm.start();
 * try {
 *   await swarm.allComplete({ timeoutMs: 500 });
 * } catch (error) {
 *   if (error instanceof SwarmTimeoutError) console.log(error.stuck); // ["leecher-0"]
 * }
 * ```
 */
export class SwarmTimeoutError extends SwarmError {
  /** Names of the peers the wait was still waiting on. */
  readonly stuck: readonly string[];
  /** How long the wait lasted, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param message The full description.
   * @param stuck Names of the peers still waited on.
   * @param timeoutMs How long the wait lasted.
   */
  constructor(message: string, stuck: readonly string[], timeoutMs: number) {
    super(message);
    this.name = "SwarmTimeoutError";
    this.stuck = stuck;
    this.timeoutMs = timeoutMs;
  }
}
