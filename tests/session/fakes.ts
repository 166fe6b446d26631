/**
 * In-memory stand-ins for a connected peer and a session, for unit tests of the parts
 * written against the public agent seam (BlockTracker, SmartBan, the choker).
 */
import type {
  AgentPeer,
  AgentSession,
  BlockRef,
  BlockWriteStatus,
} from "../../src/agents/agent.ts";
import type { BencodeDict } from "../../src/bencode/mod.ts";
import type { Torrent } from "../../src/metainfo/torrent.ts";
import { addressKey, type PeerAddress } from "../../src/util/address.ts";
import { Bitfield } from "../../src/util/bitfield.ts";
import type { Message } from "../../src/wire/messages.ts";
import { BandwidthLimiter } from "../../src/util/bandwidth.ts";

/** A peer with settable state that records what agents do to it. */
export class FakePeer implements AgentPeer {
  readonly key: string;
  readonly peerId: Uint8Array = new Uint8Array(20);
  readonly client = "fake";
  incoming = false;
  listenPort: number | undefined;
  pieces: Bitfield;
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  downloadRate = 0;
  uploadRate = 0;
  extendedHandshake: BencodeDict | undefined = undefined;
  outstanding = 0;
  maxOutstanding = 250;
  snubbed = false;
  peerRequests = 0;
  queuedBytes = 0;
  closed = false;
  fast = false;
  allowedFast: ReadonlySet<number> = new Set();
  grantedFast: ReadonlySet<number> = new Set();
  suggested: readonly number[] = [];
  /** `choke`/`unchoke` calls, in order. */
  readonly calls: string[] = [];
  /** Messages given to `send`. */
  readonly sent: Message[] = [];
  closeReason: string | undefined;

  constructor(
    readonly host: string,
    readonly port = 6881,
    pieceCount = 8,
  ) {
    this.key = addressKey(host, port);
    this.listenPort = port;
    this.pieces = new Bitfield(pieceCount);
  }

  /** Gives the peer every piece. */
  seed(): this {
    for (let i = 0; i < this.pieces.size; i++) this.pieces.set(i);
    return this;
  }

  supports(_name: string): boolean {
    return false;
  }
  choke(): void {
    this.calls.push("choke");
    this.amChoking = true;
  }
  unchoke(): void {
    this.calls.push("unchoke");
    this.amChoking = false;
  }
  setInterested(interested: boolean): void {
    this.amInterested = interested;
  }
  request(_block: BlockRef): boolean {
    return false;
  }
  requested(): boolean {
    return false;
  }
  outstandingRequests(): Iterable<BlockRef> {
    return [];
  }
  cancel(): void {}
  nextPeerRequest(): BlockRef | undefined {
    return undefined;
  }
  reject(): void {}
  allowFast(): void {}
  send(message: Message): void {
    this.sent.push(message);
  }
  flushed(): Promise<void> {
    return Promise.resolve();
  }
  sendExtended(_name: string, _payload: Uint8Array): boolean {
    return false;
  }
  countUpload(): void {}
  close(reason: string): void {
    this.closed = true;
    this.closeReason = reason;
  }
}

/** A session holding a list of fake peers; storage calls are not expected. */
export class FakeSession implements AgentSession {
  readonly verified: Bitfield;
  complete = false;
  canServe = true;
  port: number | undefined = undefined;
  readonly peerList: AgentPeer[] = [];
  readonly added: { addresses: readonly PeerAddress[]; source: string }[] = [];

  constructor(readonly torrent: Torrent) {
    this.verified = new Bitfield(torrent.pieceCount);
  }

  needs(index: number): boolean {
    return !this.verified.get(index);
  }
  peers(): Iterable<AgentPeer> {
    return this.peerList;
  }
  addPeers(addresses: readonly PeerAddress[], source: string): void {
    this.added.push({ addresses, source });
  }
  writeBlock(): Promise<BlockWriteStatus> {
    return Promise.reject(new Error("FakeSession.writeBlock is not expected here"));
  }
  readBlock(): Promise<{ bytes: Uint8Array; release(): void }> {
    return Promise.reject(new Error("FakeSession.readBlock is not expected here"));
  }
  readBlockNow(): undefined {
    throw new Error("FakeSession.readBlockNow is not expected here");
  }
  keepGoodBlocks(): undefined {
    return undefined;
  }
  strike(): void {}
  ban(): void {}
  readonly downloadLimiter: BandwidthLimiter = new BandwidthLimiter();
  readonly uploadLimiter: BandwidthLimiter = new BandwidthLimiter();
}
