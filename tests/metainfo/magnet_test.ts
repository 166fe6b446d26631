import assert from "node:assert/strict";
import {
  formatMagnet,
  type Magnet,
  MagnetError,
  MAX_MAGNET_LENGTH,
  MAX_MAGNET_PARAMETERS,
  parseMagnet,
} from "../../src/metainfo/mod.ts";
import type { PeerAddress } from "../../src/util/address.ts";
import { fromHex, toHex } from "../../src/util/bytes.ts";
import { seededRandom } from "../session/helpers.ts";

const HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
const BASE32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"; // the same hash
const V2 = "cb10d5a6b9e6b0c2e2bd4f1b7f1b8b3a1c5e7d2f4a6b8c0d2e4f6a8b0c2d4e6f";

Deno.test("a real-world shaped magnet: hex hash, many trackers, dn with +", () => {
  const magnet = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&dn=Big+Buck+Bunny` +
      "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=udp%3A%2F%2Ftracker.coppersurfer.tk%3A6969" +
      "&tr=wss%3A%2F%2Ftracker.btorrent.xyz&tr=https%3A%2F%2Ftracker.example%2Fannounce" +
      "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=http://plain.example/announce" +
      "&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F",
  );
  assert.equal(magnet.infoHashHex, HEX);
  assert.deepEqual(magnet.infoHash, fromHex(HEX));
  assert.equal(magnet.name, "Big Buck Bunny");
  assert.deepEqual(magnet.trackers, [
    "udp://explodie.org:6969",
    "udp://tracker.coppersurfer.tk:6969",
    "https://tracker.example/announce",
    "http://plain.example/announce",
  ]);
  assert.deepEqual(magnet.webSeeds, ["https://webtorrent.io/torrents/"]);
  assert.deepEqual(magnet.peers, []);
  assert.equal(magnet.selectOnly, undefined);
  assert.equal(magnet.infoHashV2, undefined);
});

Deno.test("base32 and hex hashes, either case, give the same lowercase hex", () => {
  for (const hash of [HEX, HEX.toUpperCase(), BASE32, BASE32.toLowerCase()]) {
    const magnet = parseMagnet(`magnet:?xt=urn:btih:${hash}`);
    assert.equal(magnet.infoHashHex, HEX, hash);
    assert.equal(magnet.infoHash.length, 20);
  }
  // The scheme, parameter names and the urn prefix are read in any case; whitespace is trimmed.
  assert.equal(parseMagnet(` MAGNET:?XT=URN:BTIH:${BASE32}\n`).infoHashHex, HEX);
});

Deno.test("dn: %20 and + are spaces, UTF-8 escapes decode, the first non-empty dn wins", () => {
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=a%20b+c%2Bd`).name, "a b c+d");
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=%C3%A9t%C3%A9`).name, "été");
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=&dn=x&dn=y`).name, "x");
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=`).name, undefined);
  // + stays a + outside dn.
  assert.deepEqual(
    parseMagnet(`magnet:?xt=urn:btih:${HEX}&tr=http://a.example/x+y`).trackers,
    ["http://a.example/x+y"],
  );
});

Deno.test("x.pe: IPv4, host names and bracketed IPv6, de-duplicated", () => {
  const magnet = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&x.pe=10.0.0.1:6881&x.pe=%5B2001%3ADB8%3A%3A1%5D%3A51413` +
      "&x.pe=peer.example:80&x.pe=[2001:db8:0::1]:51413&x.pe=10.0.0.1:6881&x.pe=[::ffff:1.2.3.4]:1",
  );
  assert.deepEqual(magnet.peers, [
    { host: "10.0.0.1", port: 6881 },
    { host: "2001:db8::1", port: 51413 },
    { host: "peer.example", port: 80 },
    { host: "::ffff:102:304", port: 1 },
  ]);
});

Deno.test("so: indices and ranges are expanded, merged, sorted and de-duplicated", () => {
  const magnet = parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=4-6,0,2&so=5,9`);
  assert.deepEqual(magnet.selectOnly, [0, 2, 4, 5, 6, 9]);
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=3-3`).selectOnly, [3]);
});

Deno.test("indexed parameters count as their base name", () => {
  const magnet = parseMagnet(
    `magnet:?xt.1=urn:btih:${HEX}&xt.2=urn:btih:${BASE32}&dn.1=one&tr.1=udp://a.example:1` +
      "&tr.2=udp://b.example:2&x.pe.1=1.2.3.4:5&ws.1=http://seed.example/&so.1=1",
  );
  assert.equal(magnet.infoHashHex, HEX);
  assert.equal(magnet.name, "one");
  assert.deepEqual(magnet.trackers, ["udp://a.example:1", "udp://b.example:2"]);
  assert.deepEqual(magnet.peers, [{ host: "1.2.3.4", port: 5 }]);
  assert.deepEqual(magnet.webSeeds, ["http://seed.example/"]);
  assert.deepEqual(magnet.selectOnly, [1]);
});

Deno.test("a hybrid magnet carries the v2 hash; other xt namespaces are ignored", () => {
  const magnet = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220${V2}&xt=urn:sha1:ABCDEF&xt=urn:ed2k:00`,
  );
  assert.equal(magnet.infoHashHex, HEX);
  assert.equal(toHex(magnet.infoHashV2!), V2);
});

Deno.test("a v2-only magnet (btmh alone) is known by its truncated v2 hash", () => {
  const magnet = parseMagnet(`magnet:?xt=urn:btmh:1220${V2}&dn=x`);
  assert.equal(magnet.version, 2);
  assert.equal(toHex(magnet.infoHashV2!), V2);
  assert.equal(magnet.infoHashHex, V2.slice(0, 40));
  assert.equal(formatMagnet(magnet), `magnet:?xt=urn:btmh:1220${V2}&dn=x`);
  assert.equal(formatMagnet({ infoHashV2: fromHex(V2)! }), `magnet:?xt=urn:btmh:1220${V2}`);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220${V2}`).version, "hybrid");
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}`).version, 1);
});

Deno.test("trackers and web seeds it cannot use are ignored, not errors", () => {
  const magnet = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&tr=wss://t.example&tr=not%20a%20url&tr=http://&tr=udp://ok.example:1` +
      "&tr=http://a.example/%20space&ws=ftp://f.example/&ws=https://w.example/&unknown=1&kt=x&flag",
  );
  assert.deepEqual(magnet.trackers, ["udp://ok.example:1"]);
  assert.deepEqual(magnet.webSeeds, ["https://w.example/"]);
});

Deno.test("formatMagnet writes a canonical link", () => {
  const link = formatMagnet({
    infoHash: fromHex(HEX)!,
    infoHashV2: fromHex(V2)!,
    name: "a b&c=d",
    trackers: ["udp://t.example:1"],
    peers: [{ host: "::1", port: 1 }, { host: "1.2.3.4", port: 65535 }],
    webSeeds: ["https://w.example/a?b=c&d"],
    selectOnly: [7, 0, 1, 2, 5, 2],
  });
  assert.equal(
    link,
    `magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220${V2}&dn=a%20b%26c%3Dd` +
      "&tr=udp%3A%2F%2Ft.example%3A1&x.pe=[::1]:1&x.pe=1.2.3.4:65535" +
      "&ws=https%3A%2F%2Fw.example%2Fa%3Fb%3Dc%26d&so=0-2,5,7",
  );
  const back = parseMagnet(link);
  assert.equal(back.name, "a b&c=d");
  assert.deepEqual(back.selectOnly, [0, 1, 2, 5, 7]);
  assert.deepEqual(back.webSeeds, ["https://w.example/a?b=c&d"]);
});

Deno.test("formatMagnet rejects what parseMagnet would reject", () => {
  const infoHash = fromHex(HEX)!;
  const cases: [Parameters<typeof formatMagnet>[0], string][] = [
    [{ infoHash: new Uint8Array(19) }, "xt"],
    [{ infoHash, infoHashV2: new Uint8Array(20) }, "xt"],
    [{ infoHash, peers: [{ host: "1.2.3.4", port: 0 }] }, "x.pe"],
    [{ infoHash, peers: [{ host: "bad host", port: 1 }] }, "x.pe"],
    [{ infoHash, selectOnly: [-1] }, "so"],
    [{ infoHash, selectOnly: [1.5] }, "so"],
    [{ infoHash, name: "\ud800" }, "dn"],
  ];
  for (const [input, parameter] of cases) {
    assert.throws(
      () => formatMagnet(input),
      (error) => error instanceof MagnetError && error.parameter === parameter,
      JSON.stringify(input, (_, v) => v instanceof Uint8Array ? v.length : v),
    );
  }
});

Deno.test("formatMagnet then parseMagnet gives back the same magnet (seeded random inputs)", () => {
  const next = seededRandom(9);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const int = (below: number) => Math.floor(next() * below);
  const text = (length: number) => {
    const alphabet = "abcXYZ019 +%&=?#/:.-_~!*'()[]éñ中😀\t";
    let out = "";
    for (let i = 0; i < length; i++) out += pick([...alphabet]);
    return out;
  };
  const bytes = (length: number) => Uint8Array.from({ length }, () => int(256));
  const url = (schemes: readonly string[]) =>
    `${pick(schemes)}://h${int(1000)}.example${next() < 0.5 ? `:${1 + int(65535)}` : ""}/` +
    encodeURIComponent(text(int(6))) + (next() < 0.3 ? `?k=${int(99)}&x=y+z` : "");
  const host = (): string =>
    pick([
      () => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`,
      () => `2001:db8::${(1 + int(0xfffe)).toString(16)}`,
      () => "::1",
      () => `peer-${int(100)}.example`,
    ])();

  for (let round = 0; round < 500; round++) {
    const peers: PeerAddress[] = [];
    const seen = new Set<string>();
    for (let i = int(4); i > 0; i--) {
      const peer = { host: host(), port: 1 + int(65535) };
      const key = `${peer.host}|${peer.port}`;
      if (!seen.has(key)) peers.push(peer), seen.add(key);
    }
    const selectOnly = next() < 0.5
      ? undefined
      : [...new Set(Array.from({ length: 1 + int(20) }, () => int(50)))].sort((a, b) => a - b);
    const infoHashV2 = next() < 0.3 ? bytes(32) : undefined;
    const version = infoHashV2 ? (next() < 0.5 ? 2 : "hybrid") : 1;
    const infoHash = version === 2 ? infoHashV2!.slice(0, 20) : bytes(20);
    const magnet: Magnet = {
      infoHash,
      infoHashHex: toHex(infoHash),
      version,
      ...(infoHashV2 ? { infoHashV2 } : {}),
      ...(next() < 0.8 ? { name: text(1 + int(30)) } : {}),
      trackers: [...new Set(Array.from({ length: int(6) }, () => url(["http", "https", "udp"])))],
      peers,
      webSeeds: [...new Set(Array.from({ length: int(3) }, () => url(["http", "https"])))],
      ...(selectOnly ? { selectOnly } : {}),
    };
    const link = formatMagnet(magnet);
    assert.deepEqual(parseMagnet(link), magnet, link);
    assert.equal(formatMagnet(parseMagnet(link)), link);
  }
});

Deno.test("hostile magnets throw MagnetError naming the parameter", () => {
  const ok = `magnet:?xt=urn:btih:${HEX}`;
  const cases: [string, string][] = [
    ["", "(uri)"],
    ["   ", "(uri)"],
    ["http://example.com/x.torrent", "(uri)"],
    [`magnet:xt=urn:btih:${HEX}`, "(uri)"],
    [`magnet:?xt=urn:btih:${HEX}&` + "a".repeat(MAX_MAGNET_LENGTH), "(uri)"],
    [`${ok}${"&x=1".repeat(MAX_MAGNET_PARAMETERS)}`, "(uri)"],
    ["magnet:?", "xt"],
    ["magnet:?dn=x&tr=udp://a.example:1", "xt"],
    ["magnet:?xt=urn:sha1:ABCDEF", "xt"],
    [`magnet:?xt=urn:btih:${HEX.slice(1)}`, "xt"],
    [`magnet:?xt=urn:btih:${HEX}0`, "xt"],
    [`magnet:?xt=urn:btih:${HEX.slice(1)}g`, "xt"],
    [`magnet:?xt=urn:btih:${BASE32.slice(1)}1`, "xt"],
    [`magnet:?xt=urn:btih:${BASE32.slice(1)}=`, "xt"],
    [`magnet:?xt=urn:btih:${BASE32.slice(0, 26)}======`, "xt"],
    [`${ok}&xt=urn:btih:${"0".repeat(40)}`, "xt"],
    [`${ok}&xt.2=urn:btih:${"A".repeat(32)}`, "xt"],
    [`${ok}&xt=urn:btmh:1114${V2}`, "xt"],
    [`${ok}&xt=urn:btmh:1220${V2.slice(2)}`, "xt"],
    [`${ok}&xt=urn:btmh:1220${V2}&xt=urn:btmh:1220${"0".repeat(64)}`, "xt"],
    [`magnet:?xt=urn%3Abtih%3A${HEX}%`, "xt"],
    [`${ok}&dn=a%2`, "dn"],
    [`${ok}&dn=a%zz`, "dn"],
    [`${ok}&dn=%C3`, "dn"],
    [`${ok}&dn=%ED%A0%80`, "dn"],
    [`${ok}&dn=\ud800`, "(uri)"],
    [`${ok}&tr=http%3A%2F%2Fa%2`, "tr"],
    [`${ok}&ws=%G0`, "ws"],
    [`${ok}&x.pe=1.2.3.4`, "x.pe"],
    [`${ok}&x.pe=1.2.3.4:0`, "x.pe"],
    [`${ok}&x.pe=1.2.3.4:70000`, "x.pe"],
    [`${ok}&x.pe=1.2.3.4:123456`, "x.pe"],
    [`${ok}&x.pe=256.1.1.1:1`, "x.pe"],
    [`${ok}&x.pe=::1:6881`, "x.pe"],
    [`${ok}&x.pe=[::1]`, "x.pe"],
    [`${ok}&x.pe=[::g]:1`, "x.pe"],
    [`${ok}&x.pe=[1:2:3:4:5:6:7:8:9]:1`, "x.pe"],
    [`${ok}&x.pe=bad%20host:1`, "x.pe"],
    [`${ok}&x.pe.3=:1`, "x.pe"],
    [`${ok}&x.pe=%5B::1%5D:-1`, "x.pe"],
    [`${ok}&so=0-4294967295`, "so"],
    [`${ok}&so=0-100000`, "so"],
    [`${ok}&so=0-60000&so=60000-120000`, "so"],
    [`${ok}&so=5-2`, "so"],
    [`${ok}&so=`, "so"],
    [`${ok}&so=1,,2`, "so"],
    [`${ok}&so=-3`, "so"],
    [`${ok}&so=a`, "so"],
    [`${ok}&so=99999999999`, "so"],
  ];
  for (const [uri, parameter] of cases) {
    assert.throws(
      () => parseMagnet(uri),
      (error) => {
        assert.ok(error instanceof MagnetError, `${uri.slice(0, 80)}: ${error}`);
        assert.equal(error.parameter, parameter, `${uri.slice(0, 80)}: ${error.message}`);
        assert.match(error.message, /expected/);
        return true;
      },
      uri.slice(0, 80),
    );
  }
});

Deno.test("limits are exact: the largest accepted link, parameter count and selection", () => {
  const ok = `magnet:?xt=urn:btih:${HEX}`;
  const padded = `${ok}&x=${"a".repeat(MAX_MAGNET_LENGTH - ok.length - 3)}`;
  assert.equal(padded.length, MAX_MAGNET_LENGTH);
  assert.equal(parseMagnet(padded).infoHashHex, HEX);
  assert.equal(parseMagnet(`${ok}${"&x=1".repeat(MAX_MAGNET_PARAMETERS - 1)}`).infoHashHex, HEX);
  assert.equal(parseMagnet(`${ok}&so=0-99999`).selectOnly!.length, 100_000);
  // Every range counts its full width, overlapping or not: the work is bounded too.
  assert.equal(parseMagnet(`${ok}&so=0-49999&so=0-49999`).selectOnly!.length, 50_000);
  assert.throws(() => parseMagnet(`${ok}&so=0-49999&so=0-50000`), MagnetError);
});

Deno.test("mutated magnets either parse or throw MagnetError, nothing else", () => {
  const next = seededRandom(7);
  const base = `magnet:?xt=urn:btih:${BASE32}&dn=a+b%20c&tr=udp%3A%2F%2Ft.example%3A1` +
    "&x.pe=[::1]:6881&x.pe=1.2.3.4:5&ws=http://w.example/&so=0,2-4&xt=urn:btmh:1220" + V2;
  const alphabet = "%&=:.,-[]+0123456789abcdefxtrpeso\u00e9\ud800";
  let parsed = 0;
  for (let round = 0; round < 3000; round++) {
    const chars = [...base];
    for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
      const at = Math.floor(next() * chars.length);
      const char = alphabet[Math.floor(next() * alphabet.length)];
      if (next() < 0.3) chars.splice(at, 1);
      else if (next() < 0.5) chars.splice(at, 0, char);
      else chars[at] = char;
    }
    let magnet: Magnet;
    try {
      magnet = parseMagnet(chars.join(""));
    } catch (error) {
      assert.ok(error instanceof MagnetError, `round ${round}: ${error}`);
      continue;
    }
    parsed++;
    assert.equal(magnet.infoHash.length, 20);
    assert.deepEqual(parseMagnet(formatMagnet(magnet)), magnet, `round ${round}`);
  }
  assert.ok(parsed > 100, `${parsed} parsed`);
});
