/**
 * Shared fixtures for session tests (and other tests and benchmarks): payloads, a seeded
 * PRNG, seeded memory storage, timeouts.
 */
import { createTorrent, MemoryStorage, type Torrent } from "../../mod.ts";

/** Deterministic bytes. */
export function payload(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** Small deterministic PRNG (mulberry32): numbers in [0, 1), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A single-file torrent of `length` deterministic bytes. */
export async function singleFile(
  name: string,
  length: number,
  pieceLength = 16384,
): Promise<{ torrent: Torrent; data: Uint8Array }> {
  const data = payload(length, name.length * 7919);
  const { torrent } = await createTorrent({ name, data }, { pieceLength });
  return { torrent, data };
}

/** Memory storage already holding `data` for `torrent`. */
export async function seededMemory(torrent: Torrent, data: Uint8Array): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const opened = await storage.open(torrent);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    const start = piece * torrent.pieceLength;
    await opened.write(
      piece,
      0,
      data.subarray(start, Math.min(start + torrent.pieceLength, data.length)),
    );
  }
  await opened.close();
  return storage;
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Reads every piece of `torrent` back from `storage` and concatenates them. */
export async function readAll(storage: MemoryStorage, torrent: Torrent): Promise<Uint8Array> {
  const opened = await storage.open(torrent);
  const out = new Uint8Array(torrent.length);
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    const start = piece * torrent.pieceLength;
    const length = Math.min(torrent.pieceLength, torrent.length - start);
    out.set(await opened.read(piece, 0, length), start);
  }
  return out;
}
