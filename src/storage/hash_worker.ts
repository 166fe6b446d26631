/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Worker side of {@linkcode WorkerPoolHasher}: SHA-1 of each transferred buffer.
 * @module
 */
import { createHash } from "node:crypto";

/** A request from the pool: hash `data`, answer with the same `id`. */
interface HashRequest {
  readonly id: number;
  readonly data: Uint8Array;
}

self.onmessage = (event: MessageEvent<HashRequest>) => {
  const { id, data } = event.data;
  const digest = new Uint8Array(createHash("sha1").update(data).digest());
  self.postMessage({ id, digest }, [digest.buffer]);
};
