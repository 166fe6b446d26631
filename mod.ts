/**
 * Bittern: a BitTorrent library for Deno.
 *
 * This is the front door: everything public is re-exported from here.
 *
 * @example Decoding bencode
 * ```ts
 * import { decode } from "@bittern/bittern";
 *
 * console.log(decode(new TextEncoder().encode("i42e"))); // 42
 * ```
 *
 * @module
 */
export * from "./src/bencode/mod.ts";
export * from "./src/picker/mod.ts";
export { Bitfield, BitfieldError } from "./src/util/bitfield.ts";
export { addressKey } from "./src/util/address.ts";
export * from "./src/schema/mod.ts";
export * from "./src/metainfo/mod.ts";
export * from "./src/storage/mod.ts";
export * from "./src/fetch/mod.ts";
export * from "./src/transport/mod.ts";
export * from "./src/wire/mod.ts";
export * from "./src/tracker/mod.ts";
export * from "./src/peers/mod.ts";
export * from "./src/dht/mod.ts";
export * from "./src/agents/mod.ts";
export * from "./src/session/mod.ts";
export * from "./src/webseed/mod.ts";
export * from "./src/stream/mod.ts";
export { Emitter, type Listener } from "./src/util/emitter.ts";
export {
  type BandwidthClock,
  BandwidthLimiter,
  type BandwidthLimiterOptions,
  SYSTEM_CLOCK,
} from "./src/util/bandwidth.ts";
export { fromHex, toHex } from "./src/util/bytes.ts";
export { explainPermission, PermissionError, type PermissionKind } from "./src/util/permissions.ts";
export { VERSION } from "./src/version.ts";
