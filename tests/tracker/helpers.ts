/** Real local HTTP servers and event waiting for the tracker tests. */
import type { AnnounceParams } from "../../src/tracker/mod.ts";
import { type Encodable, encode } from "../../src/bencode/mod.ts";

/** A running `Deno.serve` on 127.0.0.1 with a port-0 address. */
export interface LocalServer {
  readonly url: string;
  readonly port: number;
  /** Request URLs seen, in order. */
  readonly requests: URL[];
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1; the announce URL is `http://127.0.0.1:PORT/announce`. */
export async function serveLocal(
  handler: (request: Request) => Response | Promise<Response>,
): Promise<LocalServer> {
  const requests: URL[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => resolve() },
    (request) => {
      requests.push(new URL(request.url));
      return handler(request);
    },
  );
  await promise;
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}

/** A 200 response with a bencoded body. */
export function bencodeResponse(value: Encodable): Response {
  return new Response(encode(value) as Uint8Array<ArrayBuffer>);
}

/** A port nothing listens on (bound then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resolves with the first event of `type` that satisfies `accept`; rejects after `timeoutMs`. */
export function nextEvent<E extends Event>(
  target: EventTarget,
  type: string,
  accept: (event: E) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<E> {
  return new Promise((resolve, reject) => {
    const listener = (event: Event) => {
      if (!accept(event as E)) return;
      cleanup();
      resolve(event as E);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
    };
    target.addEventListener(type, listener);
  });
}

/** A fixed 20-byte id/hash filled with `byte`. */
export function filled(byte: number): Uint8Array {
  return new Uint8Array(20).fill(byte);
}

/** A minimal valid announce: info hash of 1s, peer id of 2s, port 6881, nothing transferred. */
export const plainParams: AnnounceParams = {
  infoHash: filled(1),
  peerId: filled(2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 0,
};
