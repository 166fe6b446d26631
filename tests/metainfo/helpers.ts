import { createHash } from "node:crypto";
import { type Encodable, encode } from "../../src/bencode/mod.ts";
import { type CliResult, runDeno } from "../cli/helpers.ts";

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

/** A multi-file torrent whose files each start on a piece boundary, as hybrid torrents do. */
export interface PaddedTorrent {
  /** The bencoded metainfo. */
  readonly bytes: Uint8Array;
  /** The torrent's name (its directory). */
  readonly name: string;
  /** The files people see, in order, with their contents. */
  readonly files: readonly { readonly name: string; readonly data: Uint8Array }[];
}

/**
 * A torrent over `files` (name → bytes) with a BEP 47 padding file (`attr: "p"`, under
 * `.pad/`) after every file but the last, so each file starts a piece; real piece hashes.
 */
export function paddedTorrent(
  files: readonly { readonly name: string; readonly data: Uint8Array }[],
  pieceLength = 16384,
  name = "padded",
): PaddedTorrent {
  const entries: Record<string, Encodable>[] = [];
  const chunks: Uint8Array[] = [];
  files.forEach((file, i) => {
    entries.push({ length: file.data.length, path: [file.name] });
    chunks.push(file.data);
    const pad = (pieceLength - file.data.length % pieceLength) % pieceLength;
    if (i < files.length - 1 && pad > 0) {
      entries.push({ length: pad, path: [".pad", String(pad)], attr: "p" });
      chunks.push(new Uint8Array(pad));
    }
  });
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  const count = Math.ceil(total / pieceLength);
  const hashes = new Uint8Array(count * 20);
  for (let piece = 0; piece < count; piece++) {
    const bytes = data.subarray(piece * pieceLength, (piece + 1) * pieceLength);
    hashes.set(createHash("sha1").update(bytes).digest(), piece * 20);
  }
  const bytes = torrentBytes({ name, "piece length": pieceLength, pieces: hashes, files: entries });
  return { bytes, name, files };
}

const CLI = new URL("../../cli/", import.meta.url).href;

/** Runs one of the metainfo commands (`cli/<command>.ts`) in a child Deno, as a user would. */
export function runMetainfoCommand(command: "create" | "info", args: string[]): Promise<CliResult> {
  const code = `
    import { main } from "${CLI}${command}.ts";
    Deno.exit(await main(JSON.parse(Deno.args[0])));`;
  return runDeno([
    "eval",
    "--no-prompt",
    "--allow-read",
    "--allow-write",
    code,
    JSON.stringify(args),
  ]);
}
