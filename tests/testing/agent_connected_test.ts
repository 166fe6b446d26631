/**
 * Regression: `MessagingAgent.connected` runs once the peer's extended
 * handshake is in, so `peer.supports(name)` answers there and an agent can
 * greet supporting peers from `connected`.
 */
import assert from "node:assert/strict";
import type { MessagingAgent } from "../../mod.ts";
import { createSwarm } from "../../src/testing/mod.ts";

function greeter(): MessagingAgent {
  return {
    name: "hello",
    extensions: ["x_hello"],
    connected(peer) {
      if (peer.supports("x_hello")) peer.sendExtended("x_hello", new TextEncoder().encode("hi"));
    },
    consumesExtended: { x_hello: () => {} },
  };
}

Deno.test({
  name: "agents: connected() sees the extended handshake, so supports() works there",
  async fn() {
    await using swarm = await createSwarm({
      seeders: 1,
      leechers: 1,
      payload: { size: 100_000 },
      peer: () => ({ agents: [greeter()] }),
    });
    await swarm.start();
    const received = await swarm.messageReceived(
      "seeder-0",
      { type: "extended", name: "x_hello" },
      {
        timeoutMs: 5000,
      },
    );
    assert.equal(received.from, "leecher-0");
  },
});
