/**
 * The DHT (BEP 5, with BEP 43 read-only mode): KRPC codec, node ids, routing table, tokens,
 * peer store, rate limiting, the {@linkcode DhtNode}, and {@linkcode DhtPeerSource} that a
 * runtime shares among its torrents.
 *
 * @module
 */
export { DhtError, type DhtErrorCode, KrpcErrorCode } from "./errors.ts";
export {
  COMPACT_NODE_LENGTH,
  COMPACT_PEER_LENGTH,
  decodeCompactNodes,
  decodeDhtPeer,
  decodeKrpc,
  encodeCompactNodes,
  encodeDhtPeer,
  encodeKrpcError,
  encodeKrpcQuery,
  encodeKrpcResponse,
  isUsableAddress,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  MAX_DATAGRAM,
  type NodeContact,
} from "./krpc.ts";
export { parseIpv4 } from "../util/ip.ts";
export {
  commonPrefixLength,
  compareDistance,
  ID_LENGTH,
  nodeIdHex,
  randomIdWithPrefix,
  randomNodeId,
} from "./node_id.ts";
export {
  type AddResult,
  BUCKET_SIZE,
  type NodeStatus,
  QUESTIONABLE_AFTER_MS,
  type RoutingEntry,
  RoutingTable,
} from "./routing_table.ts";
export { TOKEN_ROTATION_MS, TokenManager } from "./tokens.ts";
export { PeerStore, type PeerStoreOptions } from "./peer_store.ts";
export { QueryRateLimiter } from "./rate_limit.ts";
export {
  DEFAULT_DHT_BOOTSTRAP,
  DhtNode,
  type DhtNodeOptions,
  type DhtStats,
  type LookupResult,
} from "./node.ts";
export { type DhtState, loadDhtState, saveDhtState } from "./state.ts";
export { type DhtOptions, DhtPeerSource } from "./peer_source.ts";
