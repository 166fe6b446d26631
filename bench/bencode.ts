// deno-lint-ignore-file no-console -- command-line output is this file's job
/**
 * Bencode throughput against npm `bencode@4`, measured in the same run.
 *
 * Run: `deno run bench/bencode.ts` (or `deno task bench`).
 */
// deno-lint-ignore no-import-prefix -- bench-only: kept out of the root import map
import npmBencode from "npm:bencode@4";
import { decode, type Encodable, encode } from "../mod.ts";
import { bestOfAlternating, mibPerSecond, report, seededBytes } from "./util.ts";

/** A metainfo with `count` files, about 100 bytes per file entry. */
export function generatedMetainfo(count: number): Uint8Array {
  const files = [];
  for (let i = 0; i < count; i++) {
    files.push({
      length: 1000 + i * 37,
      path: [`directory-${i % 97}`, `subdirectory-${i % 13}`, `a-longer-file-name-number-${i}.dat`],
    });
  }
  const pieceCount = 1024;
  return encode({
    announce: "http://127.0.0.1:6969/announce",
    "creation date": 1764000000,
    info: {
      files,
      name: "generated",
      "piece length": 262144,
      pieces: seededBytes(pieceCount * 20, 1),
    },
  });
}

function trackerResponse(): Uint8Array {
  const dictPeers = [];
  for (let i = 0; i < 500; i++) {
    dictPeers.push({ ip: `10.0.${i >> 8}.${i & 255}`, "peer id": seededBytes(20, i), port: 6881 });
  }
  return encode({
    complete: 1200,
    incomplete: 1300,
    interval: 1800,
    peers: seededBytes(2000 * 6, 2),
    peers6: seededBytes(200 * 18, 3),
    "peers-dict": dictPeers,
  });
}

function piecesString(): Uint8Array {
  return encode({ pieces: seededBytes(4 * 1024 * 1024, 4) });
}

/** Runs the bencode benchmark and prints MiB/s and ratios. */
export function run(): void {
  console.log("\n## bencode (vs npm bencode@4)");
  const cases: [string, Uint8Array][] = [
    [`metainfo, 20,000 files`, generatedMetainfo(20_000)],
    [`tracker response, 2,000 compact + 500 dict`, trackerResponse()],
    [`4 MiB pieces string`, piecesString()],
  ];
  for (const [name, bytes] of cases) {
    const size = `(${(bytes.length / 1024 / 1024).toFixed(2)} MiB)`;
    const [ours, theirs] = bestOfAlternating(() => decode(bytes), () => npmBencode.decode(bytes));
    report(
      `decode ${name} ${size}`,
      mibPerSecond(bytes.length, ours),
      mibPerSecond(bytes.length, theirs),
      "npm",
    );
    const value = decode(bytes);
    const npmValue = npmBencode.decode(bytes);
    const [oursEncode, theirsEncode] = bestOfAlternating(
      () => encode(value as Encodable),
      () => npmBencode.encode(npmValue),
    );
    report(
      `encode ${name}`,
      mibPerSecond(bytes.length, oursEncode),
      mibPerSecond(bytes.length, theirsEncode),
      "npm",
    );
  }
}

if (import.meta.main) run();
