import type { BencodeDict } from "../bencode/mod.ts";
import type { BlockRef } from "../agents/agent.ts";
import type { ExtendedMessage, Message } from "../wire/messages.ts";
import type { PeerWire } from "../wire/peer_wire.ts";
import { requestProblem } from "../wire/request_check.ts";
import type { PeerLink } from "./peer.ts";

/** Extended messages the session passes through as raw payloads. */
export const rawExtension = (name: string) => ({
  name,
  encode: (payload: Uint8Array) => payload,
  decode: (payload: Uint8Array) => payload,
});

/** Adapts a {@linkcode PeerWire} to what the session needs of a connection. */
export class WireLink implements PeerLink {
  readonly #wire: PeerWire;
  /** A read already in flight when this link took the wire over (after a metadata phase). */
  #pending: Promise<Message | undefined> | undefined;
  readonly #v2: boolean;

  /**
   * @param v2InfoHash The torrent's truncated v2 info hash, when it has one: a connection
   * made under it speaks v2 whatever the reserved bits say (libtorrent 2.0.8 sets the v2 bit
   * only under a hybrid's v1 hash, where it means the upgrade).
   */
  constructor(
    wire: PeerWire,
    pending?: Promise<Message | undefined>,
    v2InfoHash?: Uint8Array,
  ) {
    this.#wire = wire;
    this.#pending = pending;
    const remote = wire.remote.infoHash;
    this.#v2 = wire.supportsV2 ||
      (v2InfoHash !== undefined && v2InfoHash.every((byte, i) => byte === remote[i]));
  }

  get peerId(): Uint8Array {
    return this.#wire.remote.peerId;
  }

  get extendedHandshake(): BencodeDict | undefined {
    return this.#wire.handshake.remoteExtendedHandshake?.dict;
  }

  get remoteRequestQueue(): number | undefined {
    return this.#wire.handshake.remoteExtendedHandshake?.reqq;
  }

  get remoteListenPort(): number | undefined {
    const port = this.#wire.handshake.remoteExtendedHandshake?.p;
    return port !== undefined && port > 0 && port < 65536 ? port : undefined;
  }

  get fast(): boolean {
    return this.#wire.supportsFast;
  }

  get v2(): boolean {
    return this.#v2;
  }

  get infoHash(): Uint8Array {
    return this.#wire.remote.infoHash;
  }

  get queuedBytes(): number {
    return this.#wire.queuedBytes;
  }

  get bufferedBytes(): number {
    return this.#wire.bufferedBytes;
  }

  /** Why the peer's request for `block` can never be served (see `requestProblem`), if so. */
  requestProblem(block: BlockRef): string | undefined {
    const wire = this.#wire;
    return requestProblem(
      wire.context,
      wire.limits.maxRequestLength,
      block.index,
      block.begin,
      block.length,
    );
  }

  supports(name: string): boolean {
    return this.#wire.handshake.extensions?.remoteId(name) !== undefined;
  }

  queue(message: Message): boolean {
    return this.#wire.queue(message);
  }

  flush(lowWaterMark = 0): Promise<void> {
    return this.#wire.drained(lowWaterMark);
  }

  sendExtended(name: string, payload: Uint8Array): boolean {
    if (!this.supports(name)) return false;
    this.#wire.sendExtended(name, payload).catch(() => this.close());
    return true;
  }

  /** The extension name of an extended message we received, with its payload. */
  extended(message: ExtendedMessage): { name: string; payload: Uint8Array } | undefined {
    const decoded = this.#wire.decodeExtended(message);
    return decoded && { name: decoded.name, payload: decoded.value as Uint8Array };
  }

  /**
   * Resolves once the peer's extended handshake is in, at once when BEP 10
   * was not negotiated, and after `timeoutMs` if the peer never sends it.
   */
  extendedHandshakeArrived(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      this.#wire.extendedHandshake.then(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]).finally(() => clearTimeout(timer));
  }

  next(): Promise<Message | undefined> {
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      return pending;
    }
    return this.#wire.next();
  }

  /** The next message if it is already read (see `PeerWire.nextBuffered`). */
  nextBuffered(): Message | undefined {
    return this.#pending ? undefined : this.#wire.nextBuffered();
  }

  close(): void {
    this.#wire.close();
  }
}
