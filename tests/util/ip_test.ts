import assert from "node:assert/strict";
import { ipVersion, parseIpv4, parseIpv6 } from "../../src/util/ip.ts";

Deno.test("ip: ipVersion tells literals from host names, as node:net's isIP", () => {
  assert.equal(ipVersion("127.0.0.1"), 4);
  assert.equal(ipVersion("::1"), 6);
  assert.equal(ipVersion("::ffff:1.2.3.4"), 6);
  assert.equal(ipVersion("fe80::1%eth0"), 6);
  assert.equal(ipVersion("2001:db8::1:2:3:4:5"), 6);
  for (
    const name of ["tracker.example", "256.1.1.1", "1.2.3", "[::1]", "1::2::3", "", "1:2:3:4:5:6:7"]
  ) {
    assert.equal(ipVersion(name), 0, name);
  }
});

Deno.test("ip: parsed bytes, IPv6 shorthand and an IPv4 tail included", () => {
  assert.deepEqual(parseIpv4("10.1.2.255"), new Uint8Array([10, 1, 2, 255]));
  assert.deepEqual(
    parseIpv6("::ffff:1.2.3.4"),
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]),
  );
  assert.deepEqual(parseIpv6("1::"), new Uint8Array([0, 1, ...new Array(14).fill(0)]));
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), undefined);
});
