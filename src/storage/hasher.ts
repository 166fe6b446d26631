/**
 * SHA-1 of pieces: the `Sha1Hasher` seam and three implementations (node:crypto on the
 * main thread, Web Crypto, and a pool of Workers).
 */
import { createHash } from "node:crypto";

/**
 * A SHA-1 computed piecewise, synchronously: the piece layer feeds each block as it
 * arrives in order, so a completed piece needs no read-back. `update` must not keep
 * `data` after it returns (blocks are often views into a reused socket buffer);
 * `digest` is called once, after the last `update`.
 *
 * @example
 * ```ts
 * import { type IncrementalSha1, NodeCryptoHasher } from "@bittern/bittern";
 *
 * const hash: IncrementalSha1 = new NodeCryptoHasher().incremental();
 * hash.update(new Uint8Array(16384));
 * hash.update(new Uint8Array(16384));
 * console.log(hash.digest().length); // 20
 * ```
 */
export interface IncrementalSha1 {
  /** Adds `data` to the hash (consumed before returning; the caller may reuse it). */
  update(data: Uint8Array): void;
  /** The 20-byte SHA-1 of everything added. Call once. */
  digest(): Uint8Array;
}

/**
 * Computes piece SHA-1 digests. `sha1` must not keep `data` after its promise settles:
 * callers reuse buffers.
 *
 * `incremental` is optional so hashers written before it existed keep working: without
 * it the piece layer hashes in-order blocks with node:crypto on the main thread, and the
 * hasher is used only for whole pieces it reads back (out-of-order blocks, rechecks).
 * Implement it to own every SHA-1 the piece layer computes.
 *
 * @example
 * ```ts
 * import { NodeCryptoHasher, type Sha1Hasher } from "@bittern/bittern";
 *
 * const hasher: Sha1Hasher = new NodeCryptoHasher();
 * const digest = await hasher.sha1(new Uint8Array(16384));
 * console.log(digest.length); // 20
 * ```
 *
 * @example A custom hasher that counts what it hashes
 * ```ts
 * import { NodeCryptoHasher, type Sha1Hasher } from "@bittern/bittern";
 *
 * const inner = new NodeCryptoHasher();
 * let bytes = 0;
 * const counting: Sha1Hasher = {
 *   parallelism: 1,
 *   sha1: (data) => (bytes += data.length, inner.sha1(data)),
 *   incremental() {
 *     const hash = inner.incremental();
 *     return {
 *       update: (data) => (bytes += data.length, hash.update(data)),
 *       digest: () => hash.digest(),
 *     };
 *   },
 *   close() {},
 * };
 * ```
 */
export interface Sha1Hasher {
  /** How many digests it computes in parallel (a hint for how much to read ahead). */
  readonly parallelism: number;
  /** SHA-1 of `data` (20 bytes). */
  sha1(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: a fresh running SHA-1 for one piece's in-order blocks. Absent: the piece
   * layer uses node:crypto for those.
   */
  incremental?(): IncrementalSha1;
  /** Releases threads or other resources. */
  close(): void;
}

/** node:crypto's running SHA-1 behind {@linkcode IncrementalSha1}. */
function nodeCryptoIncremental(): IncrementalSha1 {
  const hash = createHash("sha1");
  return {
    // Hash.update copies the bytes into the native hash state before returning.
    update(data) {
      hash.update(data);
    },
    digest: () => new Uint8Array(hash.digest()),
  };
}

/**
 * node:crypto `createHash("sha1")` on the calling thread; the measured fastest per byte
 * (see bench/storage.ts) and the default.
 *
 * @example
 * ```ts
 * import { NodeCryptoHasher } from "@bittern/bittern";
 *
 * const digest = await new NodeCryptoHasher().sha1(new Uint8Array(1));
 * ```
 */
export class NodeCryptoHasher implements Sha1Hasher {
  /** One digest at a time (it runs on the calling thread). */
  readonly parallelism = 1;

  /**
   * SHA-1 of `data`, computed synchronously.
   *
   * @example
   * ```ts
   * import { NodeCryptoHasher } from "@bittern/bittern";
   *
   * const digest = await new NodeCryptoHasher().sha1(new Uint8Array(1));
   * ```
   *
   * @param data Bytes to hash.
   * @returns The 20-byte digest.
   */
  sha1(data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(createHash("sha1").update(data).digest()));
  }

  /**
   * A running SHA-1 (node:crypto `createHash`).
   *
   * @example
   * ```ts
   * import { NodeCryptoHasher } from "@bittern/bittern";
   *
   * const hash = new NodeCryptoHasher().incremental();
   * hash.update(new TextEncoder().encode("abc"));
   * const digest = hash.digest();
   * ```
   *
   * @returns A fresh running hash.
   */
  incremental(): IncrementalSha1 {
    return nodeCryptoIncremental();
  }

  /**
   * Nothing to release.
   *
   * @example
   * ```ts
   * import { NodeCryptoHasher } from "@bittern/bittern";
   *
   * new NodeCryptoHasher().close();
   * ```
   */
  close(): void {}
}

/**
 * Web Crypto `crypto.subtle.digest("SHA-1")`, which runs off the JavaScript thread.
 *
 * @example
 * ```ts
 * import { SubtleCryptoHasher } from "@bittern/bittern";
 *
 * const digest = await new SubtleCryptoHasher().sha1(new Uint8Array(1));
 * ```
 */
export class SubtleCryptoHasher implements Sha1Hasher {
  /** Digests are computed on a runtime thread pool; a couple in flight keeps it busy. */
  readonly parallelism = 2;

  /**
   * SHA-1 of `data` via Web Crypto.
   *
   * @example
   * ```ts
   * import { SubtleCryptoHasher } from "@bittern/bittern";
   *
   * const digest = await new SubtleCryptoHasher().sha1(new Uint8Array(1));
   * ```
   *
   * @param data Bytes to hash.
   * @returns The 20-byte digest.
   */
  async sha1(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.digest("SHA-1", data as Uint8Array<ArrayBuffer>));
  }

  /**
   * A running SHA-1. Web Crypto has no streaming digest and `digest` is asynchronous, so
   * this is node:crypto's `createHash` on the calling thread: in-order blocks are hashed
   * as they arrive, a block at a time, which never blocks for long.
   *
   * @example
   * ```ts
   * import { SubtleCryptoHasher } from "@bittern/bittern";
   *
   * const hash = new SubtleCryptoHasher().incremental();
   * hash.update(new Uint8Array(16384));
   * const digest = hash.digest();
   * ```
   *
   * @returns A fresh running hash.
   */
  incremental(): IncrementalSha1 {
    return nodeCryptoIncremental();
  }

  /**
   * Nothing to release.
   *
   * @example
   * ```ts
   * import { SubtleCryptoHasher } from "@bittern/bittern";
   *
   * new SubtleCryptoHasher().close();
   * ```
   */
  close(): void {}
}

interface PendingDigest {
  resolve(digest: Uint8Array): void;
  reject(error: Error): void;
}

/** A hashing Worker and the requests it has not answered yet. */
interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingDigest>;
}

/** Thrown when a hashing Worker fails or the pool is used after `close`. */
export class HasherError extends Error {
  /**
   * Creates a hasher error.
   *
   * @param message What failed.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HasherError";
  }
}

/**
 * SHA-1 in a small pool of Workers (node:crypto inside each), so hashing never blocks the
 * main thread. Each piece is copied once (then transferred) so the caller may reuse its
 * buffer. Call `close()` to terminate the Workers.
 *
 * @example
 * ```ts
 * import { WorkerPoolHasher } from "@bittern/bittern";
 *
 * const hasher = new WorkerPoolHasher(2);
 * try {
 *   const digest = await hasher.sha1(new Uint8Array(1 << 20));
 * } finally {
 *   hasher.close();
 * }
 * ```
 */
export class WorkerPoolHasher implements Sha1Hasher {
  /** Number of Workers. */
  readonly parallelism: number;
  readonly #workers: PoolWorker[] = [];
  #nextId = 0;
  #closed = false;

  /**
   * Starts the Workers.
   *
   * @param size Number of Workers (default: the number of cores, at least 1, at most 8).
   */
  constructor(size: number = Math.min(8, Math.max(1, navigator.hardwareConcurrency || 1))) {
    this.parallelism = Math.max(1, Math.floor(size));
    for (let i = 0; i < this.parallelism; i++) this.#workers.push(this.#spawn());
  }

  /**
   * Hashes `data` on the least busy Worker.
   *
   * @example
   * ```ts
   * import { WorkerPoolHasher } from "@bittern/bittern";
   *
   * const hasher = new WorkerPoolHasher(1);
   * await hasher.sha1(new Uint8Array(16384));
   * hasher.close();
   * ```
   *
   * @param data Bytes to hash (copied to the Worker).
   * @returns The 20-byte digest.
   */
  sha1(data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new HasherError("the hashing worker pool is closed"));
    let target = this.#workers[0];
    for (const candidate of this.#workers) {
      if (candidate.pending.size < target.pending.size) target = candidate;
    }
    const id = this.#nextId++;
    const owned = data.slice();
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage({ id, data: owned }, [owned.buffer as ArrayBuffer]);
    });
  }

  /**
   * A running SHA-1, on the calling thread (node:crypto `createHash`), not in a Worker:
   * `update` and `digest` are synchronous, and posting every block to a Worker would cost
   * a copy and a message per block to save hashing one block (tens of microseconds).
   * The Workers keep the work that can block for long: hashing whole pieces read back
   * (out-of-order blocks, rechecks).
   *
   * @example
   * ```ts
   * import { WorkerPoolHasher } from "@bittern/bittern";
   *
   * const hasher = new WorkerPoolHasher(1);
   * const hash = hasher.incremental();
   * hash.update(new Uint8Array(16384));
   * const digest = hash.digest();
   * hasher.close();
   * ```
   *
   * @returns A fresh running hash.
   * @throws {HasherError} after `close`, like `sha1`.
   */
  incremental(): IncrementalSha1 {
    if (this.#closed) throw new HasherError("the hashing worker pool is closed");
    return nodeCryptoIncremental();
  }

  /**
   * Terminates the Workers; pending digests fail.
   *
   * @example
   * ```ts
   * import { WorkerPoolHasher } from "@bittern/bittern";
   *
   * new WorkerPoolHasher(1).close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { worker, pending } of this.#workers) {
      worker.terminate();
      for (const waiting of pending.values()) {
        waiting.reject(new HasherError("the hashing worker pool was closed"));
      }
      pending.clear();
    }
  }

  #spawn(): PoolWorker {
    const worker = new Worker(new URL("./hash_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const pending = new Map<number, PendingDigest>();
    worker.onmessage = (event: MessageEvent<{ id: number; digest: Uint8Array }>) => {
      const waiting = pending.get(event.data.id);
      pending.delete(event.data.id);
      waiting?.resolve(event.data.digest);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const error = new HasherError(`hashing worker failed: ${event.message}`);
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
    };
    return { worker, pending };
  }
}
