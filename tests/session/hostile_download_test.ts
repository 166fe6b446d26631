/**
 * Acceptance: a Bittern leecher downloads a 3-file torrent from one honest Bittern seeder
 * and one noisy-but-honest peer while ten hostile peers (tests/session/hostile_peers.ts)
 * misbehave at it. The download must be exact, the corrupt peer banned, and neither honest
 * peer banned or dropped before the download completes.
 *
 * Rounds: HOSTILE_ROUNDS (default 3); the acceptance bar is `HOSTILE_ROUNDS=20` all green:
 *
 *   HOSTILE_ROUNDS=20 deno test --allow-net=127.0.0.1 --allow-read --allow-write --allow-env \
 *     tests/session/hostile_download_test.ts
 *
 * HOSTILE_KINDS=corruptBlocks,unrequestedBlocks narrows the rounds' mix (to diagnose). A
 * second test runs each hostile kind alone once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, FileSystemStorage, Runtime, type Torrent } from "../../mod.ts";
import { payload, seededMemory, seededRandom, within } from "./helpers.ts";
import { HOSTILE_KINDS, type HostilePeer, noisyHonest } from "./hostile_peers.ts";

const listen = { hostname: "127.0.0.1", port: 0 };
// Every peer here is 127.0.0.1: allow many connections per IP (bans then go by IP and port).
const LOOPBACK = { maxConnectionsPerIp: 100 } as const;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: the defaults
  }
}

function rounds(): number {
  const value = env("HOSTILE_ROUNDS");
  const n = Number(value ?? 3);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new Error(`HOSTILE_ROUNDS must be an integer in 1..1000, got ${value}`);
  }
  return n;
}

interface Fixture {
  torrent: Torrent;
  /** All files concatenated. */
  data: Uint8Array;
  files: { name: string; data: Uint8Array }[];
}

/**
 * 3 files, ~6.3 MiB, 32 KiB pieces: 201 pieces (so the bitfield has 7 spare bits), 402
 * blocks: more than the first peer's request pipeline can swallow, so every data peer
 * gets requests.
 */
async function fixture(): Promise<Fixture> {
  const sizes = [2_600_000, 1_800_000, 2_166_001];
  const files = sizes.map((size, i) => ({ name: `file-${i}.bin`, data: payload(size, 17 + i) }));
  const { torrent } = await createTorrent(
    { name: "hostile", files: files.map((file) => ({ path: [file.name], data: file.data })) },
    { pieceLength: 32768 },
  );
  const data = new Uint8Array(torrent.length);
  let offset = 0;
  for (const file of files) {
    data.set(file.data, offset);
    offset += file.data.length;
  }
  assert.equal(torrent.pieceCount % 8 !== 0, true, "the fixture needs spare bitfield bits");
  return { torrent, data, files };
}

interface PeerEvent {
  address: string;
  reason: string;
  /** Whether the leecher had completed when this happened. */
  afterCompletion: boolean;
}

/** Resolves once `test()` holds, checking every 5 ms; rejects after `ms`. */
async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < ms / 5 + 1 && !test(); i++) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (!test()) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

type Kind = keyof typeof HOSTILE_KINDS;
const ALL_KINDS = Object.keys(HOSTILE_KINDS) as Kind[];

/** The mix for the rounds: HOSTILE_KINDS=corruptBlocks,garbage narrows it (to diagnose). */
function mix(): Kind[] {
  const value = env("HOSTILE_KINDS");
  if (!value) return ALL_KINDS;
  const kinds = value.split(",").map((kind) => kind.trim()) as Kind[];
  const unknown = kinds.filter((kind) => !ALL_KINDS.includes(kind));
  if (unknown.length) {
    throw new Error(`HOSTILE_KINDS: unknown ${unknown.join(", ")}; known: ${ALL_KINDS.join(", ")}`);
  }
  return kinds;
}

/**
 * One download: an honest Bittern seeder, the noisy-honest kit peer and the `kinds` of
 * hostile peers, dialled by a Bittern leecher in a round-dependent order. Fails as soon as
 * an honest peer is banned or dropped (the rest of the run cannot change the verdict).
 */
async function hostileRound(
  round: number,
  { torrent, data, files }: Fixture,
  kinds: readonly Kind[] = ALL_KINDS,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bittern-hostile-" });
  const seeder = new Runtime({ listen, ...LOOPBACK });
  const leecher = new Runtime({ listen, ...LOOPBACK });
  const options = { torrent, payload: data, seed: round + 1 };
  const noisy = noisyHonest(options);
  const hostile = kinds.map((kind) => HOSTILE_KINDS[kind](options));
  const corrupt = hostile.find((peer) => peer.kind === "corruptBlocks");
  const kit: HostilePeer[] = [noisy, ...hostile];
  let leecherClosed: Promise<void> | undefined;
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data) });
    const honest = `127.0.0.1:${seeder.port}`;
    const good = new Set([honest, noisy.address]);
    // Every round dials the peers in a different (reproducible) order: the hostile ones
    // first, the honest ones once every hostile peer has been dialled and the corrupt one
    // asked for data. On loopback a fast peer's request pipeline swallows a few MiB in
    // milliseconds; a peer that connects later may get no work at all, and then the test
    // would prove nothing about it.
    const random = seededRandom(1000 + round);
    const shuffle = <T>(items: T[]) =>
      items.map((item) => ({ item, key: random() })).sort((a, b) => a.key - b.key).map((x) =>
        x.item
      );
    const address = (port: number) => ({ host: "127.0.0.1", port });
    const peers = shuffle(hostile.map((peer) => address(peer.port)));
    const honestPeers = shuffle([address(seeder.port!), address(noisy.port)]);

    const session = await leecher.add(torrent, {
      storage: new FileSystemStorage(dir),
      peers,
      start: false,
    });
    const name = (address: string) =>
      address === honest ? "honest seeder" : kit.find((peer) => peer.address === address)?.kind ??
        address;
    let completed = false;
    const banned: PeerEvent[] = [];
    const disconnected: PeerEvent[] = [];
    let failedPieces = 0;
    const describe = (events: PeerEvent[]) => {
      // Peers are dropped (and some banned) again and again: one line per peer and reason.
      const counted = new Map<string, number>();
      for (const event of events) {
        const line = `${name(event.address)}: ${event.reason}`;
        counted.set(line, (counted.get(line) ?? 0) + 1);
      }
      return [...counted].map(([line, n]) => n > 1 ? `${line} (x${n})` : line).join("; ") ||
        "none";
    };
    const context = () => {
      const stats = session.stats();
      return `round ${round}; ${stats.verifiedPieces}/${stats.pieceCount} pieces, ${failedPieces} failed; ` +
        `connected: ${session.peers().map((peer) => name(peer.address)).join(", ") || "none"}; ` +
        `banned: ${describe(banned)}; dropped before completion: ${
          describe(disconnected.filter((e) => !e.afterCompletion))
        }; data peers (connections/requests/blocks/corrupted): ${
          kit.filter((peer) => peer.counts.requests > 0 || peer.counts.blocks > 0).map((peer) =>
            `${peer.kind} ${peer.counts.connections}/${peer.counts.requests}/${peer.counts.blocks}/${peer.counts.corrupted}`
          ).join(", ")
        }`;
    };
    let honestLost!: (error: Error) => void;
    const lost = new Promise<never>((_, reject) => honestLost = reject);
    lost.catch(() => {});
    session.events.on("completed", () => completed = true);
    session.events.on("peer-banned", ({ address, reason }) => {
      banned.push({ address, reason, afterCompletion: completed });
      if (good.has(address)) honestLost(new Error(`${name(address)} banned (${reason})`));
    });
    session.events.on("peer-disconnected", ({ address, reason }) => {
      disconnected.push({ address, reason, afterCompletion: completed });
      if (good.has(address) && !completed) {
        honestLost(new Error(`${name(address)} dropped before completion (${reason})`));
      }
    });
    session.events.on("piece-failed", () => failedPieces++);
    session.start();
    try {
      await until(
        () =>
          hostile.every((peer) => peer.counts.connections > 0) &&
          (!corrupt || corrupt.counts.requests > 0),
        10_000,
        "every hostile peer dialled and the corrupt one asked for data",
      );
      session.addPeers(honestPeers);
      await within(Promise.race([session.completed, lost]), 60_000, "download with hostile peers");
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${context()}`);
    }

    // Close the leecher (flushing its files) before reading them back.
    leecherClosed = leecher.close();
    await within(leecherClosed, 20_000, "closing the leecher");
    for (const file of files) {
      const got = await Deno.readFile(join(dir, "hostile", file.name));
      assert.ok(
        got.length === file.data.length && got.every((byte, i) => byte === file.data[i]),
        `round ${round}: ${file.name} differs from the seeded data`,
      );
    }
    for (const address of good) {
      assert.ok(
        !banned.some((event) => event.address === address),
        `${name(address)} banned: ${context()}`,
      );
    }
    if (corrupt) {
      assert.ok(
        corrupt.counts.corrupted > 0,
        `the corrupt peer sent no corrupt block: ${context()}`,
      );
      assert.ok(
        banned.some((event) => event.address === corrupt.address),
        `corrupt peer not banned: ${context()}`,
      );
    }
    // Every kit peer was dialled (so each misbehaviour was exercised), and the kit itself
    // had no errors.
    for (const peer of kit) {
      assert.ok(peer.counts.connections > 0, `${peer.kind} was never dialled: ${context()}`);
      assert.deepEqual(peer.errors, [], `${peer.kind} kit errors`);
    }
  } finally {
    await within(
      Promise.all([
        leecherClosed ?? leecher.close(),
        seeder.close(),
        ...kit.map((peer) => peer.close()),
      ]),
      30_000,
      "closing the swarm",
    );
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("session: a download survives every hostile peer at once; honest ones are never banned", async (t) => {
  const shared = await fixture();
  const total = rounds();
  const kinds = mix();
  for (let round = 0; round < total; round++) {
    await t.step(`round ${round + 1} of ${total}`, () => hostileRound(round, shared, kinds));
  }
});

Deno.test("session: a download survives each hostile peer alone", async (t) => {
  const shared = await fixture();
  for (const kind of ALL_KINDS) {
    await t.step(kind, () => hostileRound(0, shared, [kind]));
  }
});
