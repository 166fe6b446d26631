// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * `deno task demo`: what a newcomer runs first.
 *
 * For now it builds a small torrent in memory, decodes it and prints what it
 * holds; the swarm download demo replaces it once sessions land.
 */
import { type BencodeDict, decode, encode, locate } from "./mod.ts";
import { toHex } from "./src/util/bytes.ts";
import { createHash } from "node:crypto";

const pieceLength = 16384;
const payload = new Uint8Array(40_000).map((_, i) => (i * 31) & 255);
const hashes: Uint8Array[] = [];
for (let offset = 0; offset < payload.length; offset += pieceLength) {
  const piece = payload.subarray(offset, offset + pieceLength);
  hashes.push(new Uint8Array(createHash("sha1").update(piece).digest()));
}
const pieces = new Uint8Array(hashes.length * 20);
hashes.forEach((hash, i) => pieces.set(hash, i * 20));

const torrent = encode({
  announce: "http://127.0.0.1:6969/announce",
  "created by": "bittern demo",
  info: { length: payload.length, name: "demo.bin", "piece length": pieceLength, pieces },
});
const span = locate(torrent, ["info"])!;
const infoHash = createHash("sha1").update(torrent.subarray(span.start, span.end)).digest();
const info = (decode(torrent) as BencodeDict).get("info") as BencodeDict;

console.log(`torrent:      ${torrent.length} bytes of bencode`);
console.log(`name:         ${new TextDecoder().decode(info.get("name") as Uint8Array)}`);
console.log(`info hash:    ${toHex(new Uint8Array(infoHash))}`);
console.log(
  `length:       ${info.get("length")} bytes in ${hashes.length} pieces of ${pieceLength}`,
);
