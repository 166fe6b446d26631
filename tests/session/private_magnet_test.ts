/**
 * BEP 27 for a magnet link whose metadata says `private`: once the metadata is in, the DHT and
 * custom peer sources stop and the addresses they gave are never dialled again; the trackers'
 * and the user's peers stay. Real sockets on 127.0.0.1 throughout: a Bittern seeder of the
 * private torrent, a DHT bootstrap node holding an announced "trap" peer, a custom source that
 * offers a fresh trap each tick, and a plain-wire peer that serves the metadata (Bittern, like
 * libtorrent, never serves a private torrent's metadata).
 */
import assert from "node:assert/strict";
import {
  createTorrent,
  decodeMetadataMessage,
  DhtNode,
  encodeMetadataMessage,
  ExtensionProtocol,
  ExtensionRegistry,
  formatMagnet,
  MemoryStorage,
  METADATA_PIECE_SIZE,
  type PeerAddress,
  type PeerSource,
  PeerWire,
  Runtime,
  type Torrent,
} from "../../mod.ts";
import { payload, readAll, seededMemory, within } from "./helpers.ts";

/** A listener on 127.0.0.1 that counts the connections it gets and closes each at once. */
class Trap {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  accepted = 0;
  readonly #dialled = Promise.withResolvers<void>();
  readonly #running: Promise<void>;

  constructor() {
    this.#running = this.#run();
  }

  get address(): PeerAddress {
    return { host: "127.0.0.1", port: (this.listener.addr as Deno.NetAddr).port };
  }

  /** Resolves at the first connection. */
  get dialled(): Promise<void> {
    return this.#dialled.promise;
  }

  async #run(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        this.accepted++;
        conn.close();
        this.#dialled.resolve();
      }
    } catch { /* closed */ }
  }

  async close(): Promise<void> {
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.#running;
  }
}

/** A custom source offering a fresh trap address at each `pulse` (the test pulses every tick). */
class TrapSource implements PeerSource {
  readonly name = "trap-source";
  readonly traps: Trap[] = [];
  signal: AbortSignal | undefined;
  #wake: (() => void) | undefined;

  pulse(): void {
    this.#wake?.();
  }

  async *peers(_context: unknown, signal: AbortSignal): AsyncIterable<readonly PeerAddress[]> {
    this.signal = signal;
    while (!signal.aborted && this.traps.length < 40) {
      const trap = new Trap();
      this.traps.push(trap);
      yield [trap.address];
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }

  get accepted(): number {
    return this.traps.reduce((sum, trap) => sum + trap.accepted, 0);
  }
}

/** A plain-wire peer that serves `torrent`'s metadata (and nothing else) to each connection. */
function metadataPeer(torrent: Torrent): { address: PeerAddress; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const registry = new ExtensionRegistry().register({
    name: "ut_metadata",
    encode: (bytes: Uint8Array) => bytes,
    decode: (bytes) => bytes,
  });
  const wires = new Set<PeerWire>();
  const serveOne = async (conn: Deno.TcpConn) => {
    const wire = await PeerWire.accept(conn, {
      peerId: new TextEncoder().encode("-MD0001-000000000000"),
      handlers: [new ExtensionProtocol({ registry, metadataSize: torrent.infoBytes.length })],
      findTorrent: () => ({}),
    });
    wires.add(wire);
    try {
      for await (const message of wire) {
        if (message.type !== "extended" || message.id === 0) continue;
        const decoded = wire.decodeExtended(message);
        if (decoded?.name !== "ut_metadata") continue;
        const request = decodeMetadataMessage(decoded.value as Uint8Array);
        if (request.type !== "request") continue;
        const begin = request.piece * METADATA_PIECE_SIZE;
        await wire.sendExtended(
          "ut_metadata",
          encodeMetadataMessage({
            type: "data",
            piece: request.piece,
            totalSize: torrent.infoBytes.length,
            bytes: torrent.infoBytes.subarray(begin, begin + METADATA_PIECE_SIZE),
          }),
        );
      }
    } finally {
      wire.close();
      wires.delete(wire);
    }
  };
  const serving = (async () => {
    const connections: Promise<void>[] = [];
    try {
      for await (const conn of listener) connections.push(serveOne(conn).catch(() => {}));
    } catch { /* closed */ }
    await Promise.all(connections);
  })();
  return {
    address: { host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    close: async () => {
      listener.close();
      for (const wire of wires) wire.close();
      await serving;
    },
  };
}

Deno.test("private magnet: after the metadata, the DHT and custom sources stop and their peers are never dialled again", async () => {
  const data = payload(300_000, 27);
  const { torrent } = await createTorrent({ name: "private.bin", data }, {
    pieceLength: 32768,
    private: true,
  });
  const dht = new DhtNode({ host: "127.0.0.1", bootstrap: [], rateLimit: { key: "ip-port" } });
  await dht.listen();
  // A trap announced in the DHT for this info hash: only the DHT knows it.
  const dhtTrap = new Trap();
  const announcer = new DhtNode({
    host: "127.0.0.1",
    bootstrap: [dht.address!],
    rateLimit: { key: "ip-port" },
  });
  await announcer.listen();
  await announcer.bootstrap();
  await announcer.getPeers(torrent.infoHash, { announce: { port: dhtTrap.address.port } });
  const source = new TrapSource();
  const metadata = metadataPeer(torrent);
  const seeder = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
    dht: false,
  });
  const leecher = new Runtime({
    maxConnectionsPerIp: 64,
    listen: { hostname: "127.0.0.1", port: 0 },
    encryption: "off", // the metadata peer speaks plain BitTorrent only
    dht: {
      bootstrap: [dht.address!],
      rateLimit: { key: "ip-port" },
      // Looked up again and again: without BEP 27 the DHT would keep offering its trap.
      reannounceMs: 300,
      retryMs: 100,
    },
  });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const storage = new MemoryStorage();
    // The seeder is in the link (x.pe): it has the data but does not serve a private metadata.
    const session = await leecher.add(
      formatMagnet({
        infoHash: torrent.infoHash,
        peers: [{ host: "127.0.0.1", port: seeder.port! }],
      }),
      { storage, peerSources: [source], start: false },
    );
    let afterMetadata: { custom: number; dht: number; queries: number } | undefined;
    let metadataSeen = false;
    let sourceStoppedAtMetadata: boolean | undefined;
    let ticksAfter = 0;
    const enoughTicks = Promise.withResolvers<void>();
    session.events.on("metadata-progress", () => source.pulse());
    session.events.on("metadata", () => {
      metadataSeen = true;
      // Stopped before anyone hears of the metadata, so no tick can dial a trap after it.
      sourceStoppedAtMetadata = source.signal?.aborted;
    });
    session.events.on("progress", () => {
      source.pulse();
      if (!metadataSeen) return;
      // The first tick after the metadata: dials begun before it have landed by now.
      afterMetadata ??= {
        custom: source.accepted,
        dht: dhtTrap.accepted,
        queries: dht.stats.queriesAnswered,
      };
      if (++ticksAfter >= 4 && session.stats().progress === 1) enoughTicks.resolve();
    });
    session.start();
    // Both sources are live in the metadata phase: each of their traps gets dialled.
    await within(dhtTrap.dialled, 20_000, "the leecher dialling the DHT's peer");
    await within(source.traps[0].dialled, 20_000, "the leecher dialling the custom source's peer");
    assert.throws(() => session.torrent, /not known yet/);
    // Now the user gives a peer that has the metadata.
    session.addPeers([metadata.address]);
    const known = await within(session.metadata, 20_000, "metadata");
    assert.equal(known.private, true);
    await within(session.completed, 30_000, "download from the tracker-less private swarm");
    assert.deepEqual(await readAll(storage, known), data);
    await within(enoughTicks.promise, 20_000, "four ticks after the metadata");
    assert.ok(afterMetadata);
    assert.equal(sourceStoppedAtMetadata, true, "the custom source still ran");
    assert.equal(source.accepted, afterMetadata.custom, "a custom source's peer was dialled");
    assert.equal(dhtTrap.accepted, afterMetadata.dht, "the DHT's peer was dialled");
    assert.equal(
      dht.stats.queriesAnswered,
      afterMetadata.queries,
      "the leecher kept asking the DHT",
    );
    // The explicitly given seeder (x.pe) is still connected.
    assert.ok(session.peers().some((peer) => peer.address === `127.0.0.1:${seeder.port}`));
  } finally {
    await leecher.close();
    await seeder.close();
    await metadata.close();
    await announcer.close();
    await dht.close();
    await dhtTrap.close();
    for (const trap of source.traps) await trap.close();
  }
});
