/**
 * Byte-exact checks of a peer's data against the payload: every piece read back through its
 * storage, and in filesystem mode every file on disk too.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { Torrent } from "../metainfo/torrent.ts";
import { pieceLengthAt } from "../metainfo/torrent.ts";
import type { Storage, TorrentStorage } from "../storage/types.ts";
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
 * peer's data equals the payload. Every piece is read back through the storage: `live` (the
 * session's own open storage, so a back-end that keeps its bytes per `open` is read where it
 * wrote) or else `storage` opened anew. With `dir`, the files on disk are compared too.
 */
export async function verifyPeerPayload(
  name: string,
  torrent: Torrent,
  payload: Payload,
  storage: Storage,
  dir: string | undefined,
  live?: TorrentStorage,
): Promise<void> {
  if (dir !== undefined) await verifyFiles(name, torrent, payload, dir);
  if (live) return await verifyPieces(name, torrent, payload, live);
  const opened = await storage.open(torrent);
  try {
    await verifyPieces(name, torrent, payload, opened);
  } finally {
    await opened.close();
  }
}

async function verifyFiles(
  name: string,
  torrent: Torrent,
  payload: Payload,
  dir: string,
): Promise<void> {
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
    const want = payload.data.subarray(file.offset, file.offset + file.length);
    const at = firstDifference(got, want);
    if (at >= 0) {
      throw new SwarmError(
        `swarm: ${name} has wrong bytes in ${where} from offset ${at} ` +
          `(${got.length} bytes, expected ${want.length})`,
      );
    }
  }
}

async function verifyPieces(
  name: string,
  torrent: Torrent,
  payload: Payload,
  storage: TorrentStorage,
): Promise<void> {
  const expected = payload.data;
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    const start = piece * torrent.pieceLength;
    const length = pieceLengthAt(torrent, piece);
    let got: Uint8Array;
    try {
      got = await storage.read(piece, 0, length);
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
}
