import { type BencodeDict, type BencodeValue, encode, locate, type Span } from "../bencode/mod.ts";

const CHAR_D = 0x64;
const CHAR_E = 0x65;
const INFO_KEY = new TextEncoder().encode("4:info");

/**
 * The raw byte span of the top-level `info` value of `bytes`, given `root`,
 * its decoded form, without walking the document a second time.
 *
 * Why this works: the strict decoder accepts only canonical integers and
 * string lengths, so a decoded value's byte length equals the length of its
 * re-encoding, whatever the order of its dictionary keys. Only the (small)
 * other top-level values are re-encoded; the span found is checked against the
 * bytes, and {@linkcode locate} is used when the check fails.
 *
 * @example
 * ```ts ignore
 * const span = infoSpan(bytes, decode(bytes, { allowUnsortedKeys: true }) as BencodeDict);
 * ```
 *
 * @param bytes The whole document.
 * @param root Its decoded top-level dictionary, which has an `info` key.
 * @returns The span of the `info` value.
 */
export function infoSpan(bytes: Uint8Array, root: BencodeDict): Span {
  const keys = [...root.rawKeys()];
  const values = [...root.values()];
  const index = keys.findIndex((key) => key.length === 4 && isInfoKey(key, 0));
  let start = 1;
  for (let i = 0; i < index; i++) start += entryLength(keys[i], values[i]);
  start += INFO_KEY.length;
  let end = bytes.length - 1;
  for (let i = index + 1; i < keys.length; i++) end -= entryLength(keys[i], values[i]);
  const plausible = index >= 0 && bytes[start] === CHAR_D && bytes[end - 1] === CHAR_E &&
    isInfoKey(bytes, start - INFO_KEY.length + 2) && bytes[start - INFO_KEY.length] === 0x34;
  if (plausible) return { start, end };
  return locate(bytes, ["info"], { allowUnsortedKeys: true, maxLength: bytes.length })!;
}

function isInfoKey(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x69 && bytes[at + 1] === 0x6e && bytes[at + 2] === 0x66 &&
    bytes[at + 3] === 0x6f;
}

function entryLength(key: Uint8Array, value: BencodeValue): number {
  return String(key.length).length + 1 + key.length + encode(value).length;
}
