import { createHash } from "node:crypto";
import { type Encodable, encode } from "../../src/bencode/mod.ts";

/** SHA-1 of `bytes` as lowercase hex. */
export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/** `count` dummy piece hashes. */
export function pieces(count: number): Uint8Array {
  return new Uint8Array(count * 20).fill(7);
}

/** A bencoded torrent whose info dictionary is `info` and whose top level adds `extra`. */
export function torrentBytes(
  info: Record<string, Encodable>,
  extra: Record<string, Encodable> = {},
): Uint8Array {
  return encode({ ...extra, info });
}

/** A minimal valid single-file info dictionary. */
export function singleInfo(overrides: Record<string, Encodable> = {}): Record<string, Encodable> {
  return {
    name: "file.bin",
    "piece length": 16384,
    length: 40000,
    pieces: pieces(3),
    ...overrides,
  };
}
