/**
 * Runs every benchmark (`deno task bench`). Each prints Bittern's figure, a
 * baseline measured in the same run, and the ratio.
 */
import { run as bencode } from "./bencode.ts";

await bencode();
