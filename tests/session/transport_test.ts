/**
 * Sessions over the transport seam and with MSE: an in-memory transport (no
 * sockets), encryption policies between two runtimes over TCP, and hostile
 * MSE connections that cost only themselves.
 */
import assert from "node:assert/strict";
import {
  type EncryptionPolicy,
  MemoryNetwork,
  MemoryStorage,
  MseKeyExchange,
  Runtime,
  type RuntimeOptions,
} from "../../mod.ts";
import { readAll, seededMemory, singleFile, within } from "./helpers.ts";

async function transfer(
  seederOptions: RuntimeOptions,
  leecherOptions: RuntimeOptions,
  seedPolicy?: EncryptionPolicy,
  leechPolicy?: EncryptionPolicy,
): Promise<void> {
  const { torrent, data } = await singleFile("transport.bin", 700_000);
  const seeder = new Runtime(seederOptions);
  const leecher = new Runtime(leecherOptions);
  try {
    await seeder.add(torrent, {
      storage: await seededMemory(torrent, data),
      trackers: false,
      encryption: seedPolicy,
    });
    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, {
      storage,
      trackers: false,
      encryption: leechPolicy,
      peers: [{
        host: seederOptions.listen ? seederOptions.listen.hostname! : "",
        port: seeder.port!,
      }],
    });
    await within(session.completed, 20_000, "the download");
    assert.deepEqual(await readAll(storage, torrent), data);
  } finally {
    await leecher.close();
    await seeder.close();
  }
}

Deno.test("a session over an in-memory transport (no sockets) downloads byte-exact", async () => {
  const network = new MemoryNetwork();
  await transfer(
    { transport: network.transport("10.0.0.1"), listen: { hostname: "10.0.0.1", port: 6881 } },
    { transport: network.transport("10.0.0.2"), listen: { hostname: "10.0.0.2", port: 6881 } },
  );
});

Deno.test("an in-memory transport carries MSE with RC4 (encryption: require) too", async () => {
  const network = new MemoryNetwork();
  await transfer(
    { transport: network.transport("10.0.0.1"), listen: { hostname: "10.0.0.1", port: 6881 } },
    { transport: network.transport("10.0.0.2"), listen: false },
    "require",
    "require",
  );
});

const loopback = { listen: { hostname: "127.0.0.1", port: 0 } } as const;

for (
  const [seed, leech] of [
    ["require", "prefer"],
    ["prefer", "require"],
    ["off", "prefer"],
    ["prefer", "off"],
  ] as const
) {
  Deno.test(`encryption over TCP: seeder ${seed}, leecher ${leech}: downloads`, async () => {
    await transfer(loopback, { listen: false }, seed, leech);
  });
}

Deno.test("encryption over TCP: a leecher that requires MSE cannot use a seeder with it off", async () => {
  const { torrent, data } = await singleFile("refused.bin", 100_000);
  const seeder = new Runtime({ ...loopback, encryption: "off" });
  const leecher = new Runtime({ listen: false, encryption: "require" });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data), trackers: false });
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      trackers: false,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
      start: false,
    });
    const failed = new Promise<string>((resolve) =>
      session.events.on("peer-failed", ({ reason }) => resolve(reason))
    );
    session.start();
    const reason = await within(failed, 15_000, "peer-failed");
    assert.match(reason, /MSE|encrypt/i);
  } finally {
    await leecher.close();
    await seeder.close();
  }
});

Deno.test("hostile MSE connections to a seeder cost only themselves", async () => {
  const { torrent, data } = await singleFile("hostile-mse.bin", 300_000);
  const seeder = new Runtime({ ...loopback, maxConnectionsPerIp: 16 });
  const leecher = new Runtime({ listen: false });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data), trackers: false });
    const attacks: Uint8Array[] = [
      crypto.getRandomValues(new Uint8Array(50)), // truncated key
      concat(new MseKeyExchange().publicKey, crypto.getRandomValues(new Uint8Array(2000))), // no marker
    ];
    for (const attack of attacks) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: seeder.port! });
      await conn.write(attack).catch(() => {});
      conn.closeWrite();
      // The seeder answers (its key), then closes on us: read to the end.
      const buffer = new Uint8Array(4096);
      while ((await within(conn.read(buffer), 15_000, "the seeder closing")) !== null) {
        /* drain */
      }
      conn.close();
    }
    const storage = new MemoryStorage();
    const session = await leecher.add(torrent, {
      storage,
      trackers: false,
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    await within(session.completed, 20_000, "the honest download");
    assert.deepEqual(await readAll(storage, torrent), data);
  } finally {
    await leecher.close();
    await seeder.close();
  }
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
