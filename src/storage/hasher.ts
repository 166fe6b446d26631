/**
 * SHA-1 of pieces: the `Sha1Hasher` seam and three implementations (node:crypto on the
 * main thread, Web Crypto, and a pool of Workers).
 */
import { createHash } from "node:crypto";

/**
 * Computes piece SHA-1 digests. `sha1` must not keep `data` after its promise settles:
 * callers reuse buffers.
 *
 * @example
 * ```ts
 * import { NodeCryptoHasher, type Sha1Hasher } from "@bittern/bittern";
 *
 * const hasher: Sha1Hasher = new NodeCryptoHasher();
 * const digest = await hasher.sha1(new Uint8Array(16384));
 * console.log(digest.length); // 20
 * ```
 */
export interface Sha1Hasher {
  /** How many digests it computes in parallel (a hint for how much to read ahead). */
  readonly parallelism: number;
  /** SHA-1 of `data` (20 bytes). */
  sha1(data: Uint8Array): Promise<Uint8Array>;
  /** Releases threads or other resources. */
  close(): void;
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
