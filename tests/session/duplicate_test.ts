/** Two connections to one peer (both sides dialled at once): both sides keep the same one. */
import assert from "node:assert/strict";
import { keepsNewConnection } from "../../src/session/duplicates.ts";

const low = new TextEncoder().encode("-BI0100-aaaaaaaaaaaa");
const high = new TextEncoder().encode("-BI0100-bbbbbbbbbbbb");

Deno.test("keepsNewConnection: both sides agree on the connection the lower peer id dialled", () => {
  // The connection `low` dialled is outgoing at `low` and incoming at `high`.
  // At `low`: its incoming connection (dialled by `high`) came first, its own dial second.
  assert.equal(keepsNewConnection(low, high, false, true), true);
  // ... or its own dial came first: it stays, the incoming one goes.
  assert.equal(keepsNewConnection(low, high, true, false), false);
  // At `high`: the connection `low` dialled is the incoming one.
  assert.equal(keepsNewConnection(high, low, true, false), true);
  assert.equal(keepsNewConnection(high, low, false, true), false);
});

Deno.test("keepsNewConnection: two connections in the same direction keep the older one", () => {
  for (const incoming of [true, false]) {
    assert.equal(keepsNewConnection(low, high, incoming, incoming), false);
    assert.equal(keepsNewConnection(high, low, incoming, incoming), false);
  }
});
