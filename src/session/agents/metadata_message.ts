import { BencodeDict } from "../../bencode/dict.ts";
import { decodePrefix } from "../../bencode/decode.ts";
import { encode } from "../../bencode/encode.ts";
import { PeerViolation } from "../peer.ts";

/** Size of a metadata piece (BEP 9): every piece but the last is exactly this long. */
export const METADATA_PIECE_SIZE = 16 * 1024;

/**
 * A BEP 9 `ut_metadata` message. In `data`, `bytes` is a view into the
 * payload it was decoded from: copy it to keep it.
 *
 * @example
 * ```ts
 * import type { MetadataMessage } from "@bittern/bittern";
 *
 * const ask: MetadataMessage = { type: "request", piece: 0 };
 * ```
 */
export type MetadataMessage =
  | { readonly type: "request"; readonly piece: number }
  | {
    readonly type: "data";
    readonly piece: number;
    readonly totalSize: number;
    readonly bytes: Uint8Array;
  }
  | { readonly type: "reject"; readonly piece: number };

const TYPES = ["request", "data", "reject"] as const;

/**
 * Encodes a `ut_metadata` message: a bencoded dictionary, followed by the
 * piece's bytes for `data`.
 *
 * @example
 * ```ts
 * import { encodeMetadataMessage } from "@bittern/bittern";
 *
 * const payload = encodeMetadataMessage({ type: "reject", piece: 2 });
 * console.log(new TextDecoder().decode(payload)); // d8:msg_typei2e5:piecei2ee
 * ```
 *
 * @param message The message.
 * @returns The extended message payload.
 */
export function encodeMetadataMessage(message: MetadataMessage): Uint8Array {
  const head = encode(
    message.type === "data"
      ? { msg_type: 1, piece: message.piece, total_size: message.totalSize }
      : { msg_type: message.type === "request" ? 0 : 2, piece: message.piece },
  );
  if (message.type !== "data") return head;
  const out = new Uint8Array(head.length + message.bytes.length);
  out.set(head, 0);
  out.set(message.bytes, head.length);
  return out;
}

/**
 * Decodes a `ut_metadata` message. Throws a {@linkcode PeerViolation}
 * (`bad-metadata-message`) naming what is wrong: not a bencoded dictionary,
 * an unknown `msg_type`, a missing or negative `piece`, a `data` message
 * without `total_size`, or bytes after a `request`/`reject`.
 *
 * @example
 * ```ts
 * import { decodeMetadataMessage } from "@bittern/bittern";
 *
 * const message = decodeMetadataMessage(new TextEncoder().encode("d8:msg_typei0e5:piecei3ee"));
 * console.log(message); // { type: "request", piece: 3 }
 * ```
 *
 * @param payload The extended message payload (after the extended id).
 * @returns The message; `bytes` of `data` is a view into `payload`.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  let head: { value: unknown; end: number };
  try {
    head = decodePrefix(payload, { allowUnsortedKeys: true, maxDepth: 4 });
  } catch (error) {
    throw bad(`not bencode (${(error as Error).message})`);
  }
  if (!(head.value instanceof BencodeDict)) throw bad("not a dictionary");
  const dict = head.value;
  const typeCode = dict.get("msg_type");
  const piece = dict.get("piece");
  const type = typeof typeCode === "number" ? TYPES[typeCode] : undefined;
  if (type === undefined) throw bad(`unknown msg_type ${String(typeCode)}`);
  if (typeof piece !== "number" || !Number.isSafeInteger(piece) || piece < 0) {
    throw bad(`${type} with piece ${String(piece)}`);
  }
  if (type !== "data") {
    if (head.end !== payload.length) {
      throw bad(`${type} followed by ${payload.length - head.end} bytes`);
    }
    return { type, piece };
  }
  const totalSize = dict.get("total_size");
  if (typeof totalSize !== "number" || !Number.isSafeInteger(totalSize) || totalSize <= 0) {
    throw bad(`data for piece ${piece} with total_size ${String(totalSize)}`);
  }
  return { type, piece, totalSize, bytes: payload.subarray(head.end) };
}

function bad(what: string): PeerViolation {
  return new PeerViolation("bad-metadata-message", `ut_metadata message: ${what}`);
}
