import type { BencodeDict } from "./dict.ts";

/**
 * A decoded bencode value: byte strings are `Uint8Array`, integers are
 * `number` inside the safe range and `bigint` beyond it.
 */
export type BencodeValue = Uint8Array | number | bigint | BencodeValue[] | BencodeDict;

/**
 * What {@linkcode encode} accepts: every {@linkcode BencodeValue}, plus JS
 * strings (encoded as UTF-8), plain objects and `Map`s as dictionaries.
 */
export type Encodable =
  | BencodeValue
  | string
  | readonly Encodable[]
  | BencodeDict
  | ReadonlyMap<string | Uint8Array, Encodable>
  | { readonly [key: string]: Encodable };
