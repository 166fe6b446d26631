/**
 * Torrent sessions on a shared runtime.
 *
 * @example
 * ```ts
 * import { Runtime } from "@bittern/bittern";
 *
 * const runtime = new Runtime({ listen: { hostname: "127.0.0.1", port: 0 } });
 * await runtime.close();
 * ```
 *
 * @module
 */
export { Runtime } from "./runtime.ts";
export type { TorrentSession } from "./session.ts";
export { DEFAULT_SESSION_CONFIG } from "./options.ts";
export type { RateLimits, RuntimeOptions, SessionOptions } from "./options.ts";
export type { SessionConfig } from "./core.ts";
export type { PeerInfo, RuntimeEvents, SessionEvents, SessionStats } from "./events.ts";
export { PeerViolation } from "./peer.ts";
export {
  decodeMetadataMessage,
  encodeMetadataMessage,
  METADATA_PIECE_SIZE,
} from "./agents/metadata_message.ts";
export type { MetadataMessage } from "./agents/metadata_message.ts";
