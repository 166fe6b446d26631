/**
 * Web seeds (BEP 19 GetRight-style `url-list`, BEP 17 Hoffman-style `httpseeds`):
 * HTTP(S) servers as peers that have every piece.
 *
 * @module
 */
export { WebSeedError } from "./errors.ts";
export type { WebSeedErrorCode } from "./errors.ts";
export { webSeedFileUrl, webSeedParts } from "./layout.ts";
export type { WebSeedPart } from "./layout.ts";
export { WebSeedPeer } from "./peer.ts";
export type { WebSeedPeerOptions } from "./peer.ts";
