import { BencodeDict } from "../bencode/dict.ts";
import { decode } from "../bencode/decode.ts";
import { ProtocolError, WireOptionsError } from "./errors.ts";
import { DEFAULT_WIRE_LIMITS, type WireLimits } from "./limits.ts";
import type { ExtendedMessage } from "./messages.ts";

/**
 * A named BEP 10 extended message: how its payload is encoded and decoded.
 *
 * @example A message that carries text
 * ```ts
 * import type { ExtensionMessageType } from "@bittern/bittern";
 *
 * const chat: ExtensionMessageType<string> = {
 *   name: "x_chat",
 *   encode: (text) => new TextEncoder().encode(text),
 *   decode: (payload) => new TextDecoder().decode(payload),
 * };
 * ```
 */
export interface ExtensionMessageType<T> {
  /** The name announced in the extended handshake's `m` dictionary, e.g. `ut_metadata`. */
  readonly name: string;
  /** Encodes a value as the payload (after the extended id byte). */
  encode(value: T): Uint8Array;
  /** Decodes a payload; throw (preferably a {@linkcode ProtocolError}) when it is malformed. */
  decode(payload: Uint8Array): T;
}

/**
 * The extended messages this client supports, each with the local id it is
 * announced under (1, 2, ... in registration order). One registry is shared by
 * all connections; ids used *to* a peer are per connection ({@linkcode ExtensionIds}).
 *
 * @example
 * ```ts
 * import { ExtensionRegistry } from "@bittern/bittern";
 *
 * const registry = new ExtensionRegistry().register({
 *   name: "x_chat",
 *   encode: (text: string) => new TextEncoder().encode(text),
 *   decode: (payload) => new TextDecoder().decode(payload),
 * });
 * console.log(registry.localId("x_chat")); // 1
 * ```
 */
export class ExtensionRegistry {
  readonly #byName = new Map<string, { id: number; type: ExtensionMessageType<unknown> }>();
  readonly #byId: (ExtensionMessageType<unknown> | undefined)[] = [];

  /**
   * Adds a message type under the next free local id.
   *
   * @param type The message's name and codec.
   * @returns `this`, for chaining.
   */
  register<T>(type: ExtensionMessageType<T>): this {
    if (this.#byName.has(type.name)) {
      throw new WireOptionsError(`extension ${type.name} is already registered`);
    }
    const id = this.#byId.length + 1;
    if (id > 255) throw new WireOptionsError("at most 255 extensions fit BEP 10 ids");
    this.#byName.set(type.name, { id, type: type as ExtensionMessageType<unknown> });
    this.#byId.push(type as ExtensionMessageType<unknown>);
    return this;
  }

  /**
   * The local id of `name`, or `undefined` when it is not registered.
   *
   * @param name Extension name.
   * @returns Its local id.
   */
  localId(name: string): number | undefined {
    return this.#byName.get(name)?.id;
  }

  /**
   * The message type under local `id`.
   *
   * @param id A local extended message id (1-255).
   * @returns The registered type, if any.
   */
  typeOf(id: number): ExtensionMessageType<unknown> | undefined {
    return this.#byId[id - 1];
  }

  /**
   * The message type registered as `name`.
   *
   * @param name Extension name.
   * @returns The registered type, if any.
   */
  get(name: string): ExtensionMessageType<unknown> | undefined {
    return this.#byName.get(name)?.type;
  }

  /**
   * `name -> local id` for every registered message: the `m` dictionary.
   *
   * @returns The map, in registration order.
   */
  localIds(): Map<string, number> {
    return new Map([...this.#byName].map(([name, { id }]) => [name, id]));
  }
}

/**
 * Per-connection extension ids: which of our registered names the peer
 * announced, under which of *its* ids (used when sending to it), and our own
 * ids (used by the peer when sending to us). A remote id of 0 means the peer
 * disabled it. Names we did not register are ignored, as BEP 10 asks, so the
 * map never holds more entries than the registry, however often the peer
 * updates it (the full `m` of each handshake stays in {@linkcode ExtendedHandshake.m}).
 *
 * @example
 * ```ts
 * import { ExtensionIds, ExtensionRegistry } from "@bittern/bittern";
 *
 * const registry = new ExtensionRegistry().register({
 *   name: "x_chat",
 *   encode: (text: string) => new TextEncoder().encode(text),
 *   decode: (payload) => new TextDecoder().decode(payload),
 * });
 * const ids = new ExtensionIds(registry);
 * ids.updateRemote(new Map([["x_chat", 3]]));
 * console.log(ids.encode("x_chat", "hi")?.id); // 3
 * ```
 */
export class ExtensionIds {
  /** The shared registry of supported messages. */
  readonly registry: ExtensionRegistry;
  readonly #remote = new Map<string, number>();

  /**
   * Creates empty per-connection ids over a shared registry.
   *
   * @param registry The messages this client supports.
   */
  constructor(registry: ExtensionRegistry) {
    this.registry = registry;
  }

  /**
   * Applies a peer's `m` dictionary. BEP 10 makes a later handshake's `m`
   * additive: it may add, change or disable (id 0) individual entries, and
   * names it leaves out keep their ids. Names not in the registry are skipped.
   *
   * @param m Names to the peer's ids.
   */
  updateRemote(m: ReadonlyMap<string, number>): void {
    for (const [name, id] of m) {
      if (id === 0) this.#remote.delete(name);
      else if (this.registry.localId(name) !== undefined) this.#remote.set(name, id);
    }
  }

  /**
   * The peer's id for `name`, or `undefined` when it did not announce it.
   *
   * @param name Extension name.
   * @returns The id to send with.
   */
  remoteId(name: string): number | undefined {
    return this.#remote.get(name);
  }

  /**
   * Names of ours that the peer announced (and has not disabled).
   *
   * @returns The names.
   */
  remoteNames(): string[] {
    return [...this.#remote.keys()];
  }

  /**
   * Builds the message that sends `value` as `name` to this peer, or
   * `undefined` when the peer did not announce `name` or we do not support it.
   *
   * @param name Extension name.
   * @param value The value to encode with the registered codec.
   * @returns The extended message, or `undefined`.
   */
  encode<T>(name: string, value: T): ExtendedMessage | undefined {
    const id = this.#remote.get(name);
    const type = this.registry.get(name) as ExtensionMessageType<T> | undefined;
    if (id === undefined || !type) return undefined;
    return { type: "extended", id, payload: type.encode(value) };
  }

  /**
   * Decodes an incoming extended message addressed to one of our local ids.
   * Returns `undefined` for the extended handshake (id 0) and unknown ids;
   * throws {@linkcode ProtocolError} (`bad-extended-message`) when the codec rejects the payload.
   *
   * @param message An extended message from this peer.
   * @returns The message's name and decoded value.
   */
  decode(message: ExtendedMessage): { name: string; value: unknown } | undefined {
    if (message.id === 0) return undefined;
    const type = this.registry.typeOf(message.id);
    if (!type) return undefined;
    try {
      return { name: type.name, value: type.decode(message.payload) };
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(
        "bad-extended-message",
        `malformed ${type.name} message (${message.payload.length} bytes)`,
        { name: type.name },
        { cause: error },
      );
    }
  }
}

/**
 * A peer's BEP 10 extended handshake, with the standard keys picked out.
 *
 * Byte strings in it (`yourip`, values in `dict`) are views into the bytes it
 * was parsed from. {@linkcode PeerWire} parses a copy of the payload, so a
 * handshake it hands out stays valid for the life of the connection, even
 * with `reuseReadBuffer`.
 *
 * @example
 * ```ts
 * import { type ExtendedHandshake } from "@bittern/bittern";
 *
 * declare const handshake: ExtendedHandshake;
 * if (handshake.m.has("ut_metadata")) console.log(handshake.metadataSize);
 * ```
 */
export interface ExtendedHandshake {
  /** `m`: extension names to the peer's message ids (0 = disabled). */
  readonly m: ReadonlyMap<string, number>;
  /** `v`: client name and version. */
  readonly v?: string;
  /** `p`: the peer's listen port. */
  readonly p?: number;
  /** `reqq`: how many outstanding requests the peer accepts. */
  readonly reqq?: number;
  /** `yourip`: our address as the peer sees it (4 or 16 bytes). */
  readonly yourip?: Uint8Array;
  /** `metadata_size` (BEP 9): size of the info dictionary in bytes. */
  readonly metadataSize?: number;
  /** The whole dictionary, including keys not listed above. */
  readonly dict: BencodeDict;
}

const utf8 = new TextDecoder();

/**
 * Parses an extended handshake payload (extended message id 0). Entries of
 * unexpected types are ignored, as BEP 10 asks; a payload that is not a
 * bencoded dictionary throws {@linkcode ProtocolError} (`bad-extended-handshake`),
 * and a `metadata_size` above `limits.maxMetadataSize` (default 16 MiB)
 * throws `metadata-too-large`.
 *
 * The result's byte strings (`yourip`, values in `dict`) are views into
 * `payload`, not copies: pass a copy if `payload` will be overwritten.
 *
 * @example
 * ```ts
 * import { parseExtendedHandshake } from "@bittern/bittern";
 *
 * const payload = new TextEncoder().encode("d1:md11:ut_metadatai3eee");
 * console.log(parseExtendedHandshake(payload).m.get("ut_metadata")); // 3
 * ```
 *
 * @example Bounding `metadata_size`
 * ```ts
 * import { parseExtendedHandshake, ProtocolError } from "@bittern/bittern";
 *
 * const payload = new TextEncoder().encode("d13:metadata_sizei99999999ee");
 * try {
 *   parseExtendedHandshake(payload, { maxMetadataSize: 1024 * 1024 });
 * } catch (error) {
 *   console.log(error instanceof ProtocolError && error.code); // "metadata-too-large"
 * }
 * ```
 *
 * @param payload The bytes after the extended id.
 * @param limits `maxMetadataSize` bounds `metadata_size`; other limits are not used here.
 * @returns The parsed handshake.
 */
export function parseExtendedHandshake(
  payload: Uint8Array,
  limits: WireLimits = {},
): ExtendedHandshake {
  let dict: unknown;
  try {
    dict = decode(payload, { allowUnsortedKeys: true, maxDepth: 32 });
  } catch (error) {
    throw new ProtocolError(
      "bad-extended-handshake",
      `extended handshake is not valid bencode (${(error as Error).message})`,
      {},
      { cause: error },
    );
  }
  if (!(dict instanceof BencodeDict)) {
    throw new ProtocolError("bad-extended-handshake", "extended handshake is not a dictionary");
  }
  const m = new Map<string, number>();
  const mDict = dict.get("m");
  if (mDict instanceof BencodeDict) {
    for (const [name, id] of mDict) {
      if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= 255) m.set(name, id);
    }
  }
  const v = dict.get("v");
  const yourip = dict.get("yourip");
  return {
    m,
    v: v instanceof Uint8Array ? utf8.decode(v) : undefined,
    p: integerIn(dict.get("p"), 1, 65535),
    reqq: integerIn(dict.get("reqq"), 1, 2 ** 31),
    yourip: yourip instanceof Uint8Array && (yourip.length === 4 || yourip.length === 16)
      ? yourip
      : undefined,
    metadataSize: metadataSize(
      dict.get("metadata_size"),
      limits.maxMetadataSize ?? DEFAULT_WIRE_LIMITS.maxMetadataSize,
    ),
    dict,
  };
}

/** A positive integer `metadata_size` up to `limit`; others are ignored; above `limit` throws. */
function metadataSize(value: unknown, limit: number): number | undefined {
  // Integers beyond 2^53 decode as bigint: always above any limit.
  if (
    (typeof value === "number" && Number.isInteger(value) && value > limit) ||
    (typeof value === "bigint" && value > 0n)
  ) {
    throw new ProtocolError(
      "metadata-too-large",
      `extended handshake announces metadata_size ${value} above the ${limit}-byte limit`,
      { metadataSize: typeof value === "number" ? value : String(value), limit },
    );
  }
  return integerIn(value, 1, limit);
}

function integerIn(value: unknown, min: number, max: number): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? value
    : undefined;
}
