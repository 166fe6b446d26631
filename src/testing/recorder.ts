/**
 * The message recorder the kit adds to every swarm peer: counts every message received by
 * type (extended ones by name), keeps a bounded history, and wakes waiters.
 */
import type { AgentPeer, MessageOf, MessagingAgent } from "../agents/agent.ts";
import { toHex } from "../util/bytes.ts";
import type { Message, MessageType } from "../wire/messages.ts";

/**
 * A message a swarm peer received. `from` is the sending swarm peer's name (`"seeder-0"`),
 * or its address when it is not part of the swarm. Payloads are copies, safe to keep.
 *
 * @example
 * ```ts
 * import type { ReceivedMessage } from "@bittern/bittern/testing";
 *
 * declare const received: ReceivedMessage;
 * if (received.kind === "extended") console.log(received.name, received.payload.length);
 * else console.log(received.message.type, "from", received.from);
 * ```
 */
export type ReceivedMessage =
  | {
    /** A standard (BEP 3) message. */
    readonly kind: "standard";
    /** Who sent it. */
    readonly from: string;
    /** The message (a `piece` message is never kept, only counted). */
    readonly message: Message;
  }
  | {
    /** An extended (BEP 10) message. */
    readonly kind: "extended";
    /** Who sent it. */
    readonly from: string;
    /** The extension name, e.g. `"ut_pex"`. */
    readonly name: string;
    /** The payload after the extended message id. */
    readonly payload: Uint8Array;
  };

/**
 * Which standard messages to wait for or count: a type, who sent it, a test.
 *
 * @example
 * ```ts
 * import type { StandardMessageMatcher } from "@bittern/bittern/testing";
 *
 * const lastPiece: StandardMessageMatcher<"have"> = {
 *   type: "have",
 *   from: "seeder-0",
 *   test: (message) => message.index === 15,
 * };
 * ```
 */
export interface StandardMessageMatcher<T extends StandardMessageType = StandardMessageType> {
  /** The message type, e.g. `"have"`. */
  readonly type: T;
  /** Only messages from this swarm peer (by name). */
  readonly from?: string;
  /**
   * Only messages passing this test. For `piece` messages, which the history does not keep,
   * the test sees only messages arriving while waiting.
   */
  readonly test?: (message: MessageOf<T>) => boolean;
}

/**
 * Which extended messages to wait for or count: an extension name, who sent it, a test.
 *
 * @example
 * ```ts
 * import type { ExtendedMessageMatcher } from "@bittern/bittern/testing";
 *
 * const hello: ExtendedMessageMatcher = {
 *   type: "extended",
 *   name: "x_hello",
 *   test: (payload) => new TextDecoder().decode(payload) === "hello",
 * };
 * ```
 */
export interface ExtendedMessageMatcher {
  /** Extended (BEP 10) messages. */
  readonly type: "extended";
  /** The extension name, as in the BEP 10 handshake's `m` (e.g. `"ut_pex"`). */
  readonly name: string;
  /** Only messages from this swarm peer (by name). */
  readonly from?: string;
  /** Only payloads passing this test. */
  readonly test?: (payload: Uint8Array) => boolean;
}

/**
 * A message type, or a matcher for standard or extended messages. A matcher's `test` gets
 * the message typed by its `type` (e.g. `HaveMessage` for `"have"`).
 *
 * @example
 * ```ts
 * import type { MessageMatcher } from "@bittern/bittern/testing";
 *
 * const matchers: MessageMatcher[] = [
 *   "bitfield",
 *   { type: "have", test: (message) => message.index === 0 },
 *   { type: "extended", name: "ut_pex" },
 * ];
 * ```
 */
export type MessageMatcher =
  | StandardMessageType
  | { [T in StandardMessageType]: StandardMessageMatcher<T> }[StandardMessageType]
  | ExtendedMessageMatcher;

/**
 * The types of standard messages: every wire message type but `extended` (extended messages
 * are matched by extension name).
 *
 * @example
 * ```ts
 * import type { StandardMessageType } from "@bittern/bittern/testing";
 *
 * const type: StandardMessageType = "have";
 * ```
 */
export type StandardMessageType = Exclude<MessageType, "extended">;

/** Every standard type an agent can consume (`extended` ones arrive by name instead). */
const STANDARD_TYPES: readonly StandardMessageType[] = [
  "keep-alive",
  "choke",
  "unchoke",
  "interested",
  "not-interested",
  "have",
  "bitfield",
  "request",
  "piece",
  "cancel",
  "port",
  "have-all",
  "have-none",
  "suggest-piece",
  "reject-request",
  "allowed-fast",
  "unknown",
];

interface Waiter {
  readonly matcher: MessageMatcher;
  readonly resolve: (received: ReceivedMessage) => void;
  readonly reject: (error: unknown) => void;
}

/** Describes a matcher for messages and counts, e.g. `have from seeder-0` or `x_hello`. */
export function describeMatcher(matcher: MessageMatcher): string {
  if (typeof matcher === "string") return matcher;
  const what = matcher.type === "extended" ? matcher.name : matcher.type;
  const test = matcher.test ? " passing the test" : "";
  return `${what}${test}${matcher.from ? ` from ${matcher.from}` : ""}`;
}

/** Whether `received` is what `matcher` asks for. */
function matches(matcher: MessageMatcher, received: ReceivedMessage): boolean {
  if (typeof matcher === "string") {
    return received.kind === "standard" && received.message.type === matcher;
  }
  if (matcher.from !== undefined && matcher.from !== received.from) return false;
  if (matcher.type === "extended") {
    return received.kind === "extended" && received.name === matcher.name &&
      (!matcher.test || matcher.test(received.payload));
  }
  if (received.kind !== "standard" || received.message.type !== matcher.type) return false;
  const test = matcher.test as ((message: Message) => boolean) | undefined;
  return !test || test(received.message);
}

/** A copy of `message` that does not point into the connection's read buffer. */
function detached(message: Message): Message {
  switch (message.type) {
    case "bitfield":
      return { ...message, bitfield: message.bitfield.slice() };
    case "unknown":
      return { ...message, payload: message.payload.slice() };
    default:
      return message;
  }
}

/**
 * Records what one swarm peer receives. `nameOf` turns a remote peer id (hex) into a swarm
 * peer name.
 */
export class MessageLog {
  readonly #counts = new Map<string, number>();
  readonly #history: ReceivedMessage[] = [];
  readonly #historyLimit: number;
  readonly #waiters = new Set<Waiter>();
  readonly #senders = new WeakMap<AgentPeer, string>();
  readonly #nameOf: (peerIdHex: string) => string | undefined;

  constructor(historyLimit: number, nameOf: (peerIdHex: string) => string | undefined) {
    this.#historyLimit = historyLimit;
    this.#nameOf = nameOf;
  }

  /** Received messages kept so far, oldest first (at most the history limit). */
  get history(): readonly ReceivedMessage[] {
    const extra = this.#history.length - this.#historyLimit;
    return extra > 0 ? this.#history.slice(extra) : this.#history;
  }

  /** An agent that feeds this log; it must see the extension names the peer speaks. */
  agent(extensionNames: Iterable<string>): MessagingAgent {
    const consumes: Record<string, (peer: AgentPeer, message: Message) => void> = {};
    for (const type of STANDARD_TYPES) {
      consumes[type] = (peer, message) => this.#standard(peer, message);
    }
    const consumesExtended: Record<string, (peer: AgentPeer, payload: Uint8Array) => void> = {};
    for (const name of extensionNames) {
      consumesExtended[name] = (peer, payload) => this.#extended(peer, name, payload);
    }
    return { name: "swarm-recorder", consumes, consumesExtended };
  }

  /** How many messages matched `matcher`: exact for a bare type or extension name. */
  count(matcher: MessageMatcher): number {
    if (typeof matcher === "string") return this.#counts.get(matcher) ?? 0;
    if (!matcher.from && !matcher.test) {
      const key = matcher.type === "extended" ? `ext:${matcher.name}` : matcher.type;
      return this.#counts.get(key) ?? 0;
    }
    return this.history.filter((received) => matches(matcher, received)).length;
  }

  /** The earliest kept message matching `matcher`, if any. */
  find(matcher: MessageMatcher): ReceivedMessage | undefined {
    return this.history.find((received) => matches(matcher, received));
  }

  /**
   * Calls `resolve` with the next message matching `matcher` (or `reject` with what the
   * matcher's test threw); returns a cancel function.
   */
  wait(
    matcher: MessageMatcher,
    resolve: (received: ReceivedMessage) => void,
    reject: (error: unknown) => void,
  ): () => void {
    const waiter = { matcher, resolve, reject };
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }

  /** Sorted `type×count` pairs, for failure messages. */
  summary(): string {
    const parts = [...this.#counts].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([type, count]) => `${type}×${count}`);
    return parts.length ? parts.join(", ") : "nothing";
  }

  #sender(peer: AgentPeer): string {
    let name = this.#senders.get(peer);
    if (name === undefined) {
      name = this.#nameOf(toHex(peer.peerId)) ?? peer.key;
      this.#senders.set(peer, name);
    }
    return name;
  }

  #standard(peer: AgentPeer, message: Message): void {
    this.#counts.set(message.type, (this.#counts.get(message.type) ?? 0) + 1);
    // Piece blocks are views into the read buffer and large: count them, match them live.
    if (message.type === "piece") {
      if (this.#waiters.size) this.#wake({ kind: "standard", from: this.#sender(peer), message });
      return;
    }
    this.#keep({ kind: "standard", from: this.#sender(peer), message: detached(message) });
  }

  #extended(peer: AgentPeer, name: string, payload: Uint8Array): void {
    const key = `ext:${name}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#keep({ kind: "extended", from: this.#sender(peer), name, payload: payload.slice() });
  }

  #keep(received: ReceivedMessage): void {
    if (this.#historyLimit > 0) {
      // Trim in batches: amortised O(1) per message, at most twice the limit held.
      if (this.#history.length >= 2 * this.#historyLimit) {
        this.#history.splice(0, this.#history.length - this.#historyLimit);
      }
      this.#history.push(received);
    }
    if (this.#waiters.size) this.#wake(received);
  }

  #wake(received: ReceivedMessage): void {
    for (const waiter of [...this.#waiters]) {
      try {
        if (!matches(waiter.matcher, received)) continue;
      } catch (error) {
        // A throwing test fails its wait, not the connection that delivered the message.
        this.#waiters.delete(waiter);
        waiter.reject(error);
        continue;
      }
      this.#waiters.delete(waiter);
      waiter.resolve(received);
    }
  }
}
