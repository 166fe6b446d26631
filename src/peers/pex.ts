import type { AgentPeer, AgentSession, MessagingAgent } from "../agents/agent.ts";
import { BencodeDict } from "../bencode/dict.ts";
import { decode } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { decodeCompactPeers, encodeCompactPeer } from "../tracker/compact.ts";
import type { PeerAddress } from "../util/address.ts";
import { concatBytes } from "../util/bytes.ts";

/** BEP 11 flags of an added peer. */
export const PexFlags = {
  /** Prefers encrypted connections. */
  encryption: 0x01,
  /** Is a seed. */
  seed: 0x02,
  /** Supports uTP. */
  utp: 0x04,
  /** Supports ut_holepunch. */
  holepunch: 0x08,
  /** Reachable: we connected to it. */
  connectable: 0x10,
} as const;

/** Options for {@linkcode pexAgent}. */
export interface PexOptions {
  /** Least time between two messages to one peer (BEP 11: one a minute). Default 60 000 ms. */
  readonly intervalMs?: number;
  /** Most peers in one message's `added` (BEP 11: 50). Default 50. */
  readonly maxAdded?: number;
  /** Largest ut_pex message accepted, in bytes. Default 64 KiB. */
  readonly maxMessageBytes?: number;
}

interface PeerState {
  /** Keys of the peers this peer has been told about. */
  told: Set<string>;
  lastSent: number;
  lastReceived: number;
}

/** What we can honestly advertise about a connected peer: its listening address and flags. */
function advertised(peer: AgentPeer): { address: PeerAddress; flags: number } | undefined {
  let port = peer.port;
  if (peer.incoming) {
    // An incoming connection's port is ephemeral; only the `p` it announced is its listen port.
    const announced = peer.extendedHandshake?.get("p");
    if (typeof announced !== "number" || announced < 1 || announced > 65535) return undefined;
    port = announced;
  }
  let flags = 0;
  if (peer.pieces.hasAll()) flags |= PexFlags.seed;
  if (!peer.incoming) flags |= PexFlags.connectable;
  return { address: { host: peer.host, port }, flags };
}

const keyOf = (address: PeerAddress) => `${address.host}|${address.port}`;

/**
 * Peer exchange (BEP 11) as a messaging agent: tells each supporting peer,
 * at most once per interval, which peers we connected to and which left
 * since the last message (at most 50 added), and hands the peers it is told
 * about to the session. Never used for private torrents.
 *
 * @example
 * ```ts
 * import { pexAgent } from "@bittern/bittern";
 *
 * const agent = pexAgent({ intervalMs: 60_000 });
 * console.log(agent.extensions); // ["ut_pex"]
 * ```
 *
 * @param options Interval and limits.
 * @returns The agent (one per session).
 */
export function pexAgent(options: PexOptions = {}): MessagingAgent {
  const intervalMs = options.intervalMs ?? 60_000;
  const maxAdded = options.maxAdded ?? 50;
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
  const states = new WeakMap<AgentPeer, PeerState>();
  let session: AgentSession | undefined;

  const send = (peer: AgentPeer, state: PeerState, now: number) => {
    if (!session || !peer.supports("ut_pex")) return;
    const current = new Map<string, { address: PeerAddress; flags: number }>();
    for (const other of session.peers()) {
      if (other === peer) continue;
      const entry = advertised(other);
      if (entry) current.set(keyOf(entry.address), entry);
    }
    const added = [...current.entries()].filter(([key]) => !state.told.has(key)).slice(0, maxAdded);
    const dropped = [...state.told].filter((key) => !current.has(key)).slice(0, maxAdded);
    if (!added.length && !dropped.length) return;
    const fields = {
      added: [] as Uint8Array[],
      "added.f": [] as number[],
      dropped: [] as Uint8Array[],
    };
    const fields6 = {
      added: [] as Uint8Array[],
      "added.f": [] as number[],
      dropped: [] as Uint8Array[],
    };
    for (const [key, { address, flags }] of added) {
      const compact = encodeCompactPeer(address);
      if (!compact) continue;
      const target = compact.family === 4 ? fields : fields6;
      target.added.push(compact.bytes);
      target["added.f"].push(flags);
      state.told.add(key);
    }
    for (const key of dropped) {
      state.told.delete(key);
      const [host, port] = key.split("|");
      const compact = encodeCompactPeer({ host, port: Number(port) });
      if (compact) (compact.family === 4 ? fields : fields6).dropped.push(compact.bytes);
    }
    const message = new BencodeDict()
      .set("added", concatBytes(fields.added))
      .set("added.f", new Uint8Array(fields["added.f"]))
      .set("added6", concatBytes(fields6.added))
      .set("added6.f", new Uint8Array(fields6["added.f"]))
      .set("dropped", concatBytes(fields.dropped))
      .set("dropped6", concatBytes(fields6.dropped));
    state.lastSent = now;
    peer.sendExtended("ut_pex", encode(message));
  };

  const stateOf = (peer: AgentPeer) => {
    let state = states.get(peer);
    if (!state) states.set(peer, state = { told: new Set(), lastSent: 0, lastReceived: 0 });
    return state;
  };

  return {
    name: "pex",
    extensions: ["ut_pex"],
    attach(attached) {
      session = attached;
    },
    extendedHandshakeReceived(peer) {
      // The first message may go at once; later ones wait for the interval.
      send(peer, stateOf(peer), Date.now());
    },
    produce(peer) {
      const state = stateOf(peer);
      const now = Date.now();
      if (now - state.lastSent >= intervalMs) send(peer, state, now);
    },
    consumesExtended: {
      ut_pex(peer, payload) {
        const state = stateOf(peer);
        const now = Date.now();
        // Tolerate a little clock slack, but not a peer flooding us.
        if (state.lastReceived && now - state.lastReceived < intervalMs / 2) return;
        state.lastReceived = now;
        if (payload.length > maxMessageBytes) return peer.close("ut_pex message too large");
        let message;
        try {
          message = decode(payload, { allowUnsortedKeys: true, maxDepth: 4 });
        } catch (error) {
          return peer.close(`malformed ut_pex message: ${(error as Error).message}`);
        }
        if (!(message instanceof BencodeDict)) {
          return peer.close("ut_pex message is not a dictionary");
        }
        const learned: PeerAddress[] = [];
        for (const [field, family] of [["added", 4], ["added6", 6]] as const) {
          const bytes = message.get(field);
          if (bytes === undefined) continue;
          const peers = bytes instanceof Uint8Array ? decodeCompactPeers(bytes, family) : undefined;
          if (!peers) return peer.close(`malformed ut_pex ${field}`);
          learned.push(...peers.slice(0, maxAdded * 4));
        }
        if (learned.length) session?.addPeers(learned, "pex");
      },
    },
  };
}
