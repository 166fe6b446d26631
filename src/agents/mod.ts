/**
 * Messaging agents: user code that consumes and produces standard and
 * extended messages, per peer.
 *
 * @example
 * ```ts
 * import type { MessagingAgent } from "@bittern/bittern";
 *
 * const logger: MessagingAgent = {
 *   name: "logger",
 *   connected: (peer) => console.log("connected", peer.key, peer.client),
 * };
 * ```
 *
 * @module
 */
export type {
  AgentPeer,
  AgentSession,
  BlockRef,
  BlockWriteStatus,
  MessageHandlers,
  MessageOf,
  MessagingAgent,
  MetadataPhaseAgent,
  MetadataSession,
} from "./agent.ts";
