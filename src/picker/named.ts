import { RarestFirstSelector } from "./rarest.ts";
import type { PieceSelector } from "./selector.ts";
import { SequentialSelector } from "./sequential.ts";

/** Names of the built-in selectors, as the CLI's `--selector` takes them. */
export type SelectorName = "sequential" | "rarest" | "random-rarest";

/**
 * A built-in selector by name.
 *
 * @example
 * ```ts
 * import { createSelector } from "@bittern/bittern";
 *
 * console.log(createSelector("rarest").name); // rarest
 * ```
 *
 * @param name Which selector.
 * @returns A new selector.
 */
export function createSelector(name: SelectorName): PieceSelector {
  switch (name) {
    case "sequential":
      return new SequentialSelector();
    case "rarest":
      return new RarestFirstSelector();
    case "random-rarest":
      return new RarestFirstSelector({ randomize: true });
  }
}
