import assert from "node:assert/strict";
import { createTorrent, MemoryStorage, Runtime } from "../../mod.ts";
import { YOURIP, yourIpAgent, type YourIpReport } from "../../examples/yourip.ts";
import { seededMemory } from "../session/helpers.ts";

Deno.test("example yourip: exchanged both ways between supporting peers, never sent to others", async () => {
  const data = new Uint8Array(100_000).map((_, i) => i * 13);
  const { torrent } = await createTorrent({ name: "yourip.bin", data }, { pieceLength: 16384 });
  const listen = { hostname: "127.0.0.1", port: 0 };
  const [seeder, leecher, plain] = [
    new Runtime({ maxConnectionsPerIp: 64, listen }),
    new Runtime({ maxConnectionsPerIp: 64, listen }),
    new Runtime({ maxConnectionsPerIp: 64, listen }),
  ];
  const seederReports: YourIpReport[] = [];
  const leecherReports: YourIpReport[] = [];
  const seederAgent = yourIpAgent((report) => seederReports.push(report));
  try {
    const seed = await seeder.add(torrent, {
      storage: await seededMemory(torrent, data),
      agents: [seederAgent],
    });
    assert.ok(seed.extensionNames.includes(YOURIP));
    const session = await leecher.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
      agents: [yourIpAgent((report) => leecherReports.push(report))],
    });
    // A peer without the agent: the seeder must not send it the message.
    const other = await plain.add(torrent, {
      storage: new MemoryStorage(),
      peers: [{ host: "127.0.0.1", port: seeder.port! }],
    });
    assert.ok(!other.extensionNames.includes(YOURIP));
    await Promise.all([session.completed, other.completed]);
    assert.deepEqual(leecherReports.map((r) => r.address), ["127.0.0.1"]);
    assert.deepEqual(seederReports.map((r) => r.address), ["127.0.0.1"]);
    assert.equal(seederAgent.sentTo.length, 1, `sent to ${seederAgent.sentTo}`);
    assert.equal(seederAgent.skipped.length, 1, `skipped ${seederAgent.skipped}`);
  } finally {
    await Promise.all([seeder.close(), leecher.close(), plain.close()]);
  }
});
