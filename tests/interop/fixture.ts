/**
 * Shared pieces of the interop tests with other clients (aria2, Transmission, libtorrent):
 * a multi-file payload on disk and its torrent, byte-exact checks, bounded waits on session
 * events, and a free loopback port.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createTorrent,
  type PeerInfo,
  type SessionEvents,
  type TorrentSession,
} from "../../mod.ts";
import { seededBytes } from "../../src/testing/mod.ts";

/** One file of the interop payload: its path inside the torrent directory and its bytes. */
export interface FixtureFile {
  readonly path: readonly string[];
  readonly data: Uint8Array;
}

/** Name of the torrent's directory. */
export const FIXTURE_NAME = "interop";

/**
 * A multi-file payload with the awkward cases: nested directories, an empty file, a
 * non-ASCII name and files that do not end on a piece boundary.
 */
export const FIXTURE_FILES: readonly FixtureFile[] = [
  { path: ["alpha.bin"], data: seededBytes(1_500_000, 21) },
  { path: ["nested", "dir", "beta.bin"], data: seededBytes(77_777, 22) },
  { path: ["nested", "zero.txt"], data: new Uint8Array(0) },
  { path: ["gamma-é.bin"], data: seededBytes(2_345_678, 23) },
];

/** A payload: the torrent's directory name and its files. */
export interface FixturePayload {
  readonly name: string;
  readonly files: readonly FixtureFile[];
}

/** The default payload: `FIXTURE_FILES` under `FIXTURE_NAME`. */
export const FIXTURE: FixturePayload = { name: FIXTURE_NAME, files: FIXTURE_FILES };

/** Where the payload was written and its torrent. */
export interface Fixture {
  /** Directory holding `FIXTURE_NAME/...` (a seeder's data directory). */
  readonly dataDir: string;
  /** Path of the `.torrent` file. */
  readonly torrentPath: string;
  /** The metainfo bytes. */
  readonly bytes: Uint8Array;
  /** Lowercase hex info hash. */
  readonly infoHashHex: string;
}

/**
 * Writes the payload under `dir/<name>/` and a torrent of it at `dir/<name>.torrent`.
 *
 * @param dir A temp directory the caller removes.
 * @param announce Tracker URL to put in the torrent, if any.
 * @param payload What to write; default {@linkcode FIXTURE}.
 */
export async function writeFixture(
  dir: string,
  announce?: string,
  payload: FixturePayload = FIXTURE,
): Promise<Fixture> {
  for (const file of payload.files) {
    const path = join(dir, payload.name, ...file.path);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, file.data);
  }
  const { bytes, torrent } = await createTorrent(join(dir, payload.name), {
    pieceLength: 65536,
    announce: announce ? [announce] : undefined,
  });
  const torrentPath = join(dir, `${payload.name}.torrent`);
  await Deno.writeFile(torrentPath, bytes);
  return { dataDir: dir, torrentPath, bytes, infoHashHex: torrent.infoHashHex };
}

/**
 * Asserts that `dir/<name>/...` holds exactly the payload (default {@linkcode FIXTURE}). With
 * `allowMissingEmpty`, an empty file may be absent (Transmission 3.00 never creates zero-length
 * files).
 */
export async function assertFixture(
  dir: string,
  options: { allowMissingEmpty?: boolean; payload?: FixturePayload } = {},
): Promise<void> {
  const payload = options.payload ?? FIXTURE;
  for (const file of payload.files) {
    const name = file.path.join("/");
    const path = join(dir, payload.name, ...file.path);
    if (options.allowMissingEmpty && file.data.length === 0) {
      const exists = await Deno.stat(path).then(() => true, () => false);
      if (!exists) continue;
    }
    const got = await Deno.readFile(path);
    assert.ok(got.length === file.data.length, `${name}: ${got.length} bytes`);
    assert.ok(got.every((byte, i) => byte === file.data[i]), `${name}: content differs`);
  }
}

/** Rejects with `what` if `promise` has not settled after `ms` (the session tests' `within`). */
export { within as withTimeout } from "../session/helpers.ts";

/**
 * The first `type` event of `session` that passes `test`. Rejects after `ms`, and when
 * `signal` aborts (so a watcher that lost its race leaves no timer behind).
 */
export function sessionEvent<K extends keyof SessionEvents>(
  session: TorrentSession,
  type: K,
  test: (event: SessionEvents[K]) => boolean,
  ms: number,
  signal?: AbortSignal,
): Promise<SessionEvents[K]> {
  return new Promise((resolve, reject) => {
    const finish = (settle: () => void) => {
      off();
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
      settle();
    };
    const off = session.events.on(type, (event) => {
      if (test(event)) finish(() => resolve(event));
    });
    const timer = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${ms} ms: session event ${type}`))),
      ms,
    );
    const abort = () => finish(() => reject(signal?.reason));
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether `path` is an existing file (an installed client binary). */
export function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Records every `peer-connected` event of `session` from now on. */
export function recordPeers(session: TorrentSession): PeerInfo[] {
  const connected: PeerInfo[] = [];
  session.events.on("peer-connected", (peer) => connected.push(peer));
  return connected;
}
