import assert from "node:assert/strict";
import {
  clientName,
  DEFAULT_PEER_ID_PREFIX,
  generatePeerId,
  PeerIdError,
} from "../../src/peers/mod.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const id = (prefix: string) => new TextEncoder().encode(prefix.padEnd(20, "x"));

Deno.test("generatePeerId makes 20 printable bytes after the prefix, different each time", () => {
  const a = generatePeerId();
  const b = generatePeerId();
  assert.equal(a.length, 20);
  assert.equal(text(a.subarray(0, 8)), DEFAULT_PEER_ID_PREFIX);
  assert.match(text(a), /^-BI0100-[0-9A-Za-z]{12}$/);
  assert.notDeepEqual(a, b);
  assert.match(text(generatePeerId("-XX9999-extra")), /^-XX9999-extra[0-9A-Za-z]{7}$/);
  assert.equal(text(generatePeerId("A".repeat(20))), "A".repeat(20));
});

Deno.test("generatePeerId refuses long or non-ASCII prefixes", () => {
  assert.throws(() => generatePeerId("x".repeat(21)), PeerIdError);
  assert.throws(() => generatePeerId("-BÏ0100-"), PeerIdError);
});

Deno.test("clientName decodes common clients", () => {
  const cases: [string, string][] = [
    ["-LT2080-", "libtorrent 2.0.8"],
    ["-LT12A0-", "libtorrent 1.2.10"],
    ["-lt0D80-", "libTorrent (rakshasa) 0.13.8"],
    ["-qB4520-", "qBittorrent 4.5.2"],
    ["-TR3000-", "Transmission 3.00"],
    ["-TR294Z-", "Transmission 2.94+"],
    ["-TR4060-", "Transmission 4.0.6"],
    ["-UT355W-", "µTorrent 3.5.5.32"],
    ["-WW0109-", "WebTorrent 1.9"],
    ["-DE2110-", "Deluge 2.1.1"],
    ["-AZ5770-", "Vuze 5.7.7"],
    ["-BI0100-", "Bittern 0.1.0"],
    ["A2-1-36-0-", "aria2 1.36.0"],
    ["M7-4-3--", "BitTorrent (Mainline) 7.4.3"],
    ["T03I-----", "BitTornado 0.3.18"],
    ["S58B-----", "Shadow 5.8.11"],
    ["exbc", "BitComet"],
    ["-ZZ1234-", "unknown (-ZZ1234-)"],
  ];
  for (const [prefix, name] of cases) assert.equal(clientName(id(prefix)), name, prefix);
  assert.equal(clientName(generatePeerId()), "Bittern 0.1.0");
  assert.equal(clientName(new Uint8Array(20)), "unknown");
  assert.equal(clientName(new Uint8Array([0x41, 0x42, 0, 0xff])), "unknown (AB)");
  assert.equal(clientName(new Uint8Array()), "unknown");
});
