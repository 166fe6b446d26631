/**
 * Runs every benchmark (`deno task bench`). Each prints Bittern's figure, a
 * baseline measured in the same run, and the ratio.
 *
 * `deno task bench [name...]` runs only the named ones
 * (bencode, metainfo, wire, storage, download, memory, scale, swarm, seeder-memory, pieces, magnet,
 * btmh, profile, dht, ratelimit, webseed, stream);
 * options after the names go to each, e.g. `deno task bench seeder-memory --scenario flood`.
 */
import { run as bencode } from "./bencode.ts";
import { run as btmh } from "./btmh.ts";
import { run as dht } from "./dht.ts";
import { run as download, runMemory as memory } from "./download.ts";
import { run as magnet } from "./magnet.ts";
import { run as metainfo } from "./metainfo.ts";
import { run as pieces } from "./pieces.ts";
import { run as profile } from "./profile.ts";
import { run as ratelimit } from "./ratelimit.ts";
import { run as scale } from "./scale.ts";
import { run as seederMemory } from "./seeder_memory.ts";
import { run as storage } from "./storage.ts";
import { run as stream } from "./stream.ts";
import { run as swarm } from "./swarm.ts";
import { run as webseed } from "./webseed.ts";
import { run as wire } from "./wire.ts";

// Only swarm, seeder-memory, dht, ratelimit, webseed and stream take options; the others run
// with their defaults.
const benches: Record<string, (options: string[]) => unknown> = {
  bencode: () => bencode(),
  metainfo: () => metainfo(),
  wire: () => wire(),
  storage: () => storage(),
  download: () => download(),
  memory: () => memory(),
  scale: () => scale(),
  swarm,
  "seeder-memory": seederMemory,
  pieces: () => pieces(),
  magnet: () => magnet(),
  btmh: () => btmh(),
  profile: () => profile(),
  dht,
  ratelimit,
  webseed,
  stream,
};
// Names come first; everything from the first `--option` on goes to each chosen benchmark.
const firstOption = Deno.args.findIndex((arg) => arg.startsWith("--"));
const names = firstOption < 0 ? Deno.args : Deno.args.slice(0, firstOption);
const options = firstOption < 0 ? [] : Deno.args.slice(firstOption);
const chosen = names.length ? names : Object.keys(benches);
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    throw new Error(`unknown benchmark '${name}'; choose from ${Object.keys(benches).join(", ")}`);
  }
  await bench(options);
}
