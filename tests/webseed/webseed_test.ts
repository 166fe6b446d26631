import assert from "node:assert/strict";
import {
  createTorrent,
  formatMagnet,
  MemoryStorage,
  Runtime,
  type SessionEvents,
  type Torrent,
  type TorrentSession,
  WebSeedError,
} from "../../mod.ts";
import { payload, readAll, seededMemory, within } from "../session/helpers.ts";
import { serveFiles, type ServerMode, type TestServer } from "./server.ts";

/** A multi-file torrent whose files do not end on piece boundaries, and its data. */
async function album(): Promise<
  { torrent: Torrent; data: Uint8Array; files: Map<string, Uint8Array> }
> {
  const parts = [
    { path: ["a b.bin"], data: payload(150_000, 1) },
    { path: ["dir", "c%d.bin"], data: payload(70_001, 2) },
    { path: ["empty"], data: new Uint8Array(0) },
    { path: ["e.bin"], data: payload(1_300_000, 3) },
  ];
  const { torrent } = await createTorrent({ name: "album", files: parts }, { pieceLength: 32768 });
  const data = new Uint8Array(torrent.length);
  let offset = 0;
  const files = new Map<string, Uint8Array>();
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
    files.set(["album", ...part.path].join("/"), part.data);
  }
  return { torrent, data, files };
}

type Failure = SessionEvents["web-seed-failed"];

async function download(
  torrent: Torrent,
  options: {
    webSeeds: string[];
    peers?: { host: string; port: number }[];
    onFailure?: (failure: Failure) => void;
  },
  check: (session: TorrentSession, failures: Failure[]) => Promise<void> | void,
): Promise<Uint8Array> {
  const runtime = new Runtime({ listen: false, maxConnectionsPerIp: 64 });
  const storage = new MemoryStorage();
  try {
    const session = await runtime.add(torrent, {
      storage,
      webSeeds: options.webSeeds,
      peers: options.peers,
      trackers: false,
      webSeedRetryMs: 100,
      seed: false,
      start: false,
    });
    const failures: Failure[] = [];
    session.events.on("web-seed-failed", (event) => {
      failures.push(event);
      options.onFailure?.(event);
    });
    session.start();
    await within(session.completed, 30_000, "download");
    await check(session, failures);
    return await readAll(storage, torrent);
  } finally {
    await runtime.close();
  }
}

Deno.test("web seed: a multi-file torrent downloads from one web seed alone, byte-exact", async () => {
  const { torrent, data, files } = await album();
  const server = serveFiles(files);
  try {
    const got = await download(torrent, { webSeeds: [server.url] }, (session, failures) => {
      assert.deepEqual(failures, []);
      assert.ok(session.stats().downloaded >= torrent.length, "web seed bytes are counted");
    });
    assert.deepEqual(got, data);
    // Spans become ranges within files: one request per file touched, never one per block.
    assert.ok(server.seen.every((range) => /^bytes=\d+-\d+$/.test(range)), server.seen.join());
    assert.ok(server.requests < torrent.length / 16384, `${server.requests} requests`);
  } finally {
    await server.close();
  }
});

Deno.test("web seed: a single-file torrent, URL naming the file and URL ending in /", async () => {
  const data = payload(200_000, 9);
  const { torrent } = await createTorrent({ name: "one file.iso", data }, { pieceLength: 16384 });
  const server = serveFiles(new Map([["one file.iso", data], ["other/path.iso", data]]));
  try {
    assert.deepEqual(await download(torrent, { webSeeds: [server.url] }, () => {}), data);
    assert.deepEqual(
      await download(torrent, { webSeeds: [server.url + "other/path.iso"] }, () => {}),
      data,
    );
  } finally {
    await server.close();
  }
});

/** Each hostile server, and the `WebSeedError` code its first failure has. */
const HOSTILE: [ServerMode, string][] = [
  ["wrong-bytes", "corrupt"],
  ["ignore-range", "ignored-range"],
  ["short-body", "short-body"],
  ["cut-body", "connection"],
  ["redirect-loop", "connection"],
  ["416", "status"],
  ["503", "status"],
  ["wrong-range", "content-range"],
  ["long-body", "long-body"],
];

for (const [mode, code] of HOSTILE) {
  Deno.test(`web seed: a ${mode} server backs off; the download completes from a good seed`, async () => {
    const { torrent, data, files } = await album();
    const bad = serveFiles(files, mode);
    // The good seed answers only once the bad one failed: the failure is seen, not raced.
    let open!: () => void;
    const good = serveFiles(files, "good", undefined, new Promise((resolve) => open = resolve));
    try {
      const got = await download(
        torrent,
        { webSeeds: [bad.url, good.url], onFailure: () => open() },
        (session, failures) => {
          const own = failures.filter((failure) => failure.url === bad.url);
          assert.ok(own.length > 0, `no web-seed-failed for the ${mode} server`);
          const error = own[0].error;
          assert.ok(error instanceof WebSeedError, error.message);
          assert.equal(error.code, code, error.message);
          assert.ok(failures.every((failure) => failure.url === bad.url), "the good seed failed");
          if (mode === "503") assert.equal(own[0].retryInMs, 1000, "Retry-After honoured");
          assert.ok(session.verified.hasAll());
        },
      );
      assert.deepEqual(got, data, "no wrong piece");
    } finally {
      await bad.close();
      await good.close();
    }
  });
}

Deno.test("web seed: a corrupting web seed beside a wire seeder: completes, the seed is dropped", async () => {
  const { torrent, data, files } = await album();
  const bad = serveFiles(files, "wrong-bytes");
  const seeder = new Runtime({
    listen: { hostname: "127.0.0.1", port: 0 },
    maxConnectionsPerIp: 64,
  });
  try {
    await seeder.add(torrent, { storage: await seededMemory(torrent, data), trackers: false });
    const got = await download(
      torrent,
      { webSeeds: [bad.url], peers: [{ host: "127.0.0.1", port: seeder.port! }] },
      (_session, failures) => {
        assert.ok(failures.some((failure) => /hash/.test(failure.error.message)), "hash failure");
      },
    );
    assert.deepEqual(got, data);
  } finally {
    await seeder.close();
    await bad.close();
  }
});

Deno.test("web seed: BEP 17 (httpseeds) from the metainfo", async () => {
  const { torrent: plain, data } = await album();
  const server: TestServer = serveFiles(new Map(), "hoffman", {
    data,
    pieceLength: plain.pieceLength,
  });
  try {
    const torrent: Torrent = {
      ...plain,
      webSeeds: [{ url: server.url + "seed.php", kind: "hoffman" }],
    };
    assert.deepEqual(await download(torrent, { webSeeds: [] }, () => {}), data);
    const hash = [...torrent.infoHash].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
    assert.ok(server.seen[0].startsWith(`?info_hash=${hash}&piece=`), server.seen[0]);
  } finally {
    await server.close();
  }
});

Deno.test("web seed: a busy BEP 17 script's 503 body says how long to wait", async () => {
  const { torrent: plain } = await album();
  const server = serveFiles(new Map(), "hoffman-busy");
  const runtime = new Runtime({ listen: false });
  try {
    const torrent: Torrent = {
      ...plain,
      webSeeds: [{ url: server.url + "seed.php", kind: "hoffman" }],
    };
    const session = await runtime.add(torrent, {
      storage: new MemoryStorage(),
      trackers: false,
      start: false,
    });
    const failed = new Promise<Failure>((resolve) => session.events.on("web-seed-failed", resolve));
    session.start();
    const failure = await within(failed, 10_000, "a web-seed-failed event");
    assert.equal(failure.retryInMs, 2000);
    assert.match(failure.error.message, /HTTP 503/);
  } finally {
    await runtime.close();
    await server.close();
  }
});

Deno.test("web seed: a seed that always fails is given up after repeated failures", async () => {
  const { torrent, files } = await album();
  const bad = serveFiles(files, "416");
  const runtime = new Runtime({ listen: false });
  try {
    const session = await runtime.add(torrent, {
      storage: new MemoryStorage(),
      webSeeds: [bad.url],
      trackers: false,
      webSeedRetryMs: 10,
      maxWebSeedFailures: 3,
      start: false,
    });
    const failures: Failure[] = [];
    const gaveUp = new Promise<void>((resolve) =>
      session.events.on("web-seed-failed", (event) => {
        failures.push(event);
        if (event.retryInMs === undefined) resolve();
      })
    );
    session.start();
    await within(gaveUp, 10_000, "giving up");
    assert.equal(failures.length, 3);
    assert.deepEqual(failures.map((failure) => failure.retryInMs), [10, 20, undefined]);
    assert.match(failures[0].error.message, /HTTP 416/);
  } finally {
    await runtime.close();
    await bad.close();
  }
});

Deno.test("web seed: a torrent's web seed the process may not reach is given up with a PermissionError", async () => {
  const { torrent: plain } = await album();
  const torrent: Torrent = {
    ...plain,
    webSeeds: [{ url: "http://192.0.2.1:8/album/", kind: "getright" }],
  };
  const runtime = new Runtime({ listen: false });
  try {
    const session = await runtime.add(torrent, {
      storage: new MemoryStorage(),
      trackers: false,
      start: false,
    });
    const failed = new Promise<Failure>((resolve) => session.events.on("web-seed-failed", resolve));
    session.start();
    const failure = await within(failed, 10_000, "a web-seed-failed event");
    assert.equal(failure.error.name, "PermissionError");
    assert.match(failure.error.message, /--allow-net=192\.0\.2\.1:8/);
    assert.equal(failure.retryInMs, undefined, "given up at once");
    assert.ok(session.running, "the session goes on");
  } finally {
    await runtime.close();
  }
});

Deno.test("web seed: a URL the process may not reach is a PermissionError naming the flag", async () => {
  const runtime = new Runtime({ listen: false });
  const { torrent } = await album();
  try {
    await assert.rejects(
      runtime.add(torrent, { storage: new MemoryStorage(), webSeeds: ["http://192.0.2.1:8/x"] }),
      (error: Error) =>
        error.name === "PermissionError" && /--allow-net=192\.0\.2\.1:8/.test(error.message),
    );
    await assert.rejects(
      runtime.add(torrent, { storage: new MemoryStorage(), webSeeds: ["ftp://127.0.0.1/x"] }),
      /not an http/,
    );
  } finally {
    await runtime.close();
  }
});

Deno.test("web seed: a magnet link's ws= serves the data once the metadata came from a peer", async () => {
  const { torrent, data, files } = await album();
  const server = serveFiles(files);
  // This peer has the metadata but no piece: everything must come from the web seed.
  const metadataOnly = new Runtime({
    listen: { hostname: "127.0.0.1", port: 0 },
    maxConnectionsPerIp: 64,
  });
  const runtime = new Runtime({ listen: false, maxConnectionsPerIp: 64 });
  try {
    await metadataOnly.add(torrent, { storage: new MemoryStorage(), trackers: false });
    const storage = new MemoryStorage();
    const link = formatMagnet({
      infoHash: torrent.infoHash,
      peers: [{ host: "127.0.0.1", port: metadataOnly.port! }],
      webSeeds: [server.url],
    });
    const session = await runtime.add(link, { storage, trackers: false, seed: false });
    await within(session.completed, 30_000, "download from a magnet's web seed");
    assert.deepEqual(await readAll(storage, torrent), data);
    assert.ok(server.requests > 0);
  } finally {
    await runtime.close();
    await metadataOnly.close();
    await server.close();
  }
});
