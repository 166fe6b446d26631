/**
 * The set-up every client interop test shares: a temp directory with the seeder's data, a
 * download directory and scratch space, the fixture torrent (announcing to a fresh opentracker
 * that whitelists it, when asked), and a Bittern runtime listening on 127.0.0.1. Closing the
 * scene stops, in order, what the test registered (client processes), the runtime, the
 * tracker, and removes the directory, even when the set-up itself failed half-way.
 */
import { join } from "node:path";
import { Runtime } from "../../mod.ts";
import { type Fixture, freePort, writeFixture } from "./fixture.ts";
import { type Opentracker, startOpentracker } from "./opentracker_process.ts";

/** One test's world; `await using` closes it. */
export interface Scene extends AsyncDisposable {
  /** Holds the payload (`FIXTURE_NAME/...`) and the torrent file: a seeder's directory. */
  readonly seedDir: string;
  /** Empty at start: where the leecher downloads to. */
  readonly outDir: string;
  /** Empty at start: for client configuration. */
  readonly scratchDir: string;
  readonly fixture: Fixture;
  /** Bittern, listening on 127.0.0.1 (an ephemeral port). */
  readonly runtime: Runtime;
  /** The tracker in the torrent's announce URL, when the scene was made with one. */
  readonly tracker: Opentracker | undefined;
  /** Registers a clean-up that runs first on close (the last registered runs first). */
  defer(cleanup: () => Promise<void> | void): void;
}

/**
 * Makes a scene.
 *
 * @param name Short name for the temp directory.
 * @param options `tracker`: start opentracker and put it in the torrent.
 */
export async function createScene(
  name: string,
  options: { tracker?: boolean } = {},
): Promise<Scene> {
  const root = await Deno.makeTempDir({ prefix: `bittern-${name}-` });
  const cleanups: (() => Promise<void> | void)[] = [() => Deno.remove(root, { recursive: true })];
  const close = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw new AggregateError(errors, `closing the ${name} scene`);
  };
  try {
    const [seedDir, outDir, scratchDir] = ["seed", "out", "scratch"].map((dir) => join(root, dir));
    for (const dir of [seedDir, outDir, scratchDir]) await Deno.mkdir(dir);
    // The announce URL goes into the torrent, and the tracker whitelists the torrent's hash.
    const trackerPort = options.tracker ? freePort() : undefined;
    const fixture = await writeFixture(
      seedDir,
      trackerPort ? `http://127.0.0.1:${trackerPort}/announce` : undefined,
    );
    const tracker = trackerPort
      ? await startOpentracker([fixture.infoHashHex], trackerPort)
      : undefined;
    if (tracker) cleanups.push(() => tracker.close());
    const runtime = new Runtime({
      maxConnectionsPerIp: 64,
      listen: { hostname: "127.0.0.1", port: 0 },
    });
    cleanups.push(() => runtime.close());
    return {
      seedDir,
      outDir,
      scratchDir,
      fixture,
      runtime,
      tracker,
      defer: (cleanup) => void cleanups.push(cleanup),
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
