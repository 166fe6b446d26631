// deno-lint-ignore-file no-console -- command-line output is this file's job
/** Shared helpers for the benchmarks: timing loops and result lines. */
import { seededRandom } from "../tests/session/helpers.ts";

/** Runs `fn` repeatedly for at least `seconds` (after one warm-up) and returns seconds per call. */
export function timePerCall(fn: () => unknown, seconds = 1): number {
  fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000 || calls < 3) {
    fn();
    calls++;
    elapsed = performance.now() - start;
  }
  return elapsed / 1000 / calls;
}

/**
 * Seconds per call of `ours` and `theirs`, measured in alternating rounds
 * (so both see the same machine load), keeping each one's best round.
 */
export function bestOfAlternating(
  ours: () => unknown,
  theirs: () => unknown,
  rounds = 5,
  secondsPerRound = 0.3,
): [number, number] {
  let bestOurs = Infinity;
  let bestTheirs = Infinity;
  for (let round = 0; round < rounds; round++) {
    bestOurs = Math.min(bestOurs, timePerCall(ours, secondsPerRound));
    bestTheirs = Math.min(bestTheirs, timePerCall(theirs, secondsPerRound));
  }
  return [bestOurs, bestTheirs];
}

/** MiB/s for `bytes` processed in `seconds`. */
export function mibPerSecond(bytes: number, seconds: number): number {
  return bytes / (1024 * 1024) / seconds;
}

/** Prints one comparison line: ours vs the baseline, with the ratio. */
export function report(label: string, ours: number, baseline: number, baselineName: string): void {
  const ratio = ours / baseline;
  console.log(
    `${label.padEnd(44)} bittern ${ours.toFixed(1).padStart(8)} MiB/s   ${baselineName} ${
      baseline.toFixed(1).padStart(8)
    } MiB/s   ratio ${ratio.toFixed(2)}x`,
  );
}

/** Deterministic pseudo-random bytes. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}
