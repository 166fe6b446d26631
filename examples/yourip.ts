/**
 * A custom extended message as a messaging agent: like Bt's "yourip"
 * example, tell each peer that supports it the address we see it at.
 *
 * The agent announces `bittern_yourip` in its extended handshake (through
 * `extensions`), sends one message to each connected peer that announced the
 * same name, and reports what peers tell it.
 *
 * Run a two-peer demo: `deno run --allow-net=127.0.0.1 examples/yourip.ts`
 *
 * @module
 */
import {
  type BencodeDict,
  createTorrent,
  decode,
  encode,
  MemoryStorage,
  type MessagingAgent,
  Runtime,
} from "../mod.ts";

/** The extension's name in BEP 10 `m` maps. */
export const YOURIP = "bittern_yourip";

/** What one peer told us about ourselves. */
export interface YourIpReport {
  /** The peer that told us. */
  readonly from: string;
  /** The address it sees us at (text). */
  readonly address: string;
}

/**
 * The agent. `onReport` hears every `bittern_yourip` message received;
 * `sentTo` and `skipped` record which peers were told and which were not
 * (because they did not announce the extension).
 */
export function yourIpAgent(onReport: (report: YourIpReport) => void): MessagingAgent & {
  readonly sentTo: string[];
  readonly skipped: string[];
} {
  const sentTo: string[] = [];
  const skipped: string[] = [];
  return {
    name: "yourip",
    extensions: [YOURIP],
    sentTo,
    skipped,
    extendedHandshakeReceived(peer) {
      // The peer's `m` map is known only now: that decides whether it may be sent.
      const message = encode({ ip: peer.host });
      if (peer.sendExtended(YOURIP, message)) sentTo.push(peer.key);
      else skipped.push(peer.key);
    },
    consumesExtended: {
      [YOURIP](peer, payload) {
        let ip: unknown;
        try {
          ip = (decode(payload) as BencodeDict).get("ip");
        } catch {
          return peer.close("malformed bittern_yourip message");
        }
        if (!(ip instanceof Uint8Array) || ip.length > 64) {
          return peer.close("bad bittern_yourip ip");
        }
        onReport({ from: peer.key, address: new TextDecoder().decode(ip) });
      },
    },
  };
}

if (import.meta.main) {
  // deno-lint-ignore no-console -- the demo's output
  const log = console.log;
  const data = new Uint8Array(64 * 1024).map((_, i) => i);
  const { torrent } = await createTorrent({ name: "yourip.bin", data }, { pieceLength: 16384 });
  const a = new Runtime({ maxConnectionsPerIp: 64, listen: { hostname: "127.0.0.1", port: 0 } });
  const b = new Runtime({ maxConnectionsPerIp: 64, listen: { hostname: "127.0.0.1", port: 0 } });
  const storage = new MemoryStorage();
  const opened = await storage.open(torrent);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    await opened.write(piece, 0, data.subarray(piece * 16384, (piece + 1) * 16384));
  }
  await a.add(torrent, {
    storage,
    agents: [yourIpAgent((r) => log(`seeder: ${r.from} sees me at ${r.address}`))],
  });
  const session = await b.add(torrent, {
    storage: new MemoryStorage(),
    peers: [{ host: "127.0.0.1", port: a.port! }],
    agents: [yourIpAgent((r) => log(`leecher: ${r.from} sees me at ${r.address}`))],
  });
  await session.completed;
  await Promise.all([a.close(), b.close()]);
}
