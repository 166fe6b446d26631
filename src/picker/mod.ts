/**
 * Piece selection: which piece to download next.
 *
 * @example
 * ```ts
 * import { RarestFirstSelector, SequentialSelector } from "@bittern/bittern";
 *
 * const streaming = new SequentialSelector();
 * const swarm = new RarestFirstSelector({ randomize: true });
 * console.log(streaming.name, swarm.name);
 * ```
 *
 * @module
 */
export type { PieceSelector } from "./selector.ts";
export { SequentialSelector } from "./sequential.ts";
export { type RarestFirstOptions, RarestFirstSelector } from "./rarest.ts";
export { Availability } from "./availability.ts";
export { createSelector, type SelectorName } from "./named.ts";
export {
  PiecePriorities,
  type PiecePrioritiesOptions,
  type PriorityHandle,
  type PriorityWindow,
} from "./priority.ts";
