/**
 * The localhost swarm kit: build a swarm of seeders and leechers inside a test and run real
 * torrent sessions on 127.0.0.1, with real sockets, optionally the built-in tracker, files
 * in a temp directory or memory storage. Every wait has a timeout whose error names the
 * stuck peer and its progress; `close()` (or `await using`) releases every socket, timer and
 * temp directory, so tests pass Deno's sanitizers.
 *
 * @example 1 seeder, 8 leechers
 * ```ts
 * import { createSwarm } from "@bittern/bittern/testing";
 *
 * Deno.test("1 seeder and 8 leechers complete", async () => {
 *   await using swarm = await createSwarm({
 *     seeders: 1,
 *     leechers: 8,
 *     payload: { size: 4 << 20, files: 3, pieceLength: 65536, seed: 42 },
 *     tracker: true,
 *     storage: "filesystem",
 *   });
 *   await swarm.start();
 *   await swarm.allComplete({ timeoutMs: 60_000 });
 *   await swarm.verifyPayload();
 * });
 * ```
 *
 * @example A custom extension in a 2-peer swarm
 * ```ts
 * import type { MessagingAgent } from "@bittern/bittern";
 * import { createSwarm } from "@bittern/bittern/testing";
 *
 * function hello(): MessagingAgent {
 *   return {
 *     name: "hello",
 *     extensions: ["x_hello"],
 *     // The peer's extended handshake tells whether it speaks x_hello.
 *     extendedHandshakeReceived(peer) {
 *       if (peer.supports("x_hello")) peer.sendExtended("x_hello", new TextEncoder().encode("hi"));
 *     },
 *     consumesExtended: { x_hello: () => {} },
 *   };
 * }
 *
 * Deno.test("x_hello reaches the other side", async () => {
 *   await using swarm = await createSwarm({ seeders: 1, leechers: 1, peer: () => ({ agents: [hello()] }) });
 *   await swarm.start();
 *   const received = await swarm.messageReceived("seeder-0", { type: "extended", name: "x_hello" });
 *   console.log(received.from); // "leecher-0"
 * });
 * ```
 *
 * @module
 */
export { createSwarm, Swarm } from "./swarm.ts";
export type { SwarmOptions, SwarmPeerOptions, SwarmStorage } from "./swarm.ts";
export { SwarmPeer } from "./peer.ts";
export type { SwarmPeerContext, SwarmRole, WaitOptions } from "./peer.ts";
export { createPayload, seededBytes } from "./payload.ts";
export type { Payload, PayloadFile, PayloadOptions } from "./payload.ts";
export { SwarmError, SwarmTimeoutError } from "./errors.ts";
export type {
  ExtendedMessageMatcher,
  MessageMatcher,
  ReceivedMessage,
  StandardMessageMatcher,
  StandardMessageType,
} from "./recorder.ts";
