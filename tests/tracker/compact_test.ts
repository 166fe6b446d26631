import assert from "node:assert/strict";
import {
  decodeCompactPeers,
  encodeCompactPeer,
  percentDecodeBytes,
  percentEncodeBytes,
} from "../../src/tracker/mod.ts";

Deno.test("compact peers round-trip for IPv4 and IPv6", () => {
  const hosts = [
    "127.0.0.1",
    "255.255.255.255",
    "::1",
    "2001:db8::1:0:0:1",
    "fe80::",
    "1:2:3:4:5:6:7:8",
  ];
  for (const host of hosts) {
    const encoded = encodeCompactPeer({ host, port: 51413 });
    assert.ok(encoded, host);
    assert.equal(encoded.bytes.length, encoded.family === 4 ? 6 : 18);
    assert.deepEqual(decodeCompactPeers(encoded.bytes, encoded.family), [{ host, port: 51413 }]);
  }
  const mapped = encodeCompactPeer({ host: "::ffff:1.2.3.4", port: 1 });
  assert.deepEqual(decodeCompactPeers(mapped!.bytes, 6), [{ host: "::ffff:102:304", port: 1 }]);
});

Deno.test("compact encoding refuses names and bad ports; decoding refuses bad lengths", () => {
  for (
    const host of ["peer.example", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9"]
  ) {
    assert.equal(encodeCompactPeer({ host, port: 1 }), undefined, host);
  }
  assert.equal(encodeCompactPeer({ host: "1.2.3.4", port: 0 }), undefined);
  assert.equal(encodeCompactPeer({ host: "1.2.3.4", port: 65536 }), undefined);
  assert.equal(decodeCompactPeers(new Uint8Array(7), 4), undefined);
  assert.equal(decodeCompactPeers(new Uint8Array(6), 6), undefined);
});

Deno.test("percent encoding keeps unreserved bytes and round-trips every byte", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = percentEncodeBytes(all);
  assert.match(text, /^[A-Za-z0-9\-._~%]+$/);
  assert.ok(text.includes("-.") && text.includes("%2F") && text.includes("~%7F"));
  assert.deepEqual(percentDecodeBytes(text), all);
  assert.deepEqual(percentDecodeBytes("a+b"), new TextEncoder().encode("a b"));
  assert.equal(percentDecodeBytes("%G0"), undefined);
  assert.equal(percentDecodeBytes("%4"), undefined);
  assert.equal(percentDecodeBytes("é"), undefined);
});
