// Run: deno run --allow-read --allow-net examples/custom_storage.ts x.torrent
import { Runtime, type Storage, type Torrent, type TorrentStorage } from "@bittern/bittern";

/** Keeps pieces in a Map and counts writes. Calls overlap: each touches only its own bytes. */
class CountingStorage implements Storage {
  writes = 0;
  open(torrent: Torrent): Promise<TorrentStorage> {
    const pieces = new Map<number, Uint8Array>();
    const piece = (index: number) => {
      let bytes = pieces.get(index);
      if (!bytes) pieces.set(index, bytes = new Uint8Array(torrent.pieceLength));
      return bytes;
    };
    return Promise.resolve({
      read: (index, offset, length) => Promise.resolve(piece(index).slice(offset, offset + length)),
      write: (index, offset, data) => {
        this.writes++;
        piece(index).set(data, offset); // copy: the caller reuses `data`
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    });
  }
}

const torrentBytes = await Deno.readFile(Deno.args[0]);
const runtime = new Runtime({ listen: false });
const storage = new CountingStorage();
// Sessions seed after completing by default; `seed: false` stops once the download is done.
const session = await runtime.add(torrentBytes, { storage, seed: false });
await session.completed;
await runtime.close(); // announces `stopped`, flushes storage
// deno-lint-ignore no-console -- an example prints its result
console.log(storage.writes);
