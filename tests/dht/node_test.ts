import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  decodeKrpc,
  DhtError,
  DhtNode,
  type DhtNodeOptions,
  encode,
  encodeKrpcQuery,
  encodeKrpcResponse,
  loadDhtState,
  randomNodeId,
  saveDhtState,
} from "../../mod.ts";

const LOOPBACK: DhtNodeOptions = {
  host: "127.0.0.1",
  bootstrap: [],
  queryTimeoutMs: 1000,
  rateLimit: { key: "ip-port" },
};

async function mesh(count: number): Promise<DhtNode[]> {
  const first = new DhtNode(LOOPBACK);
  await first.listen();
  const nodes = [first];
  for (let i = 1; i < count; i++) {
    const node = new DhtNode({ ...LOOPBACK, bootstrap: [first.address!] });
    await node.listen();
    nodes.push(node);
  }
  for (const node of nodes.slice(1)) await node.bootstrap();
  return nodes;
}

/** A raw UDP socket on loopback that collects datagrams. */
async function rawSocket() {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const inbox: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  socket.on("message", (message: Uint8Array) => {
    inbox.push(new Uint8Array(message));
    wake?.();
  });
  return {
    port: socket.address().port,
    send: (packet: Uint8Array, port: number) => socket.send(packet, port, "127.0.0.1"),
    /** The next datagram, or undefined after `ms`. */
    async next(ms = 2000): Promise<Uint8Array | undefined> {
      if (inbox.length) return inbox.shift();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      wake = undefined;
      return inbox.shift();
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

Deno.test("dht: nodes on loopback find each other, and a peer announced by one", async () => {
  const nodes = await mesh(12);
  try {
    for (const node of nodes.slice(1)) assert.ok(node.table.size >= 1);
    const infoHash = randomNodeId();
    const announcer = nodes[5];
    const first = await announcer.getPeers(infoHash, { announce: { port: 40000 } });
    assert.ok(first.closest.length >= 1, "the lookup reached nodes");
    assert.ok(first.closest.every((node) => node.token), "every closest node gave a token");
    const seeker = nodes[9];
    const heard: string[] = [];
    const found = await seeker.getPeers(infoHash, {
      onPeers: (peers) => heard.push(...peers.map((peer) => `${peer.host}:${peer.port}`)),
    });
    assert.deepEqual(found.peers, [{ host: "127.0.0.1", port: 40000 }]);
    assert.deepEqual(heard, ["127.0.0.1:40000"]);
    assert.ok(found.messages >= 1);
    // implied_port: the UDP source port is announced.
    const other = randomNodeId();
    await nodes[3].getPeers(other, { announce: { port: 1, impliedPort: true } });
    const implied = await nodes[7].getPeers(other);
    assert.deepEqual(implied.peers, [nodes[3].address]);
    // find_node converges on the target's owner.
    const target = nodes[11].id;
    const result = await nodes[2].findNode(target);
    assert.deepEqual(result.closest[0].id, target);
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
});

Deno.test("dht: hostile datagrams are answered or dropped, and the node keeps working", async () => {
  const node = new DhtNode({ ...LOOPBACK, rateLimit: { key: "ip-port", perSecond: 5, burst: 10 } });
  await node.listen();
  const raw = await rawSocket();
  try {
    const port = node.address!.port;
    // Garbage and non-dicts: dropped silently.
    for (const junk of ["", "garbage", "i1e", "d1:t2:aa1:y1:re", "l" + "l".repeat(50)]) {
      raw.send(new TextEncoder().encode(junk), port);
    }
    // A huge string: dropped.
    raw.send(new Uint8Array(3000).fill(0x31), port);
    // An unknown method: error 204.
    raw.send(encode({ t: "zz", y: "q", q: "vote", a: { id: randomNodeId() } }), port);
    let answer = await raw.next();
    assert.ok(answer, "no answer to an unknown method");
    const error = decodeKrpc(answer);
    assert.equal(error.kind, "error");
    assert.equal(error.kind === "error" && error.code, 204);
    // A bad token: error 203, nothing stored.
    raw.send(
      encodeKrpcQuery(new Uint8Array([1]), {
        method: "announce_peer",
        id: randomNodeId(),
        infoHash: randomNodeId(),
        port: 1234,
        token: new Uint8Array(8),
        impliedPort: false,
      }),
      port,
    );
    answer = await raw.next();
    assert.ok(answer);
    const bad = decodeKrpc(answer);
    assert.equal(bad.kind === "error" && bad.code, 203);
    // A flood of pings from one address: at most the burst (and a little refill) is answered.
    for (let i = 0; i < 200; i++) {
      raw.send(
        encodeKrpcQuery(new Uint8Array([2, i]), { method: "ping", id: randomNodeId() }),
        port,
      );
    }
    let answered = 0;
    while (await raw.next(500)) answered++;
    assert.ok(answered >= 5 && answered < 30, `answered ${answered} of 200 flooded pings`);
    assert.ok(node.table.size <= 8 * 160, "the table stays bounded");
    // An answer with an unknown transaction id is dropped.
    const dropped = node.stats.dropped;
    raw.send(encodeKrpcResponse(new Uint8Array([9, 9]), { id: randomNodeId() }), port);
    await raw.next(200);
    assert.ok(node.stats.dropped > dropped);
    // The node still answers a well-behaved peer.
    const peer = new DhtNode(LOOPBACK);
    await peer.listen();
    try {
      const pong = await peer.query(node.address!, { method: "ping", id: peer.id });
      assert.deepEqual(pong.id, node.id);
    } finally {
      await peer.close();
    }
  } finally {
    await raw.close();
    await node.close();
  }
});

Deno.test("dht: an answer from another address than asked is ignored", async () => {
  const node = new DhtNode(LOOPBACK);
  await node.listen();
  const asked = await rawSocket();
  const impostor = await rawSocket();
  try {
    const query = node.query({ host: "127.0.0.1", port: asked.port }, {
      method: "ping",
      id: node.id,
    });
    const sent = await asked.next();
    assert.ok(sent);
    const message = decodeKrpc(sent);
    assert.equal(message.kind, "query");
    impostor.send(
      encodeKrpcResponse(message.transactionId, { id: randomNodeId() }),
      node.address!.port,
    );
    await assert.rejects(
      query,
      (error: unknown) => error instanceof DhtError && error.code === "timeout",
    );
    assert.equal(node.table.size, 0, "the impostor did not get in");
  } finally {
    await Promise.all([asked.close(), impostor.close(), node.close()]);
  }
});

Deno.test("dht: lookups ignore port-0 and martian nodes from a hostile answerer", async () => {
  const node = new DhtNode({ ...LOOPBACK, queryTimeoutMs: 300 });
  await node.listen();
  const hostile = await rawSocket();
  try {
    const id = randomNodeId();
    const junkNodes = Array.from({ length: 16 }, (_, i) => ({
      id: randomNodeId(),
      host: i % 2 ? "0.0.0.0" : "127.0.0.1",
      port: i % 2 ? 6881 : 0,
    }));
    const lookup = node.getPeers(randomNodeId());
    // Not in the table and no bootstrap: the lookup has nobody to ask.
    const empty = await lookup;
    assert.equal(empty.messages, 0);
    node.table.add({ id, host: "127.0.0.1", port: hostile.port }, { responded: true });
    const second = node.findNode(randomNodeId());
    const asked = await hostile.next();
    assert.ok(asked);
    const query = decodeKrpc(asked);
    hostile.send(
      encodeKrpcResponse(query.transactionId, { id, nodes: junkNodes }),
      node.address!.port,
    );
    const result = await second;
    assert.equal(result.messages, 1, "nothing unusable was queried");
    assert.equal(node.table.size, 1);
  } finally {
    await Promise.all([hostile.close(), node.close()]);
  }
});

Deno.test("dht: a read-only node asks but does not answer, and is not added", async () => {
  const [hub] = await mesh(1);
  const reader = new DhtNode({ ...LOOPBACK, readOnly: true, bootstrap: [hub.address!] });
  await reader.listen();
  try {
    await reader.bootstrap();
    assert.equal(reader.table.size, 1, "the read-only node learned the hub");
    assert.equal(hub.table.size, 0, "the hub did not add the read-only node");
    await assert.rejects(
      hub.query(reader.address!, { method: "ping", id: hub.id }),
      (error: unknown) => error instanceof DhtError && error.code === "timeout",
    );
  } finally {
    await Promise.all([hub.close(), reader.close()]);
  }
});

Deno.test("dht: state saved atomically and read back for a warm start", async () => {
  const dir = await Deno.makeTempDir();
  const nodes = await mesh(4);
  try {
    const path = `${dir}/dht.json`;
    assert.equal(await loadDhtState(path), undefined);
    await saveDhtState(path, { id: nodes[1].id, nodes: nodes[1].savedNodes() });
    const state = await loadDhtState(path);
    assert.deepEqual(state?.id, nodes[1].id);
    assert.ok(state!.nodes.length >= 1);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["dht.json"]);
    const warm = new DhtNode({ ...LOOPBACK, id: state!.id, nodes: state!.nodes });
    await warm.listen();
    try {
      await warm.bootstrap();
      assert.ok(warm.table.size >= 2, "warm start from the saved nodes");
    } finally {
      await warm.close();
    }
    await Deno.writeTextFile(path, "{not json");
    await assert.rejects(
      loadDhtState(path),
      (error: unknown) => error instanceof DhtError && error.code === "bad-state",
    );
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dht: a lookup does not wait for a silent node in the bootstrap lookup", async () => {
  const nodes = await mesh(3);
  const silent = await rawSocket();
  const infoHash = randomNodeId();
  // The silent seed comes first; it would hold the bootstrap lookup until its query times out.
  const fresh = new DhtNode({
    ...LOOPBACK,
    queryTimeoutMs: 5000,
    bootstrap: [{ host: "127.0.0.1", port: silent.port }, nodes[0].address!],
  });
  try {
    await nodes[1].getPeers(infoHash, { announce: { port: 40001 } });
    await fresh.listen();
    const stop = new AbortController();
    const timeoutsAtFirstPeer = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no peer in 10 s")), 10_000);
      fresh.getPeers(infoHash, {
        signal: stop.signal,
        onPeers: () => {
          clearTimeout(timer);
          resolve(fresh.stats.timeouts);
          stop.abort();
        },
      }).catch(reject);
    });
    assert.equal(timeoutsAtFirstPeer, 0, "the peer came only after the silent node timed out");
    assert.ok(await silent.next(), "the silent node was asked");
  } finally {
    await Promise.all([fresh.close(), silent.close(), ...nodes.map((node) => node.close())]);
  }
});

Deno.test("dht: a warm start from a long saved list asks fewer nodes than it lists", async () => {
  const nodes = await mesh(41);
  const saved = nodes.slice(1).map((node) => node.address!);
  const warm = new DhtNode({ ...LOOPBACK, nodes: saved });
  try {
    await warm.listen();
    await warm.bootstrap();
    assert.ok(warm.table.size >= 8, `the table holds ${warm.table.size} nodes`);
    assert.ok(
      warm.stats.queriesSent < saved.length,
      `${warm.stats.queriesSent} queries for ${saved.length} saved nodes`,
    );
  } finally {
    await Promise.all([warm.close(), ...nodes.map((node) => node.close())]);
  }
});

Deno.test("dht: binding an address without net permission rejects, and throws nothing uncaught", async () => {
  // The tests run with --allow-net=127.0.0.1; with more, the address is not ours (EADDRNOTAVAIL).
  const node = new DhtNode({ ...LOOPBACK, host: "10.0.0.2", port: 6881 });
  await assert.rejects(node.listen());
  await node.close();
});
