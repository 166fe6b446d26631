import type { BencodeDict } from "../bencode/mod.ts";
import type { AgentPeer } from "../agents/agent.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { Message } from "../wire/messages.ts";
import { RateMeter } from "./rate.ts";

/** The connection under a {@linkcode Peer}: messages in, messages out. */
export interface PeerLink {
  /** The remote peer id from the handshake. */
  readonly peerId: Uint8Array;
  /** The remote extended handshake, once received. */
  readonly extendedHandshake: BencodeDict | undefined;
  /** Whether the remote announced extension `name`. */
  supports(name: string): boolean;
  /** Queues a message; resolves when more may be sent (back-pressure). */
  send(message: Message): Promise<void>;
  /** Queues a message without waiting; `false` when the connection is closed. */
  queue(message: Message): boolean;
  /** Queues an extended message by name; false when the remote lacks it. */
  sendExtended(name: string, payload: Uint8Array): boolean;
  /** Closes the socket. */
  close(): void;
}

/** Formats an address as a unique key: `host:port`, `[v6]:port`. */
export function addressKey(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One connected peer as the session tracks it: choke and interest state,
 * its pieces, our outstanding requests to it, its requests to us, rates.
 */
export class Peer implements AgentPeer {
  /** @inheritdoc */
  readonly key: string;
  /** @inheritdoc */
  readonly host: string;
  /** @inheritdoc */
  readonly port: number;
  /** @inheritdoc */
  readonly client: string;
  /** @inheritdoc */
  readonly incoming: boolean;
  /** @inheritdoc */
  pieces: Bitfield;
  /** @inheritdoc */
  amChoking = true;
  /** @inheritdoc */
  amInterested = false;
  /** @inheritdoc */
  peerChoking = true;
  /** @inheritdoc */
  peerInterested = false;
  /** Our requests to this peer: block key -> time sent (ms). */
  readonly outstanding = new Map<number, number>();
  /** How many requests we keep in flight to this peer. */
  queueDepth: number;
  /** The peer's `reqq` (how many requests it accepts), when it said. */
  maxRequests = 250;
  /** Blocks the peer asked for and we have not sent yet, in order. */
  readonly uploadQueue: { index: number; begin: number; length: number }[] = [];
  /** Whether an upload loop is running for this peer. */
  uploading = false;
  /** When we last received a piece block (ms). */
  lastBlockAt = Date.now();
  readonly download = new RateMeter();
  readonly upload = new RateMeter();
  readonly #link: PeerLink;
  #closed = false;
  /** Called when `close` is requested by an agent or the session. */
  onClose: (reason: string) => void = () => {};

  /**
   * @param link The connection.
   * @param host Remote address.
   * @param port Remote port.
   * @param pieceCount Pieces in the torrent (bitfield size).
   * @param incoming Whether the remote dialled us.
   * @param client Client name decoded from the peer id.
   * @param initialDepth Starting request queue depth.
   */
  constructor(
    link: PeerLink,
    host: string,
    port: number,
    pieceCount: number,
    incoming: boolean,
    client: string,
    initialDepth: number,
  ) {
    this.#link = link;
    this.host = host;
    this.port = port;
    this.key = addressKey(host, port);
    this.pieces = new Bitfield(pieceCount);
    this.incoming = incoming;
    this.client = client;
    this.queueDepth = initialDepth;
  }

  /** @inheritdoc */
  get peerId(): Uint8Array {
    return this.#link.peerId;
  }

  /** @inheritdoc */
  get extendedHandshake(): BencodeDict | undefined {
    return this.#link.extendedHandshake;
  }

  /** @inheritdoc */
  get downloadRate(): number {
    return this.download.rate();
  }

  /** @inheritdoc */
  get uploadRate(): number {
    return this.upload.rate();
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @inheritdoc */
  supports(name: string): boolean {
    return this.#link.supports(name);
  }

  /** @inheritdoc */
  send(message: Message): void {
    if (this.#closed) return;
    if (!this.#link.queue(message)) this.close("write failed");
  }

  /** Sends and waits until the connection accepts more (back-pressure). */
  async sendAndWait(message: Message): Promise<void> {
    if (this.#closed) return;
    await this.#link.send(message);
  }

  /** @inheritdoc */
  sendExtended(name: string, payload: Uint8Array): boolean {
    if (this.#closed) return false;
    return this.#link.sendExtended(name, payload);
  }

  /** @inheritdoc */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.onClose(reason);
  }
}
