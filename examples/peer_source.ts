// Run: deno run --allow-read --allow-write --allow-net examples/peer_source.ts x.torrent http://127.0.0.1:8080
import { type PeerAddress, type PeerSource, Runtime } from "@bittern/bittern";

/** Asks a lookup service (`GET <service>/peers/<info hash>`, JSON addresses) every 30 seconds. */
export function lookup(service: string): PeerSource {
  return {
    name: "lookup",
    async *peers(context, signal) {
      while (!signal.aborted) {
        const url = `${service}/peers/${context.infoHashHex}`;
        const peers: PeerAddress[] = await (await fetch(url, { signal })).json();
        yield peers;
        // Wait 30 s, but stop waiting when the session stops: a timer left running would keep
        // `runtime.close()` waiting and the process alive.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, 30_000);
          signal.addEventListener("abort", done);
        });
      }
    },
  };
}
// new Runtime({ peerSources: [lookup(url)] }), or runtime.add(torrent, { peerSources: [...] })

if (import.meta.main) {
  const [torrentPath, service, out = "./downloads"] = Deno.args;
  const runtime = new Runtime({ listen: false, peerSources: [lookup(service)] });
  const session = await runtime.add(await Deno.readFile(torrentPath), { out, seed: false });
  await session.completed;
  await runtime.close();
  // deno-lint-ignore no-console -- an example prints its result
  console.log(`downloaded ${session.torrent.name} into ${out}`);
}
