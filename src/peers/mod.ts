/**
 * Peers: BEP 20 peer ids and the client names they encode.
 *
 * @example
 * ```ts
 * import { clientName, generatePeerId } from "@bittern/bittern";
 *
 * console.log(clientName(generatePeerId())); // "Bittern 0.1.0"
 * ```
 *
 * @module
 */
export { DEFAULT_PEER_ID_PREFIX, generatePeerId, PeerIdError } from "./peer_id.ts";
export { clientName } from "./client_name.ts";
export {
  parsePeerAddress,
  type PeerSource,
  type PeerSourceContext,
  StaticPeerSource,
} from "./source.ts";
export { TrackerPeerSource, type TrackerPeerSourceOptions } from "./tracker_source.ts";
export { pexAgent, PexFlags, type PexOptions } from "./pex.ts";
