import { pieceLengthAt, type Torrent, visibleFiles } from "../metainfo/torrent.ts";
import type { PiecePriorities } from "../picker/priority.ts";
import { StreamError } from "./errors.ts";

/** Options of `TorrentSession.createReadStream`. */
export interface ReadStreamOptions {
  /** First byte of the file to read (default 0). */
  readonly start?: number;
  /** Last byte to read, inclusive as in HTTP ranges (default: the file's last byte). */
  readonly end?: number;
}

/** What a stream reads from: one torrent session's verified pieces. */
export interface StreamSource {
  readonly torrent: Torrent;
  /** Where the stream registers its reader's window. */
  readonly priorities: PiecePriorities;
  /** Whether the storage can read back (not write-only). */
  readonly readable: boolean;
  isVerified(piece: number): boolean;
  isWanted(piece: number): boolean;
  /** Reads bytes of a verified piece. */
  read(piece: number, offset: number, length: number): Promise<Uint8Array>;
  /** Calls `listener` as each piece verifies; returns a function removing it. */
  onVerified(listener: (piece: number) => void): () => void;
  /** Calls `listener` once the session stopped for good; returns a function removing it. */
  onStopped(listener: (reason: string) => void): () => void;
}

/** Bytes read from storage per chunk (and at most one piece's rest). */
const CHUNK_BYTES = 64 << 10;
/** Bytes a stream reads ahead of its consumer (verified data only). */
const QUEUE_BYTES = 256 << 10;

/**
 * A stream of one file's bytes `start..end` (inclusive), yielded in order as
 * their pieces verify. While open, its reader's window is in the session's
 * priorities (moved as it reads); cancelling or finishing drops it.
 *
 * @throws {StreamError} `bad-file`, `bad-range` or `unreadable`.
 */
export function createFileStream(
  source: StreamSource,
  fileIndex: number,
  options: ReadStreamOptions = {},
): ReadableStream<Uint8Array> {
  const { torrent } = source;
  const files = visibleFiles(torrent);
  const target = `file ${fileIndex}`;
  if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= files.length) {
    throw new StreamError("bad-file", target, `the torrent has ${files.length} files`);
  }
  const file = files[fileIndex];
  const start = options.start ?? 0;
  const end = options.end ?? file.length - 1;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0) {
    throw new StreamError("bad-range", target, `start and end must be whole byte offsets`);
  }
  if (end >= file.length || start > end + 1) {
    throw new StreamError(
      "bad-range",
      target,
      `bytes ${start}..${end} do not fit the file (${file.length} bytes)`,
    );
  }
  if (!source.readable) {
    throw new StreamError(
      "unreadable",
      target,
      "the storage is write-only (the filesystem back-end needs --allow-read for the " +
        "download directory to read verified data back)",
    );
  }
  if (start > end) return new ReadableStream({ start: (controller) => controller.close() });

  const pieceLength = torrent.pieceLength;
  let position = file.offset + start;
  const stop = file.offset + end + 1;
  const firstPiece = Math.floor(position / pieceLength);
  const lastPiece = Math.floor((stop - 1) / pieceLength);
  let fetchUnwanted = false;
  for (let piece = firstPiece; piece <= lastPiece && !fetchUnwanted; piece++) {
    fetchUnwanted = !source.isWanted(piece);
  }
  let window: { move(position: number): void; close(): void } | undefined;
  let waiting: { piece: number; resolve(): void; reject(error: Error): void } | undefined;
  let ended: Error | undefined;
  let finished = false;
  const stopListening: (() => void)[] = [];

  const finish = () => {
    if (finished) return;
    finished = true;
    window?.close();
    for (const remove of stopListening) remove();
    waiting?.resolve();
    waiting = undefined;
  };

  const verified = (piece: number): Promise<void> => {
    if (source.isVerified(piece)) return Promise.resolve();
    if (ended) return Promise.reject(ended);
    return new Promise((resolve, reject) => waiting = { piece, resolve, reject });
  };

  return new ReadableStream<Uint8Array>({
    start() {
      window = source.priorities.open({ position: firstPiece, last: lastPiece, fetchUnwanted });
      stopListening.push(
        source.onVerified((piece) => {
          if (waiting?.piece !== piece) return;
          const { resolve } = waiting;
          waiting = undefined;
          resolve();
        }),
        source.onStopped((reason) => {
          ended = new StreamError("stopped", target, `the session stopped (${reason})`);
          waiting?.reject(ended);
          waiting = undefined;
        }),
      );
    },
    async pull(controller) {
      try {
        const piece = Math.floor(position / pieceLength);
        window?.move(piece);
        await verified(piece);
        if (finished) return;
        const pieceStart = piece * pieceLength;
        const pieceEnd = Math.min(pieceStart + pieceLengthAt(torrent, piece), stop);
        const length = Math.min(pieceEnd - position, CHUNK_BYTES);
        const bytes = await source.read(piece, position - pieceStart, length);
        if (finished) return;
        position += length;
        controller.enqueue(bytes);
        if (position >= stop) {
          finish();
          controller.close();
        }
      } catch (error) {
        finish();
        throw error;
      }
    },
    cancel() {
      finish();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_BYTES }));
}
