// deno-lint-ignore-file no-console -- a skipped interop test says why
/**
 * Interop with opentracker (Debian build, whitelist-only) over UDP (BEP 15): announce, scrape
 * and its refusal of a hash outside the whitelist. Skipped with a message when opentracker is missing.
 */
import assert from "node:assert/strict";
import { generatePeerId } from "../../src/peers/mod.ts";
import { type PeerAddress, TrackerError, udpAnnounce, udpScrape } from "../../src/tracker/mod.ts";
import { toHex } from "../../src/util/bytes.ts";
import { hasOpentracker, startOpentracker } from "./opentracker_process.ts";

if (!hasOpentracker) {
  console.warn("skipping opentracker UDP interop: /usr/bin/opentracker not installed");
}

/** Bounded retransmissions: loopback loses nothing, but no await may hang. */
const options = { timeout: 10_000, retryBaseMs: 1_000, maxAttempts: 3 } as const;

Deno.test({
  name: "opentracker over UDP: two Bittern peers find each other; scrape counts; refusal",
  ignore: !hasOpentracker,
  async fn() {
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    // It serves TCP and UDP on the same port; we talk UDP only.
    const tracker = await startOpentracker([toHex(infoHash)]);
    const url = tracker.url.replace(/^http:/, "udp:");
    try {
      const base = { infoHash, uploaded: 0, downloaded: 0, event: "started" as const };
      const first = await udpAnnounce(url, {
        ...base,
        peerId: generatePeerId(),
        port: 7201,
        left: 100,
      }, options);
      assert.ok(first.interval > 0);
      const second = await udpAnnounce(url, {
        ...base,
        peerId: generatePeerId(),
        port: 7202,
        left: 0,
      }, options);
      // opentracker includes the requester itself: skip our own address.
      const others = (peers: PeerAddress[], port: number) =>
        peers.filter((p) => !(p.host === "127.0.0.1" && p.port === port));
      assert.deepEqual(others(second.peers, 7202), [{ host: "127.0.0.1", port: 7201 }]);
      assert.equal(second.complete, 1);
      assert.equal(second.incomplete, 1);
      const counts = await udpScrape(url, [infoHash], options);
      assert.deepEqual(counts.get(toHex(infoHash)), { complete: 1, incomplete: 1, downloaded: 0 });
      // A hash outside the whitelist: opentracker's UDP code answers with a bare 8-byte announce
      // header (no error action, unlike its HTTP "not authorized"), rejected as too short.
      const error = await udpAnnounce(url, {
        ...base,
        infoHash: new Uint8Array(20),
        peerId: generatePeerId(),
        port: 7203,
        left: 1,
      }, options).catch((e) => e);
      assert.ok(error instanceof TrackerError, String(error));
      assert.equal(error.kind, "bad-response");
      assert.match(error.message, /announce response .*8-byte answer is shorter than 20 bytes/);
    } finally {
      await tracker.close();
    }
  },
});
