/**
 * RC4 throughput, TypeScript against WebAssembly: `deno run bench/rc4.ts`.
 * Prints MiB/s (median of 5 runs of 64 MiB in 256 KiB slices) for each.
 */
// deno-lint-ignore-file no-console -- a bench prints its figures
import { Rc4, type Rc4Cipher, WasmRc4 } from "../src/wire/mse/rc4.ts";

const SLICE = 256 * 1024;
const TOTAL = 64 * 1024 * 1024;

function measure(make: () => Rc4Cipher): number {
  const cipher = make();
  const data = new Uint8Array(SLICE);
  const start = performance.now();
  for (let done = 0; done < TOTAL; done += SLICE) cipher.process(data);
  return TOTAL / 1048576 / ((performance.now() - start) / 1000);
}

const key = crypto.getRandomValues(new Uint8Array(20));
for (
  const [name, make] of [["typescript", () => new Rc4(key)], [
    "wasm",
    () => new WasmRc4(key),
  ]] as const
) {
  measure(make); // warm-up
  const runs = Array.from({ length: 5 }, () => measure(make)).sort((a, b) => a - b);
  console.log(
    `rc4 ${name}: ${runs[2].toFixed(0)} MiB/s (runs ${runs.map((r) => r.toFixed(0)).join(", ")})`,
  );
}
