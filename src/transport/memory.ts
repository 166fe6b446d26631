import type {
  Transport,
  TransportAddress,
  TransportConnection,
  TransportListener,
} from "./types.ts";

/** Bytes a pipe holds for its reader before the writer waits. */
const PIPE_HIGH_WATER_MARK = 256 * 1024;

/**
 * An in-process network for {@linkcode MemoryTransport}s: connections are
 * pairs of byte-stream pipes, nothing touches a socket. For tests and for
 * proving that the code above the transport seam needs no TCP.
 *
 * @example Two hosts on one network
 * ```ts
 * import { MemoryNetwork } from "@bittern/bittern";
 *
 * const network = new MemoryNetwork();
 * const a = network.transport("10.0.0.1");
 * const b = network.transport("10.0.0.2");
 * const listener = a.listen({ hostname: "10.0.0.1", port: 6881 });
 * const connection = await b.dial({ hostname: "10.0.0.1", port: 6881 });
 * console.log(connection.remoteAddr.hostname); // "10.0.0.1"
 * connection.close();
 * listener.close();
 * ```
 */
export class MemoryNetwork {
  /**
   * A transport whose connections come from `hostname`.
   *
   * @param hostname This host's address on the network.
   * @returns The transport.
   */
  transport(hostname: string): MemoryTransport {
    return new MemoryTransport(this, hostname);
  }
}

/** The listeners of each network, kept out of its public surface. */
class NetworkState {
  readonly listeners = new Map<string, MemoryListener>();
  nextPort = 40000;

  listen(hostname: string, port: number): MemoryListener {
    const chosen = port === 0 ? this.nextPort++ : port;
    const key = `${hostname}:${chosen}`;
    if (this.listeners.has(key)) throw new Deno.errors.AddrInUse(`${key} is in use`);
    const listener = new MemoryListener(
      { transport: "memory", hostname, port: chosen },
      () => this.listeners.delete(key),
    );
    this.listeners.set(key, listener);
    return listener;
  }

  dial(from: string, hostname: string, port: number): TransportConnection {
    const listener = this.listeners.get(`${hostname}:${port}`);
    if (!listener) {
      throw new Deno.errors.ConnectionRefused(`nothing listens on ${hostname}:${port}`);
    }
    const there = pipe();
    const back = pipe();
    const local = connection(back, there, listener.addr);
    const remote = connection(there, back, {
      transport: "memory",
      hostname: from,
      port: this.nextPort++,
    });
    listener.push(remote);
    return local;
  }
}

const networks = new WeakMap<MemoryNetwork, NetworkState>();

function stateOf(network: MemoryNetwork): NetworkState {
  let state = networks.get(network);
  if (!state) networks.set(network, state = new NetworkState());
  return state;
}

/**
 * A {@linkcode Transport} over a {@linkcode MemoryNetwork}: give it to
 * `RuntimeOptions.transport` to run sessions without sockets.
 *
 * @example
 * ```ts
 * import { MemoryNetwork, Runtime } from "@bittern/bittern";
 *
 * const network = new MemoryNetwork();
 * const runtime = new Runtime({
 *   transport: network.transport("10.0.0.1"),
 *   listen: { hostname: "10.0.0.1", port: 6881 },
 * });
 * await runtime.close();
 * ```
 */
export class MemoryTransport implements Transport {
  /** Always `memory`. */
  readonly name = "memory";
  readonly #network: MemoryNetwork;
  readonly #hostname: string;

  /**
   * Creates a transport; {@linkcode MemoryNetwork.transport} is the usual way.
   *
   * @param network The network.
   * @param hostname This host's address on it.
   */
  constructor(network: MemoryNetwork, hostname: string) {
    this.#network = network;
    this.#hostname = hostname;
  }

  /**
   * Listens on the network.
   *
   * @param address Host name and port (0: any free port).
   * @returns The listener.
   */
  listen(address: { readonly hostname: string; readonly port: number }): TransportListener {
    return stateOf(this.#network).listen(address.hostname, address.port);
  }

  /**
   * Connects to a listener on the network.
   *
   * @param address The listener's host name and port.
   * @returns The connection.
   */
  dial(
    address: { readonly hostname: string; readonly port: number },
  ): Promise<TransportConnection> {
    try {
      return Promise.resolve(
        stateOf(this.#network).dial(this.#hostname, address.hostname, address.port),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** A listener's queue of accepted connections. */
class MemoryListener implements TransportListener {
  readonly addr: TransportAddress;
  readonly #onClose: () => void;
  readonly #pending: TransportConnection[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(addr: TransportAddress, onClose: () => void) {
    this.addr = addr;
    this.#onClose = onClose;
  }

  push(connection: TransportConnection): void {
    this.#pending.push(connection);
    this.#wake?.();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    for (const connection of this.#pending.splice(0)) connection.close();
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TransportConnection> {
    while (!this.#closed) {
      const next = this.#pending.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}

interface Pipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Ends the stream for its reader (after what is queued). */
  end(): void;
  /** Fails pending and later reads (the local side closed). */
  fail(): void;
}

/** One direction: what is written (copied: the writer reuses its buffers) comes out as a byte stream. */
function pipe(): Pipe {
  let controller!: ReadableByteStreamController;
  let wake: (() => void) | undefined;
  let done = false;
  const release = () => {
    wake?.();
    wake = undefined;
  };
  const readable = new ReadableStream({
    type: "bytes",
    start: (c) => void (controller = c),
    pull: release,
    cancel: () => {
      done = true;
      release();
    },
  }, { highWaterMark: PIPE_HIGH_WATER_MARK });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (done) throw new Deno.errors.BrokenPipe("the connection is closed");
      controller.enqueue(chunk.slice());
      while (!done && (controller.desiredSize ?? 0) <= 0) {
        await new Promise<void>((resolve) => wake = resolve);
      }
    },
  });
  return {
    readable,
    writable,
    end() {
      if (done) return;
      done = true;
      release();
      try {
        controller.close();
      } catch { /* already closed */ }
    },
    fail() {
      if (done) return;
      done = true;
      release();
      controller.error(new Deno.errors.BadResource("the connection is closed"));
    },
  };
}

function connection(incoming: Pipe, outgoing: Pipe, remoteAddr: TransportAddress) {
  return {
    readable: incoming.readable,
    writable: outgoing.writable,
    remoteAddr,
    close() {
      outgoing.end();
      incoming.fail();
    },
  };
}
