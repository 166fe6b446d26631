/** A seeder slowed down at its storage, so that streams finish before downloads do. */
import {
  createTorrent,
  type MemoryStorage,
  Runtime,
  type Storage,
  type Torrent,
  type TorrentSession,
  type TorrentStorage,
} from "../../mod.ts";
import { payload, seededMemory, within } from "../session/helpers.ts";

/**
 * Wraps a storage so that reads take `length / bytesPerSecond` each, one after
 * another: the seeder serves at most `bytesPerSecond` (a slow disk).
 */
export class ThrottledStorage implements Storage {
  readonly #inner: Storage;
  readonly #bytesPerSecond: number;
  #nextFree = 0;
  /** Off while the seeder checks its data at start; on once it serves. */
  throttling = false;

  constructor(inner: Storage, bytesPerSecond: number) {
    this.#inner = inner;
    this.#bytesPerSecond = bytesPerSecond;
  }

  async open(torrent: Torrent): Promise<TorrentStorage> {
    const inner = await this.#inner.open(torrent);
    // Reads still waiting when the storage closes go at once (no timer outlives a test).
    const waiting = new Map<ReturnType<typeof setTimeout>, () => void>();
    return {
      read: async (piece, offset, length) => {
        if (!this.throttling) return inner.read(piece, offset, length);
        const now = performance.now();
        this.#nextFree = Math.max(now, this.#nextFree) + length / this.#bytesPerSecond * 1000;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            waiting.delete(timer);
            resolve();
          }, this.#nextFree - now);
          waiting.set(timer, resolve);
        });
        return inner.read(piece, offset, length);
      },
      write: (piece, offset, data) => inner.write(piece, offset, data),
      flush: () => inner.flush(),
      close: () => {
        for (const [timer, resolve] of waiting) {
          clearTimeout(timer);
          resolve();
        }
        waiting.clear();
        return inner.close();
      },
    };
  }
}

/** A slow seeder and a leecher (filesystem storage in a temp dir) of a multi-file torrent. */
export interface StreamScene extends AsyncDisposable {
  readonly torrent: Torrent;
  readonly files: readonly Uint8Array[];
  readonly leecher: TorrentSession;
  readonly dir: string;
}

/** A seeder of a multi-file torrent (files `f0.bin`, ...) serving at most `bytesPerSecond`. */
export interface SlowSeeder extends AsyncDisposable {
  readonly torrent: Torrent;
  readonly files: readonly Uint8Array[];
  readonly port: number;
}

/** Starts a {@linkcode SlowSeeder} on 127.0.0.1 (DHT off). */
export async function slowSeeder(
  sizes: readonly number[],
  bytesPerSecond: number,
  pieceLength = 65536,
): Promise<SlowSeeder> {
  const files = sizes.map((size, index) => payload(size, 11 + index));
  const { torrent } = await createTorrent({
    name: "scene",
    files: files.map((data, index) => ({ path: [`f${index}.bin`], data })),
  }, { pieceLength });
  const whole = new Uint8Array(torrent.length);
  let offset = 0;
  for (const data of files) {
    whole.set(data, offset);
    offset += data.length;
  }
  const storage: MemoryStorage = await seededMemory(torrent, whole);
  const seeder = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 }, dht: false });
  const throttled = new ThrottledStorage(storage, bytesPerSecond);
  await seeder.add(torrent, { storage: throttled });
  throttled.throttling = true;
  return {
    torrent,
    files,
    port: seeder.port!,
    [Symbol.asyncDispose]: () => seeder.close(),
  };
}

/** Files of `sizes` bytes, served at `bytesPerSecond`; the leecher wants `wantedFiles`. */
export async function streamScene(
  sizes: readonly number[],
  bytesPerSecond: number,
  options: { pieceLength?: number; wantedFiles?: number[]; start?: boolean; seed?: boolean } = {},
): Promise<StreamScene> {
  const seeder = await slowSeeder(sizes, bytesPerSecond, options.pieceLength);
  const dir = await Deno.makeTempDir({ prefix: "bittern-stream-" });
  const leech = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 }, dht: false });
  const leecher = await leech.add(seeder.torrent, {
    out: dir,
    peers: [{ host: "127.0.0.1", port: seeder.port }],
    wantedFiles: options.wantedFiles,
    start: options.start,
    seed: options.seed,
  });
  return {
    torrent: seeder.torrent,
    files: seeder.files,
    leecher,
    dir,
    async [Symbol.asyncDispose]() {
      await leech.close();
      await seeder[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads a stream to its end (within `ms`), concatenated. */
export async function readStream(
  stream: ReadableStream<Uint8Array>,
  ms = 60_000,
): Promise<Uint8Array> {
  const read = async () => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of stream) {
      chunks.push(chunk);
      length += chunk.length;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  };
  return await within(read(), ms, "reading the stream");
}
