import type { BencodeDict } from "../bencode/mod.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { Bitfield } from "../util/bitfield.ts";
import type { PeerAddress } from "../tracker/types.ts";
import type { Message, MessageType } from "../wire/messages.ts";

export type { PeerAddress };

/** What an agent sees of, and can do with, one connected peer. */
export interface AgentPeer extends PeerAddress {
  /** `host:port` (`[v6]:port` for IPv6), unique among a session's peers. */
  readonly key: string;
  /** The remote peer id from the handshake. */
  readonly peerId: Uint8Array;
  /** Client name decoded from the peer id (BEP 20), e.g. `libtorrent 2.0.8`. */
  readonly client: string;
  /** Whether the peer connected to us. */
  readonly incoming: boolean;
  /** Pieces the peer has (from its bitfield and haves). */
  readonly pieces: Bitfield;
  /** Whether we are choking the peer. */
  readonly amChoking: boolean;
  /** Whether we told the peer we are interested. */
  readonly amInterested: boolean;
  /** Whether the peer is choking us. */
  readonly peerChoking: boolean;
  /** Whether the peer is interested in us. */
  readonly peerInterested: boolean;
  /** Bytes per second received from the peer (recent). */
  readonly downloadRate: number;
  /** Bytes per second sent to the peer (recent). */
  readonly uploadRate: number;
  /** The peer's BEP 10 extended handshake, once received. */
  readonly extendedHandshake: BencodeDict | undefined;
  /** Whether the peer announced extended message `name` in its handshake's `m`. */
  supports(name: string): boolean;
  /** Sends a standard message (queued; the connection applies back-pressure). */
  send(message: Message): void;
  /**
   * Sends extended message `name` with `payload`. Returns `false` (sending
   * nothing) when the peer did not announce that extension.
   */
  sendExtended(name: string, payload: Uint8Array): boolean;
  /** Closes the connection, giving a reason for the events. */
  close(reason: string): void;
}

/** What an agent sees of, and can do with, its torrent session. */
export interface AgentSession {
  /** The torrent. */
  readonly torrent: Torrent;
  /** Pieces we have verified. */
  readonly verified: Bitfield;
  /** Our listening port, when listening. */
  readonly port: number | undefined;
  /** The connected peers. */
  peers(): Iterable<AgentPeer>;
  /** Offers addresses to connect to (e.g. learned through peer exchange). */
  addPeers(addresses: readonly PeerAddress[], source: string): void;
}

/** The message interface whose `type` includes `T` (e.g. `"cancel"` gives `BlockRequestMessage`). */
export type MessageOf<T extends MessageType> = Message extends infer M
  ? M extends { readonly type: infer U } ? T extends U ? M : never : never
  : never;

/** Handlers for standard messages, by message type. */
export type MessageHandlers = {
  readonly [T in MessageType]?: (peer: AgentPeer, message: MessageOf<T>) => void;
};

/**
 * A messaging agent: behaviour made of consuming and producing messages,
 * per peer, for standard and extended messages alike. The session's own
 * behaviours (piece exchange, interest, requests, uploads, peer exchange)
 * are agents too.
 *
 * An agent instance belongs to one session; keep per-peer state in a
 * `WeakMap<AgentPeer, ...>`.
 *
 * @example An agent that counts `have` messages per peer
 * ```ts
 * import type { AgentPeer, MessagingAgent } from "@bittern/bittern";
 *
 * const haves = new WeakMap<AgentPeer, number>();
 * const counter: MessagingAgent = {
 *   name: "have-counter",
 *   consumes: {
 *     have: (peer) => haves.set(peer, (haves.get(peer) ?? 0) + 1),
 *   },
 * };
 * ```
 */
export interface MessagingAgent {
  /** A short name, for errors and logs. */
  readonly name: string;
  /**
   * Extended messages (BEP 10) this agent speaks, by name: each is announced
   * in our extended handshake's `m` and routed to {@linkcode MessagingAgent.consumesExtended}.
   */
  readonly extensions?: readonly string[];
  /** Called once when the agent joins a session. */
  attach?(session: AgentSession): void;
  /**
   * The BitTorrent handshake with a peer completed; its extended handshake
   * may still be on its way. Only what must be the first message (the
   * bitfield) belongs here; most agents want {@linkcode MessagingAgent.connected}.
   */
  opened?(peer: AgentPeer): void;
  /**
   * A peer finished its handshakes: the extended handshake is in (when the
   * peer supports BEP 10), so {@linkcode AgentPeer.supports} answers.
   */
  connected?(peer: AgentPeer): void;
  /** Handlers for standard messages. */
  readonly consumes?: MessageHandlers;
  /** Handlers for extended messages, by extension name. */
  readonly consumesExtended?: Readonly<
    Record<string, (peer: AgentPeer, payload: Uint8Array) => void>
  >;
  /** The peer's extended handshake arrived. */
  extendedHandshakeReceived?(peer: AgentPeer, handshake: BencodeDict): void;
  /** Called every tick (about once a second) and when the peer's send queue drains. */
  produce?(peer: AgentPeer): void;
  /** Called about once a second for the whole session. */
  tick?(session: AgentSession): void;
  /** The peer is gone. */
  disconnected?(peer: AgentPeer, reason: string): void;
  /** The session is stopping. */
  detach?(): void;
}
