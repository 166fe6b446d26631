import assert from "node:assert/strict";
import { PiecePriorities } from "../../mod.ts";

const all = () => true;

Deno.test("priorities: a window orders the pieces from its reader, nearest first", () => {
  const priorities = new PiecePriorities(100, { windowPieces: 4 });
  assert.equal(priorities.active, false);
  assert.deepEqual(priorities.urgent(all), []);
  const reader = priorities.open({ position: 40, last: 99, fetchUnwanted: false });
  assert.equal(priorities.active, true);
  assert.deepEqual(priorities.urgent(all), [40, 41, 42, 43]);
  assert.deepEqual([...priorities.critical(all)], [40]);
  // Verified pieces drop out; the first missing one is critical.
  const missing = (piece: number) => piece !== 40 && piece !== 41;
  assert.deepEqual(priorities.urgent(missing), [42, 43]);
  assert.deepEqual([...priorities.critical(missing)], [42]);
  reader.close();
  assert.equal(priorities.active, false);
  assert.deepEqual(priorities.urgent(all), []);
});

Deno.test("priorities: seeking moves the window; it never passes the reader's last piece", () => {
  const priorities = new PiecePriorities(100, { windowPieces: 4 });
  const reader = priorities.open({ position: 40, last: 41, fetchUnwanted: false });
  assert.deepEqual(priorities.urgent(all), [40, 41]);
  reader.move(10, 50);
  assert.deepEqual(priorities.urgent(all), [10, 11, 12, 13]);
  // Past the torrent's end is clamped.
  reader.move(98, 500);
  assert.deepEqual(priorities.urgent(all), [98, 99]);
});

Deno.test("priorities: several windows interleave by distance, without repeats", () => {
  const priorities = new PiecePriorities(100, { windowPieces: 3 });
  priorities.open({ position: 0, last: 99, fetchUnwanted: false });
  priorities.open({ position: 50, last: 99, fetchUnwanted: false });
  priorities.open({ position: 1, last: 99, fetchUnwanted: false });
  assert.deepEqual(priorities.urgent(all), [0, 50, 1, 51, 2, 52, 3]);
  assert.deepEqual([...priorities.critical(all)].sort((a, b) => a - b), [0, 1, 50]);
});

Deno.test("priorities: listeners hear every change, and whether forced pieces changed", () => {
  const priorities = new PiecePriorities(100, { windowPieces: 2 });
  const heard: boolean[] = [];
  const stop = priorities.onChange((forced) => heard.push(forced));
  const plain = priorities.open({ position: 5, last: 9, fetchUnwanted: false });
  const skipped = priorities.open({ position: 20, last: 29, fetchUnwanted: true });
  const version = priorities.version;
  skipped.move(20); // no change: nothing heard
  assert.equal(priorities.version, version);
  skipped.move(25);
  plain.close();
  skipped.close();
  skipped.close(); // twice: nothing more
  stop();
  priorities.open({ position: 1, last: 2, fetchUnwanted: true });
  assert.deepEqual(heard, [false, true, false, false, true]);
});

Deno.test("priorities: a window over skipped pieces forces its whole range, from where it began", () => {
  const priorities = new PiecePriorities(100);
  const reader = priorities.open({ position: 20, last: 29, fetchUnwanted: true });
  priorities.open({ position: 60, last: 69, fetchUnwanted: false });
  reader.move(25);
  assert.equal(priorities.forced(19), false);
  assert.equal(priorities.forced(20), true);
  assert.equal(priorities.forced(29), true);
  assert.equal(priorities.forced(30), false);
  assert.equal(priorities.forced(65), false, "a window over wanted pieces forces nothing");
  reader.close();
  assert.equal(priorities.forced(25), false);
});
