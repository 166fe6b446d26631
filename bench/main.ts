/**
 * Runs every benchmark (`deno task bench`). Each prints Bittern's figure, a
 * baseline measured in the same run, and the ratio.
 *
 * `deno task bench [name...]` runs only the named ones
 * (bencode, metainfo, wire, storage, download, memory, scale, swarm, seeder-memory, pieces, magnet).
 */
import { run as bencode } from "./bencode.ts";
import { run as download, runMemory as memory } from "./download.ts";
import { run as magnet } from "./magnet.ts";
import { run as metainfo } from "./metainfo.ts";
import { run as pieces } from "./pieces.ts";
import { run as scale } from "./scale.ts";
import { run as seederMemory } from "./seeder_memory.ts";
import { run as storage } from "./storage.ts";
import { run as swarm } from "./swarm.ts";
import { run as wire } from "./wire.ts";

const benches: Record<string, () => unknown> = {
  bencode,
  metainfo,
  wire,
  storage,
  download,
  memory,
  scale,
  swarm,
  "seeder-memory": seederMemory,
  pieces,
  magnet: () => magnet(),
};
const chosen = Deno.args.length ? Deno.args : Object.keys(benches);
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    throw new Error(`unknown benchmark '${name}'; choose from ${Object.keys(benches).join(", ")}`);
  }
  await bench();
}
