import assert from "node:assert/strict";
import { Bitfield, BitfieldError } from "../../src/util/bitfield.ts";

Deno.test("Bitfield set/get/count in wire bit order", () => {
  const bits = new Bitfield(10);
  bits.set(0);
  bits.set(9);
  bits.set(9);
  assert.equal(bits.count(), 2);
  assert.deepEqual(bits.toBytes(), new Uint8Array([0x80, 0x40]));
  bits.set(0, false);
  assert.deepEqual([...bits.indices()], [9]);
  assert.equal(bits.hasAll(), false);
  assert.equal(new Bitfield(0).hasAll(), true);
  assert.equal(new Bitfield(3).hasNone(), true);
  assert.throws(() => bits.get(10), BitfieldError);
  assert.throws(() => bits.set(-1), BitfieldError);
  assert.throws(() => new Bitfield(-2), BitfieldError);
});

Deno.test("Bitfield.fromBytes checks length and spare bits", () => {
  const bits = Bitfield.fromBytes(new Uint8Array([0xff, 0xc0]), 10);
  assert.ok(bits.hasAll());
  assert.equal(bits.clone().count(), 10);
  assert.throws(() => Bitfield.fromBytes(new Uint8Array([0xff, 0xe0]), 10), /spare bits/);
  assert.throws(() => Bitfield.fromBytes(new Uint8Array([0xff]), 10), /needs 2 bytes, got 1/);
  assert.equal(Bitfield.fromBytes(new Uint8Array(0), 0).size, 0);
});
