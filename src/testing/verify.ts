/**
 * Byte-exact checks of a peer's data against the payload, by file (filesystem) or by piece
 * (any storage).
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { Torrent } from "../metainfo/torrent.ts";
import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { Storage } from "../storage/types.ts";
import { SwarmError } from "./errors.ts";
import type { Payload } from "./payload.ts";

/** Index of the first byte where `a` and `b` differ, or -1 when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  // A native comparison first: a JS byte loop over a swarm's worth of payload takes seconds.
  const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view(a).equals(view(b))) return -1;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

/**
 * Throws a {@linkcode SwarmError} naming `name`, and the file or piece and offset, unless the
 * peer's data equals the payload. Files are read from `dir` when given, else pieces from
 * `storage`.
 */
export async function verifyPeerPayload(
  name: string,
  torrent: Torrent,
  payload: Payload,
  storage: Storage,
  dir: string | undefined,
): Promise<void> {
  const expected = payload.data;
  if (dir !== undefined) {
    for (const file of torrent.files) {
      const where = file.path.join("/");
      let got: Uint8Array;
      try {
        got = await Deno.readFile(join(dir, ...file.path));
      } catch (error) {
        throw new SwarmError(`swarm: ${name} cannot read ${where}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const want = expected.subarray(file.offset, file.offset + file.length);
      const at = firstDifference(got, want);
      if (at >= 0) {
        throw new SwarmError(
          `swarm: ${name} has wrong bytes in ${where} from offset ${at} ` +
            `(${got.length} bytes, expected ${want.length})`,
        );
      }
    }
    return;
  }
  const opened = await storage.open(torrent);
  try {
    for (let piece = 0; piece < torrent.pieceCount; piece++) {
      const start = piece * torrent.pieceLength;
      const length = pieceLengthAt(torrent, piece);
      let got: Uint8Array;
      try {
        got = await opened.read(piece, 0, length);
      } catch (error) {
        throw new SwarmError(
          `swarm: ${name} cannot read piece ${piece}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const at = firstDifference(got, expected.subarray(start, start + length));
      if (at >= 0) {
        throw new SwarmError(`swarm: ${name} has wrong bytes in piece ${piece} at offset ${at}`);
      }
    }
  } finally {
    await opened.close();
  }
}
