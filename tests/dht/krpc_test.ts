import assert from "node:assert/strict";
import {
  BencodeDict,
  decodeCompactNodes,
  decodeKrpc,
  DhtError,
  encode,
  encodeCompactNodes,
  encodeKrpcError,
  encodeKrpcQuery,
  encodeKrpcResponse,
  isUsableAddress,
  KrpcErrorCode,
  randomNodeId,
} from "../../mod.ts";

const t = new Uint8Array([0xab, 0xcd]);
const bytes = (text: string) => new TextEncoder().encode(text);

function malformed(input: Uint8Array): DhtError {
  try {
    decodeKrpc(input);
  } catch (error) {
    assert.ok(error instanceof DhtError, `not a DhtError: ${error}`);
    assert.equal(error.code, "malformed");
    return error;
  }
  assert.fail("decoded a malformed message");
}

Deno.test("krpc: every query round-trips", () => {
  const id = randomNodeId();
  const infoHash = randomNodeId();
  const queries = [
    { method: "ping", id },
    { method: "find_node", id, target: infoHash },
    { method: "get_peers", id, infoHash },
    { method: "announce_peer", id, infoHash, port: 6881, token: bytes("tok"), impliedPort: true },
  ] as const;
  for (const query of queries) {
    const message = decodeKrpc(encodeKrpcQuery(t, query, true));
    assert.equal(message.kind, "query");
    if (message.kind !== "query") continue;
    assert.deepEqual(message.transactionId, t);
    assert.deepEqual(message.query, query);
    assert.equal(message.readOnly, true);
  }
});

Deno.test("krpc: answers carry compact nodes (26 bytes) and peers (6 bytes)", () => {
  const id = randomNodeId();
  const nodes = [{ id: randomNodeId(), host: "10.1.2.3", port: 6881 }];
  const packet = encodeKrpcResponse(t, {
    id,
    nodes,
    values: [{ host: "127.0.0.1", port: 51413 }],
    token: bytes("12345678"),
  });
  const message = decodeKrpc(packet);
  assert.equal(message.kind, "response");
  if (message.kind !== "response") return;
  assert.deepEqual(message.response.id, id);
  assert.deepEqual(message.response.nodes, nodes);
  assert.deepEqual(message.response.values, [{ host: "127.0.0.1", port: 51413 }]);
  assert.deepEqual(message.response.token, bytes("12345678"));
  assert.equal(encodeCompactNodes(nodes).length, 26);
  assert.deepEqual(decodeCompactNodes(encodeCompactNodes(nodes)), nodes);
});

Deno.test("krpc: error answers decode with their code", () => {
  const message = decodeKrpc(encodeKrpcError(t, KrpcErrorCode.protocol, "bad token"));
  assert.deepEqual(message, {
    kind: "error",
    transactionId: t,
    code: 203,
    message: "bad token",
  });
});

Deno.test("krpc: malformed input is a typed error, never a crash", () => {
  const id = randomNodeId();
  // Not bencode, not a dict, no t, huge t, no y: nothing to answer.
  for (
    const input of [
      bytes("garbage"),
      bytes("i42e"),
      bytes("le"),
      bytes("d1:y1:qe"),
      encode({ t: new Uint8Array(100), y: "q", q: "ping", a: { id } }),
      encode({ t, y: "x" }),
      new Uint8Array(5000),
      bytes("d1:t2:aa1:y1:q1:ad2:id" + "9999999999:"),
    ]
  ) {
    const error = malformed(input);
    assert.equal(error.krpcCode, undefined, `answered ${new TextDecoder().decode(input)}`);
  }
  // Bad queries are answered with 203 (or 204 for an unknown method).
  const badQueries: [Uint8Array, number][] = [
    [encode({ t, y: "q", q: "ping", a: { id: new Uint8Array(19) } }), 203],
    [encode({ t, y: "q", q: "ping" }), 203],
    [encode({ t, y: "q", q: "find_node", a: { id } }), 203],
    [encode({ t, y: "q", q: "get_peers", a: { id, info_hash: 5 } }), 203],
    [encode({ t, y: "q", q: "announce_peer", a: { id, info_hash: id, token: "x", port: 0 } }), 203],
    [encode({ t, y: "q", q: "announce_peer", a: { id, info_hash: id, port: 1 } }), 203],
    [encode({ t, y: "q", q: "vote", a: { id } }), 204],
  ];
  for (const [input, code] of badQueries) {
    const error = malformed(input);
    assert.equal(error.krpcCode, code);
    assert.deepEqual(error.transactionId, t);
  }
  // Bad answers are dropped, never answered.
  for (
    const input of [
      encode({ t, y: "r", r: { id, nodes: new Uint8Array(27) } }),
      encode({ t, y: "r", r: { id: new Uint8Array(3) } }),
      encode({ t, y: "r", r: { id, values: "notalist" } }),
      encode({ t, y: "r", r: 5 }),
      encode({ t, y: "e", e: "oops" }),
    ]
  ) {
    assert.equal(malformed(input).krpcCode, undefined);
  }
});

Deno.test("krpc: unknown keys are ignored, IPv6 values skipped, node lists capped", () => {
  const id = randomNodeId();
  const many = Array.from(
    { length: 40 },
    (_, i) => ({ id: randomNodeId(), host: "10.0.0.1", port: i + 1 }),
  );
  const packet = encode(
    new BencodeDict()
      .set("t", t).set("y", bytes("r")).set("v", bytes("LT01"))
      .set(
        "r",
        new BencodeDict().set("id", id).set("nodes", encodeCompactNodes(many))
          .set("values", [new Uint8Array(18), new Uint8Array([1, 2, 3, 4, 0, 80])]),
      ),
  );
  const message = decodeKrpc(packet);
  assert.equal(message.kind, "response");
  if (message.kind !== "response") return;
  assert.equal(message.response.nodes!.length, 16);
  assert.deepEqual(message.response.values, [{ host: "1.2.3.4", port: 80 }]);
});

Deno.test("krpc: martian addresses and port 0 are unusable", () => {
  assert.equal(isUsableAddress("127.0.0.1", 6881), true);
  assert.equal(isUsableAddress("10.0.0.1", 0), false);
  assert.equal(isUsableAddress("0.0.0.0", 6881), false);
  assert.equal(isUsableAddress("239.1.1.1", 6881), false);
  assert.equal(isUsableAddress("255.255.255.255", 6881), false);
  assert.equal(isUsableAddress("not-an-ip", 6881), false);
});
