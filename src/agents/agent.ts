import type { BencodeDict } from "../bencode/mod.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { PeerAddress } from "../util/address.ts";
import type { BandwidthLimiter } from "../util/bandwidth.ts";
import type { Bitfield } from "../util/bitfield.ts";
import type { Message, MessageType } from "../wire/messages.ts";

export type { PeerAddress };

/**
 * A block of a piece: what a `request` asks for and a `piece` answers.
 *
 * @example
 * ```ts
 * import type { BlockRef } from "@bittern/bittern";
 *
 * const block: BlockRef = { index: 3, begin: 16384, length: 16384 };
 * ```
 */
export interface BlockRef {
  /** Piece index. */
  readonly index: number;
  /** Offset inside the piece. */
  readonly begin: number;
  /** Length in bytes. */
  readonly length: number;
}

/**
 * What an agent sees of, and can do with, one connected peer.
 *
 * The peer owns the protocol state: it applies every standard message before
 * agents see it (a `have` sets the bit in {@linkcode AgentPeer.pieces}, an
 * `unchoke` clears {@linkcode AgentPeer.peerChoking}, a `piece` settles the
 * request it answers), and the methods here change our side of it. Agents
 * never write this state directly.
 *
 * Messages handed to agents, and any byte views in them (a `piece` block, an
 * extended payload), are valid only during the handler call: copy what you
 * keep. {@linkcode AgentPeer.extendedHandshake} is a copy and stays valid.
 */
export interface AgentPeer extends PeerAddress {
  /** `host:port` (`[v6]:port` for IPv6), unique among a session's peers. */
  readonly key: string;
  /** The remote peer id from the handshake. */
  readonly peerId: Uint8Array;
  /** Client name decoded from the peer id (BEP 20), e.g. `libtorrent 2.0.8`. */
  readonly client: string;
  /** Whether the peer connected to us. */
  readonly incoming: boolean;
  /**
   * The port the peer accepts connections on: the port we dialled, or `p`
   * from its extended handshake; `undefined` for an incoming peer that did not say.
   */
  readonly listenPort: number | undefined;
  /** Pieces the peer has (from its bitfield and haves). A live view: do not modify. */
  readonly pieces: Bitfield;
  /** Whether we are choking the peer. */
  readonly amChoking: boolean;
  /** Whether we told the peer we are interested. */
  readonly amInterested: boolean;
  /** Whether the peer is choking us. */
  readonly peerChoking: boolean;
  /** Whether the peer is interested in us. */
  readonly peerInterested: boolean;
  /** Bytes per second of requested blocks received from the peer (recent). */
  readonly downloadRate: number;
  /** Bytes per second sent to the peer (recent). */
  readonly uploadRate: number;
  /** The peer's BEP 10 extended handshake, once received (a copy: stays valid). */
  readonly extendedHandshake: BencodeDict | undefined;
  /** How many of our requests the peer has not answered yet. */
  readonly outstanding: number;
  /** Most requests to keep in flight: the peer's `reqq`, capped by the session's limit. */
  readonly maxOutstanding: number;
  /**
   * Whether the peer sits on our requests: some are outstanding and no
   * requested block arrived for the session's `requestTimeoutMs`.
   */
  readonly snubbed: boolean;
  /** How many of the peer's requests wait for an answer from us. */
  readonly peerRequests: number;
  /** Bytes queued to the peer that its socket has not taken yet. */
  readonly queuedBytes: number;
  /** Whether the connection is closed. */
  readonly closed: boolean;
  /**
   * Whether the fast extension (BEP 6) is on: both handshakes set its bit.
   * Then every request gets a piece or a `reject-request` both ways, a choke
   * no longer voids our requests, and the members below come into play.
   */
  readonly fast: boolean;
  /**
   * Whether the connection speaks BitTorrent v2 (BEP 52), so hash requests may
   * be exchanged: it was made under the torrent's truncated v2 info hash (any
   * v2-only torrent's connection, a hybrid's v2 swarm), or under a hybrid's v1
   * hash with the v2 bit in both handshakes (BEP 52's upgrade; the runtime sets
   * the bit only for torrents with a v2 info hash). Absent means no.
   */
  readonly v2?: boolean;
  /**
   * The 20-byte info hash the connection was made under (a hybrid's v1 hash or its truncated
   * v2 hash); absent (a web seed) means the torrent's `infoHash`.
   */
  readonly infoHash?: Uint8Array;
  /** Pieces the peer lets us request while it chokes us (its `allowed-fast`; in range, bounded). */
  readonly allowedFast: ReadonlySet<number>;
  /** Pieces we let the peer request while we choke it ({@linkcode AgentPeer.allowFast}). */
  readonly grantedFast: ReadonlySet<number>;
  /** Pieces the peer suggested (`suggest-piece`), latest last; in range, bounded. A hint. */
  readonly suggested: readonly number[];
  /** Whether the peer announced extended message `name` in its handshake's `m`. */
  supports(name: string): boolean;
  /**
   * Chokes the peer. Its queued requests are dropped (BEP 3); with the fast
   * extension they are rejected instead, but for pieces in {@linkcode AgentPeer.grantedFast},
   * which stay queued to be served.
   */
  choke(): void;
  /** Unchokes the peer. */
  unchoke(): void;
  /** Tells the peer whether we are interested (sends only on change). */
  setInterested(interested: boolean): void;
  /**
   * Requests a block. Returns `false` (sending nothing) while the peer
   * chokes us (unless the piece is in {@linkcode AgentPeer.allowedFast}), when
   * the peer lacks the piece or the block is already requested.
   */
  request(block: BlockRef): boolean;
  /** Whether we requested the block at `index`/`begin` and it has not arrived. */
  requested(index: number, begin: number): boolean;
  /** Our unanswered requests, oldest first. */
  outstandingRequests(): Iterable<BlockRef>;
  /** Withdraws a request (sends `cancel`); a block that still arrives is not held against the peer. */
  cancel(block: BlockRef): void;
  /** Takes the oldest of the peer's requests to answer, or `undefined`. */
  nextPeerRequest(): BlockRef | undefined;
  /**
   * Says a request taken with {@linkcode AgentPeer.nextPeerRequest} will not
   * be served: a `reject-request` with the fast extension, nothing without.
   */
  reject(block: BlockRef): void;
  /**
   * Lets the peer request piece `index` while we choke it (sends
   * `allowed-fast`; fast extension only, once per piece, bounded).
   */
  allowFast(index: number): void;
  /**
   * Sends a standard message. State-changing messages (`choke`, `unchoke`,
   * `interested`, `not-interested`, `request`, `cancel`) are better sent with
   * the methods above; sent here they update the state the same way.
   */
  send(message: Message): void;
  /**
   * Resolves when at most `lowWaterMark` bytes (default 0: everything) queued
   * to the peer wait for its socket; rejects when the connection closes first.
   */
  flushed(lowWaterMark?: number): Promise<void>;
  /**
   * Sends extended message `name` with `payload`. Returns `false` (sending
   * nothing) when the peer did not announce that extension.
   */
  sendExtended(name: string, payload: Uint8Array): boolean;
  /** Counts `bytes` of payload sent to the peer (for rates and choking). */
  countUpload(bytes: number): void;
  /** Closes the connection, giving a reason for the events. */
  close(reason: string): void;
}

/**
 * What {@linkcode AgentSession.writeBlock} did with a block.
 *
 * - `stored`: written; its piece is not complete yet.
 * - `verified` / `failed`: it completed its piece, which passed / failed the hash check.
 * - `duplicate`: the block was already there (nothing written).
 */
export type BlockWriteStatus = "stored" | "verified" | "failed" | "duplicate";

/** What an agent sees of, and can do with, its torrent session. */
export interface AgentSession {
  /** The torrent. */
  readonly torrent: Torrent;
  /** Pieces we have verified. A live view: do not modify. */
  readonly verified: Bitfield;
  /** Whether every wanted piece is verified. */
  readonly complete: boolean;
  /** Whether verified pieces can be read back and served (not in write-only mode). */
  readonly canServe: boolean;
  /** Our listening port, when listening. */
  readonly port: number | undefined;
  /** Whether piece `index` is wanted and not yet verified. */
  needs(index: number): boolean;
  /** The connected peers. */
  peers(): Iterable<AgentPeer>;
  /** Offers addresses to connect to (e.g. learned through peer exchange). */
  addPeers(addresses: readonly PeerAddress[], source: string): void;
  /**
   * Stores a received block (copied before this returns, so a view into a
   * read buffer is fine); `from` names the sender in events. Reading from peers pauses while too much waits for
   * storage. Piece verification and failure also reach every agent's
   * {@linkcode MessagingAgent.pieceVerified} / {@linkcode MessagingAgent.pieceFailed}.
   */
  writeBlock(
    index: number,
    begin: number,
    block: Uint8Array,
    from?: AgentPeer,
  ): Promise<BlockWriteStatus>;
  /**
   * Reads a block of a verified piece to send. The bytes are the caller's
   * (a copy); they count against the runtime's upload memory until
   * `release` is called, and the call waits while that budget is spent.
   */
  readBlock(block: BlockRef): Promise<{ bytes: Uint8Array; release(): void }>;
  /**
   * {@linkcode AgentSession.readBlock} without waiting: the block when it is
   * in memory already (read with its neighbours) and the upload budget has
   * room now, else `undefined` (then call `readBlock`). Serving a piece's
   * blocks one after another, most come this way, with no promise made.
   */
  readBlockNow(block: BlockRef): { bytes: Uint8Array; release(): void } | undefined;
  /**
   * After piece `index` of a v2 or hybrid torrent failed: keeps its blocks whose 16 KiB leaves
   * match `leafHashes` (the piece's leaf hashes from a BEP 52 `hashes` answer, which the
   * caller proved against the piece's hash) and returns the blocks to fetch again, or
   * `undefined` when every block is (see `PieceStore.keepGoodBlocks`).
   */
  keepGoodBlocks(index: number, leafHashes: Uint8Array): readonly number[] | undefined;
  /**
   * Counts a strike against the peer (e.g. it alone sent a piece that failed);
   * the session's `maxHashFailures`-th strike bans it. Strikes follow the
   * peer like bans do.
   */
  strike(peer: AgentPeer, reason: string): void;
  /**
   * Bans the peer for the rest of the session (see `RuntimeOptions.maxConnectionsPerIp`
   * for what a ban is keyed by) and closes it.
   */
  ban(peer: AgentPeer, reason: string): void;
  /**
   * The torrent's download rate limit (under the runtime's). The session
   * takes from it for every `piece` block read from a peer; code that
   * receives payload another way (e.g. a web seed's HTTP bodies) awaits
   * `take(bytes)` for each chunk before reading the next. Only payload is
   * counted; protocol messages never wait.
   */
  readonly downloadLimiter: BandwidthLimiter;
  /**
   * The torrent's upload rate limit (under the runtime's): an agent sending
   * `piece` blocks awaits `take(length)` before each (the built-in upload
   * agent does).
   */
  readonly uploadLimiter: BandwidthLimiter;
}

/**
 * What an agent sees of a session whose metadata is not known yet (one added
 * from a magnet link): the info hash, the connected peers, strikes and bans,
 * and the hand-over of the info dictionary once the agent has it.
 *
 * Peers of this phase have no pieces yet ({@linkcode AgentPeer.pieces} is
 * empty and `request` returns `false`): their `bitfield` and `have` messages
 * are held by the session and applied once the piece count is known.
 *
 * @example An agent that gives up on peers without BEP 9
 * ```ts
 * import type { MessagingAgent, MetadataSession } from "@bittern/bittern";
 *
 * let session: MetadataSession | undefined;
 * const picky: MessagingAgent = {
 *   name: "picky",
 *   beforeMetadata: {
 *     start: (phase) => session = phase,
 *     connected: (peer) => {
 *       if (!peer.supports("ut_metadata")) peer.close("cannot send metadata");
 *     },
 *     end: () => session = undefined,
 *   },
 * };
 * ```
 */
export interface MetadataSession {
  /**
   * The torrent's 20-byte info hash: SHA-1 of its info dictionary (`btih`), or for a v2-only
   * link (`btmh` alone) the first 20 bytes of {@linkcode MetadataSession.infoHashV2}.
   */
  readonly infoHash: Uint8Array;
  /**
   * The 32-byte v2 info hash (SHA-256 of the info dictionary) when the link has `btmh`: an
   * info dictionary must match it, and {@linkcode MetadataSession.infoHash} too unless that
   * is only its truncation (a v2-only link).
   */
  readonly infoHashV2?: Uint8Array;
  /** Largest info dictionary accepted, in bytes (the session's `maxMetadataSize`). */
  readonly maxMetadataSize: number;
  /** The connected peers. */
  peers(): Iterable<AgentPeer>;
  /** Offers addresses to connect to. */
  addPeers(addresses: readonly PeerAddress[], source: string): void;
  /** Counts a strike against the peer; the session's `maxHashFailures`-th bans it. */
  strike(peer: AgentPeer, reason: string): void;
  /** Bans the peer for the rest of the session and closes it. */
  ban(peer: AgentPeer, reason: string): void;
  /**
   * Hands over the info dictionary, whose SHA-1 the caller checked against
   * {@linkcode MetadataSession.infoHash}. The session parses it, opens its
   * storage and continues with the same connections into the piece exchange;
   * every agent's `beforeMetadata.end` runs, then `attach`. Later calls do nothing.
   *
   * A v2 or hybrid torrent from a `btmh` link first needs its files' piece layers, which
   * an info dictionary lacks: {@linkcode MetadataSession.torrent} is set and every agent's
   * `beforeMetadata.pieceLayersWanted` runs; the phase goes on until
   * {@linkcode MetadataSession.pieceLayersReceived}.
   */
  metadataReceived(info: Uint8Array): void;
  /**
   * The torrent parsed from the info dictionary while its v2 piece layers are being fetched
   * (files of more than one piece have `piecesRoot` but no `pieceLayer`); `undefined` before.
   */
  readonly torrent: Torrent | undefined;
  /**
   * Hands over the piece layers (by index in `torrent.files`, one 32-byte hash per piece)
   * of every file of more than one piece. The session checks each against its file's
   * `pieces root`, builds the complete torrent (as a .torrent with `piece layers` would give)
   * and goes on as `metadataReceived` describes; a layer that does not match, or one missing,
   * fails the session (check them first: `verifyProof`). For a hybrid torrent an empty map is
   * accepted too: its pieces are then checked by SHA-1 alone. Later calls do nothing.
   */
  pieceLayersReceived(layers: ReadonlyMap<number, Uint8Array>): void;
}

/**
 * An agent's behaviour while its session has no metadata yet (see
 * {@linkcode MessagingAgent.beforeMetadata}). The peers handed to these hooks
 * are the phase's: once the metadata is known, the same connections reach
 * every agent again as new {@linkcode AgentPeer}s through `opened` and
 * `connected` (after `end`).
 *
 * @example
 * ```ts
 * import type { MetadataPhaseAgent } from "@bittern/bittern";
 *
 * const phase: MetadataPhaseAgent = {
 *   connected: (peer) => console.log(peer.key, "metadata_size", peer.extendedHandshake?.get("metadata_size")),
 * };
 * ```
 */
export interface MetadataPhaseAgent {
  /** The phase began (the session started without metadata). */
  start?(session: MetadataSession): void;
  /** A peer finished its handshakes (its extended handshake is in, when it speaks BEP 10). */
  connected?(peer: AgentPeer): void;
  /** Handlers for extended messages, by extension name. The payload is valid during the call. */
  readonly consumesExtended?: Readonly<
    Record<string, (peer: AgentPeer, payload: Uint8Array) => void>
  >;
  /**
   * Handlers for the standard messages the phase does not hold (`bitfield`, `have` and the
   * fast extension's piece messages wait for the piece count): e.g. BEP 52 `hashes`.
   */
  readonly consumes?: MessageHandlers;
  /**
   * The info dictionary is known ({@linkcode MetadataSession.torrent}) but the piece layers of
   * its v2 files are not: an agent that fetches them (the built-in `hashes` agent does, by
   * BEP 52 `hash request`) hands them over with {@linkcode MetadataSession.pieceLayersReceived}.
   */
  pieceLayersWanted?(torrent: Torrent): void;
  /** Called about once a second for each peer. */
  produce?(peer: AgentPeer): void;
  /** Called about once a second. */
  tick?(): void;
  /** A peer is gone. */
  disconnected?(peer: AgentPeer, reason: string): void;
  /** The phase is over: the metadata is known, or the session stopped. Forget its peers. */
  end?(): void;
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
 * behaviours (piece exchange, downloading, uploading, choking, peer exchange)
 * are agents too, written against exactly this interface; their order does
 * not matter, because the peer applies protocol state before any agent runs.
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
  /**
   * What the agent does before the torrent's metadata is known, in a session
   * added from a magnet link (BEP 9). Agents without it join such a session
   * only once the metadata is known (through `attach`, then `opened` and
   * `connected` for the peers already connected). Every agent's extensions
   * are announced from the first connection either way.
   */
  readonly beforeMetadata?: MetadataPhaseAgent;
  /**
   * Called once when the agent joins a session: at once for a torrent, once
   * the metadata is known for a magnet link.
   */
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
  /**
   * Handlers for standard messages, called after the peer applied them. A
   * `piece` reaches agents only when it answers one of our requests; a
   * `have` only when the piece is new for the peer.
   */
  readonly consumes?: MessageHandlers;
  /** Handlers for extended messages, by extension name. The payload is valid during the call. */
  readonly consumesExtended?: Readonly<
    Record<string, (peer: AgentPeer, payload: Uint8Array) => void>
  >;
  /** The peer's extended handshake arrived (once per connection). */
  extendedHandshakeReceived?(peer: AgentPeer, handshake: BencodeDict): void;
  /** Called every tick (about once a second) for each peer. */
  produce?(peer: AgentPeer): void;
  /** Called about once a second for the whole session. */
  tick?(session: AgentSession): void;
  /** Piece `index` passed its hash check and is ours. */
  pieceVerified?(index: number): void;
  /** Piece `index` failed its hash check; its blocks are wanted again. */
  pieceFailed?(index: number): void;
  /** Which pieces are wanted changed (files selected, a recheck): needs are different. */
  wantedChanged?(): void;
  /** The peer is gone. Its state (pieces, outstanding requests) is still readable. */
  disconnected?(peer: AgentPeer, reason: string): void;
  /** The session is stopping. */
  detach?(): void;
}
