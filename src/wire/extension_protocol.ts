import { BencodeDict } from "../bencode/dict.ts";
import { VERSION } from "../version.ts";
import { type ExtendedHandshake, ExtensionIds, ExtensionRegistry } from "./extensions.ts";
import type { HandshakeContext, HandshakeHandler } from "./handlers.ts";
import { ReservedBits, setReservedBit } from "./handshake.ts";

/**
 * Options for {@linkcode ExtensionProtocol}.
 *
 * @example
 * ```ts
 * import { ExtensionProtocol, type ExtensionProtocolOptions } from "@bittern/bittern";
 *
 * const options: ExtensionProtocolOptions = { client: "MyApp 1.0", listenPort: 6881 };
 * const handler = new ExtensionProtocol(options);
 * ```
 */
export interface ExtensionProtocolOptions {
  /** The extended messages we support, announced in `m`. Default: an empty registry. */
  readonly registry?: ExtensionRegistry;
  /** `v`: client name and version. Default `Bittern <version>`. */
  readonly client?: string;
  /** `p`: our listen port, when we accept connections. */
  readonly listenPort?: number;
  /** `reqq`: how many outstanding requests we accept from a peer. Default 250. */
  readonly requestQueueLength?: number;
  /** `metadata_size`: the info dictionary's size, when known (a function: it may become known later). */
  readonly metadataSize?: number | (() => number | undefined);
  /** Whether to send `yourip` (the peer's address as we see it). Default `true`. */
  readonly sendYourIp?: boolean;
}

/**
 * BEP 10 extension protocol support, as a {@linkcode HandshakeHandler}: sets
 * the reserved bit, announces `m` (from the registry), `v`, `p`, `reqq`,
 * `yourip` and `metadata_size`, and applies the peer's `m` to the
 * connection's {@linkcode ExtensionIds}.
 *
 * @example
 * ```ts
 * import { ExtensionProtocol, ExtensionRegistry } from "@bittern/bittern";
 *
 * const registry = new ExtensionRegistry();
 * const bep10 = new ExtensionProtocol({ registry, listenPort: 6881, metadataSize: 31_337 });
 * console.log(bep10.name); // "bep10"
 * ```
 */
export class ExtensionProtocol implements HandshakeHandler {
  /** Handler name. */
  readonly name = "bep10";
  /** The extended messages announced to peers. */
  readonly registry: ExtensionRegistry;
  readonly #options: ExtensionProtocolOptions;

  /**
   * Creates the handler.
   *
   * @param options What to announce.
   */
  constructor(options: ExtensionProtocolOptions = {}) {
    this.registry = options.registry ?? new ExtensionRegistry();
    this.#options = options;
  }

  /**
   * Sets the BEP 10 bit and creates the connection's id maps.
   *
   * @param context The connection's handshake context.
   */
  onLocalHandshake(context: HandshakeContext): void {
    setReservedBit(context.reserved, ReservedBits.extensionProtocol);
    context.extensions = new ExtensionIds(this.registry);
  }

  /**
   * Adds the standard BEP 10 fields.
   *
   * @param context The connection's handshake context.
   * @param fields The dictionary being built.
   */
  onLocalExtendedHandshake(context: HandshakeContext, fields: BencodeDict): void {
    const options = this.#options;
    fields.set("m", new BencodeDict(this.registry.localIds()));
    fields.set("v", new TextEncoder().encode(options.client ?? `Bittern ${VERSION}`));
    if (options.listenPort !== undefined) fields.set("p", options.listenPort);
    fields.set("reqq", options.requestQueueLength ?? 250);
    const address = context.remoteAddress;
    if (options.sendYourIp !== false && address) {
      const ip = ipBytes(address.hostname);
      if (ip) fields.set("yourip", ip);
    }
    const size = typeof options.metadataSize === "function"
      ? options.metadataSize()
      : options.metadataSize;
    if (size !== undefined) fields.set("metadata_size", size);
  }

  /**
   * Applies the peer's `m` map to the connection's ids.
   *
   * @param context The connection's handshake context.
   * @param handshake The peer's extended handshake.
   */
  onRemoteExtendedHandshake(context: HandshakeContext, handshake: ExtendedHandshake): void {
    context.extensions?.updateRemote(handshake.m);
  }
}

/** The 4 or 16 bytes of an IP address literal, or `undefined`. */
function ipBytes(hostname: string): Uint8Array | undefined {
  const v4 = hostname.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? new Uint8Array(bytes) : undefined;
  }
  if (!hostname.includes(":") || hostname.includes(".")) return undefined;
  const [head, tail = ""] = hostname.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = hostname.includes("::") ? (tail ? tail.split(":") : []) : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (!hostname.includes("::") && missing !== 0)) return undefined;
  const groups = [...headGroups, ...Array(missing).fill("0"), ...tailGroups];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const value = parseInt(groups[i], 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return undefined;
    bytes[i * 2] = value >>> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  return bytes;
}
