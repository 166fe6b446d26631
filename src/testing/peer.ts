/**
 * One member of a swarm: its runtime, session, storage and what it has received.
 */
import type { Runtime } from "../session/runtime.ts";
import type { TorrentSession } from "../session/session.ts";
import type { SessionStats } from "../session/events.ts";
import type { Storage } from "../storage/types.ts";
import { SwarmError, SwarmTimeoutError } from "./errors.ts";
import {
  describeMatcher,
  type MessageLog,
  type MessageMatcher,
  type ReceivedMessage,
} from "./recorder.ts";
import { waitWithTimeout } from "./wait.ts";

/**
 * Whether a swarm peer starts with the whole payload (`"seeder"`) or downloads it
 * (`"leecher"`).
 *
 * @example
 * ```ts
 * import type { SwarmRole } from "@bittern/bittern/testing";
 *
 * const role: SwarmRole = "leecher";
 * ```
 */
export type SwarmRole = "seeder" | "leecher";

/**
 * How long a swarm wait may take.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@bittern/bittern/testing";
 *
 * const options: WaitOptions = { timeoutMs: 10_000 };
 * ```
 */
export interface WaitOptions {
  /** Give up after this many milliseconds. Default: the swarm's `timeoutMs` (30 000). */
  readonly timeoutMs?: number;
}

/** What a peer needs from its swarm: defaults and a view of the other peers for errors. */
export interface SwarmPeerContext {
  /** Default wait in milliseconds. */
  readonly timeoutMs: number;
  /** `others: seeder-0 100% (3 peers), ...` for everyone but `except`. */
  describeOthers(except: readonly SwarmPeer[]): string;
}

/** Formats a fraction as a percentage with one decimal, `"41.2%"`, `"100%"`. */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}

/**
 * A seeder or leecher of a swarm: its own {@linkcode Runtime} on 127.0.0.1 with one
 * {@linkcode TorrentSession}, its storage (and temp directory in filesystem mode), and a
 * record of the messages it received. Get them from `swarm.peers` or `swarm.peer(name)`.
 *
 * @example Waiting until a leecher is connected to two peers
 * ```ts
 * import { createSwarm } from "@bittern/bittern/testing";
 *
 * await using swarm = await createSwarm({ seeders: 1, leechers: 2 });
 * await swarm.start();
 * const leecher = swarm.peer("leecher-1");
 * await leecher.seesPeers(2, { timeoutMs: 10_000 });
 * console.log(leecher.name, leecher.port, leecher.session.stats().progress);
 * ```
 */
export class SwarmPeer {
  /** Seeder or leecher. */
  readonly role: SwarmRole;
  /** Index among the peers of its role, from 0. */
  readonly index: number;
  /** `role-index`, e.g. `"leecher-3"`: used in every failure message. */
  readonly name: string;
  /** The peer's directory in filesystem mode (inside the swarm's temp directory). */
  readonly dir: string | undefined;
  /** Where the peer's bytes live. */
  readonly storage: Storage;
  readonly #log: MessageLog;
  readonly #context: SwarmPeerContext;
  #runtime: Runtime | undefined;
  #session: TorrentSession | undefined;

  /**
   * Created by the swarm; not for direct use.
   *
   * @param role Seeder or leecher.
   * @param index Index among its role.
   * @param storage Its storage.
   * @param dir Its directory, in filesystem mode.
   * @param log Where its received messages are recorded.
   * @param context Swarm defaults and the other peers.
   */
  constructor(
    role: SwarmRole,
    index: number,
    storage: Storage,
    dir: string | undefined,
    log: MessageLog,
    context: SwarmPeerContext,
  ) {
    this.role = role;
    this.index = index;
    this.name = `${role}-${index}`;
    this.storage = storage;
    this.dir = dir;
    this.#log = log;
    this.#context = context;
  }

  /** The peer's runtime. Throws before the swarm started. */
  get runtime(): Runtime {
    if (!this.#runtime) throw new SwarmError(`swarm: ${this.name} has not started`);
    return this.#runtime;
  }

  /** The peer's torrent session. Throws before the swarm started. */
  get session(): TorrentSession {
    if (!this.#session) throw new SwarmError(`swarm: ${this.name} has not started`);
    return this.#session;
  }

  /** Whether the peer's session exists (the swarm started it). */
  get started(): boolean {
    return this.#session !== undefined;
  }

  /** The listening port on 127.0.0.1. Throws before the swarm started. */
  get port(): number {
    const port = this.runtime.port;
    if (port === undefined) throw new SwarmError(`swarm: ${this.name} is not listening`);
    return port;
  }

  /** Fraction of the payload verified, 0..1 (0 before start). */
  progress(): number {
    return this.#session?.stats().progress ?? 0;
  }

  /** Connected peers right now (0 before start). */
  peerCount(): number {
    return this.#session?.peers().length ?? 0;
  }

  /** `leecher-3 41.2% (2 peers)`: the peer's state for failure messages. */
  describe(): string {
    return `${this.name} ${this.state()}`;
  }

  /** `41.2% (2 peers)`: progress and connected peers, for failure messages. */
  state(): string {
    const peers = this.peerCount();
    return `${formatPercent(this.progress())} (${peers} peer${peers === 1 ? "" : "s"})`;
  }

  /**
   * Messages received so far, oldest first: every standard message except `piece` (which
   * is only counted) and every extended message, up to the swarm's `messageHistory` limit.
   *
   * @returns The kept messages.
   */
  messages(): readonly ReceivedMessage[] {
    return this.#log.history;
  }

  /**
   * How many messages matching `matcher` this peer received. A bare type or
   * `{ type: "extended", name }` counts every message; a matcher with `from` or `test` counts the
   * kept history.
   *
   * @example
   * ```ts
   * import type { SwarmPeer } from "@bittern/bittern/testing";
   *
   * declare const leecher: SwarmPeer;
   * console.log(leecher.received("piece"), leecher.received({ type: "extended", name: "ut_pex" }));
   * ```
   *
   * @param matcher A message type or matcher.
   * @returns The count.
   */
  received(matcher: MessageMatcher): number {
    return this.#log.count(matcher);
  }

  /**
   * Resolves once this peer is connected to at least `count` peers.
   *
   * @param count Peers wanted.
   * @param options Timeout.
   * @returns Nothing; rejects with a {@linkcode SwarmTimeoutError} naming the peer.
   */
  seesPeers(count: number, options: WaitOptions = {}): Promise<void> {
    const session = this.session;
    const timeoutMs = options.timeoutMs ?? this.#context.timeoutMs;
    return waitWithTimeout<void>(
      timeoutMs,
      (done, fail) => {
        const check = () => {
          if (session.peers().length >= count) done();
        };
        const offs = [
          session.events.on("peer-connected", check),
          this.#onStop(fail, `while waiting to see ${count} peers`),
        ];
        check();
        return () => offs.forEach((off) => off());
      },
      () =>
        this.#timeout(
          `sees ${this.peerCount()} of ${count} peers (${formatPercent(this.progress())})`,
          timeoutMs,
        ),
    );
  }

  /**
   * Resolves with the first message matching `matcher` this peer received: one already
   * kept in the history, or the next to arrive.
   *
   * @example Waiting for an extension's message
   * ```ts
   * import type { SwarmPeer } from "@bittern/bittern/testing";
   *
   * declare const seeder: SwarmPeer;
   * const received = await seeder.messageReceived({ type: "extended", name: "x_hello" }, { timeoutMs: 5000 });
   * if (received.kind === "extended") console.log(new TextDecoder().decode(received.payload));
   * ```
   *
   * @param matcher A message type or matcher.
   * @param options Timeout.
   * @returns The message; rejects with a {@linkcode SwarmTimeoutError} that lists what was
   * received instead.
   */
  messageReceived(
    matcher: MessageMatcher,
    options: WaitOptions = {},
  ): Promise<ReceivedMessage> {
    const wanted = matcher;
    const timeoutMs = options.timeoutMs ?? this.#context.timeoutMs;
    return waitWithTimeout<ReceivedMessage>(
      timeoutMs,
      (done, fail) => {
        const found = this.#log.find(wanted);
        if (found) {
          done(found);
          return () => {};
        }
        return this.#log.wait(wanted, done, fail);
      },
      () =>
        this.#timeout(
          `received no ${describeMatcher(wanted)} message (received: ${this.#log.summary()}; ` +
            `${formatPercent(this.progress())}, ${this.peerCount()} peers)`,
          timeoutMs,
        ),
    );
  }

  /**
   * Resolves when this peer has every piece.
   *
   * @param options Timeout.
   * @returns The session's figures at completion; rejects with a {@linkcode SwarmTimeoutError}
   * naming the peer and its progress, or a {@linkcode SwarmError} when the session failed.
   */
  complete(options: WaitOptions = {}): Promise<SessionStats> {
    const session = this.session;
    const timeoutMs = options.timeoutMs ?? this.#context.timeoutMs;
    return waitWithTimeout<SessionStats>(
      timeoutMs,
      (done, fail) => {
        session.completed.then(done, (error: Error) => fail(this.#failure(error)));
        return () => {};
      },
      () => this.#timeout(`stuck at ${this.state()}`, timeoutMs),
    );
  }

  /**
   * Joins the peer to its runtime and session. Called by the swarm.
   *
   * @param runtime The peer's runtime.
   * @param session Its session.
   */
  attach(runtime: Runtime, session: TorrentSession | undefined): void {
    this.#runtime = runtime;
    this.#session = session;
  }

  /** The session failed: wrap its error with the peer's name. */
  #failure(error: Error): SwarmError {
    return new SwarmError(`swarm: ${this.name} failed: ${error.message}`, { cause: error });
  }

  #onStop(fail: (error: unknown) => void, what: string): () => void {
    return this.session.events.on("stopped", ({ reason }) => {
      fail(new SwarmError(`swarm: ${this.name} stopped (${reason}) ${what}`));
    });
  }

  #timeout(state: string, timeoutMs: number): SwarmTimeoutError {
    return new SwarmTimeoutError(
      `swarm: ${this.name} ${state} after ${timeoutMs} ms; ${this.#context.describeOthers([this])}`,
      [this.name],
      timeoutMs,
    );
  }
}
