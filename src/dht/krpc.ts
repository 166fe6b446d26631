/**
 * KRPC (BEP 5): bencoded dictionaries over UDP. Decoding is strict about what the DHT needs
 * (types and lengths of `t`, `y`, `q`, `a`, `r`, `e`, ids, tokens, compact nodes) and ignores
 * unknown keys, so newer clients still talk to us.
 */
import { BencodeDict } from "../bencode/dict.ts";
import { decode } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import type { BencodeValue, Encodable } from "../bencode/types.ts";
import type { PeerAddress } from "../util/address.ts";
import { parseIpv4 } from "../util/ip.ts";
import { DhtError, KrpcErrorCode } from "./errors.ts";
import { ID_LENGTH } from "./node_id.ts";

/** Bytes of one compact node: 20-byte id, 4-byte IPv4 address, 2-byte port. */
export const COMPACT_NODE_LENGTH = 26;
/** Bytes of one compact peer: 4-byte IPv4 address, 2-byte port. */
export const COMPACT_PEER_LENGTH = 6;
/** Largest datagram decoded; KRPC messages fit in one unfragmented UDP packet. */
export const MAX_DATAGRAM = 4096;
/** Longest transaction id or token accepted (libtorrent uses 2-4 and 4-8 bytes). */
const MAX_SHORT_STRING = 64;
/** Most compact nodes read from one answer (8 expected; more is noise). */
const MAX_NODES_PER_ANSWER = 16;
/** Most peers read from one answer. */
const MAX_VALUES_PER_ANSWER = 200;

/**
 * A DHT node: its id and UDP address.
 *
 * @example
 * ```ts
 * import { type NodeContact, randomNodeId } from "@bittern/bittern";
 *
 * const node: NodeContact = { id: randomNodeId(), host: "127.0.0.1", port: 6881 };
 * ```
 */
export interface NodeContact {
  /** The 20-byte node id. */
  readonly id: Uint8Array;
  /** IPv4 address. */
  readonly host: string;
  /** UDP port. */
  readonly port: number;
}

/**
 * A KRPC query with its arguments, checked (BEP 5).
 *
 * @example
 * ```ts
 * import { type KrpcQuery, randomNodeId } from "@bittern/bittern";
 *
 * const query: KrpcQuery = { method: "ping", id: randomNodeId() };
 * ```
 */
export type KrpcQuery =
  | { readonly method: "ping"; readonly id: Uint8Array }
  | { readonly method: "find_node"; readonly id: Uint8Array; readonly target: Uint8Array }
  | { readonly method: "get_peers"; readonly id: Uint8Array; readonly infoHash: Uint8Array }
  | {
    readonly method: "announce_peer";
    readonly id: Uint8Array;
    readonly infoHash: Uint8Array;
    readonly port: number;
    readonly token: Uint8Array;
    /** Use the UDP source port instead of `port` (µTP/NAT clients). */
    readonly impliedPort: boolean;
  };

/**
 * The fields of a KRPC answer the DHT uses (any method's).
 *
 * @example
 * ```ts
 * import { type KrpcResponse, randomNodeId } from "@bittern/bittern";
 *
 * const answer: KrpcResponse = { id: randomNodeId(), nodes: [] };
 * ```
 */
export interface KrpcResponse {
  /** The answering node's id. */
  readonly id: Uint8Array;
  /** Closer nodes (`find_node`, `get_peers`), IPv4 compact form. */
  readonly nodes?: readonly NodeContact[];
  /** Peers of the info hash (`get_peers`), IPv4 compact form. */
  readonly values?: readonly PeerAddress[];
  /** Token for a later `announce_peer` (`get_peers`). */
  readonly token?: Uint8Array;
}

/**
 * A decoded KRPC message: a query, an answer or an error.
 *
 * @example
 * ```ts
 * import { decodeKrpc, encodeKrpcQuery, randomNodeId } from "@bittern/bittern";
 *
 * const bytes = encodeKrpcQuery(new Uint8Array([1, 2]), { method: "ping", id: randomNodeId() });
 * const message = decodeKrpc(bytes);
 * console.log(message.kind); // "query"
 * ```
 */
export type KrpcMessage =
  | {
    readonly kind: "query";
    readonly transactionId: Uint8Array;
    readonly query: KrpcQuery;
    /** The sender is read-only (BEP 43): do not add it to the routing table. */
    readonly readOnly: boolean;
  }
  | {
    readonly kind: "response";
    readonly transactionId: Uint8Array;
    readonly response: KrpcResponse;
  }
  | {
    readonly kind: "error";
    readonly transactionId: Uint8Array;
    readonly code: number;
    readonly message: string;
  };

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: false });

function text(value: BencodeValue | undefined): string | undefined {
  return value instanceof Uint8Array && value.length <= 32 ? latin1.decode(value) : undefined;
}

/** A bad query (answered with error 203) or, without `asQuery`, a bad answer (never answered). */
function malformed(message: string, transactionId?: Uint8Array, asQuery = true): DhtError {
  return new DhtError("malformed", message, {
    krpcCode: asQuery ? KrpcErrorCode.protocol : undefined,
    transactionId,
  });
}

function bytesField(
  dict: BencodeDict,
  key: string,
  where: string,
  length: number | undefined,
  t: Uint8Array,
  asQuery = true,
): Uint8Array {
  const value = dict.get(key);
  if (!(value instanceof Uint8Array)) {
    throw malformed(`${where}: ${key} is not a byte string`, t, asQuery);
  }
  if (length !== undefined && value.length !== length) {
    throw malformed(`${where}: ${key} is ${value.length} bytes, not ${length}`, t, asQuery);
  }
  if (length === undefined && value.length > MAX_SHORT_STRING) {
    throw malformed(
      `${where}: ${key} is ${value.length} bytes, over ${MAX_SHORT_STRING}`,
      t,
      asQuery,
    );
  }
  return value;
}

/**
 * Decodes compact node info (26 bytes each: id, IPv4, port).
 *
 * @example
 * ```ts
 * import { decodeCompactNodes, encodeCompactNodes, randomNodeId } from "@bittern/bittern";
 *
 * const bytes = encodeCompactNodes([{ id: randomNodeId(), host: "127.0.0.1", port: 6881 }]);
 * console.log(decodeCompactNodes(bytes)[0].port); // 6881
 * ```
 *
 * @param bytes A multiple of 26 bytes.
 * @returns The nodes.
 * @throws {DhtError} `malformed` when the length is not a multiple of 26.
 */
export function decodeCompactNodes(bytes: Uint8Array): NodeContact[] {
  if (bytes.length % COMPACT_NODE_LENGTH !== 0) {
    throw malformed(`nodes: ${bytes.length} bytes is not a multiple of ${COMPACT_NODE_LENGTH}`);
  }
  const nodes: NodeContact[] = [];
  for (let at = 0; at < bytes.length; at += COMPACT_NODE_LENGTH) {
    nodes.push({
      id: bytes.slice(at, at + ID_LENGTH),
      host: `${bytes[at + 20]}.${bytes[at + 21]}.${bytes[at + 22]}.${bytes[at + 23]}`,
      port: (bytes[at + 24] << 8) | bytes[at + 25],
    });
  }
  return nodes;
}

/**
 * Encodes nodes in compact form; nodes without an IPv4 address are skipped.
 *
 * @example
 * ```ts
 * import { encodeCompactNodes, randomNodeId } from "@bittern/bittern";
 *
 * console.log(encodeCompactNodes([{ id: randomNodeId(), host: "10.0.0.1", port: 1 }]).length); // 26
 * ```
 *
 * @param nodes The nodes.
 * @returns 26 bytes per IPv4 node.
 */
export function encodeCompactNodes(nodes: readonly NodeContact[]): Uint8Array {
  const parts = nodes.map((node) => ({ node, ip: parseIpv4(node.host) }))
    .filter((entry) => entry.ip && entry.node.id.length === ID_LENGTH);
  const out = new Uint8Array(parts.length * COMPACT_NODE_LENGTH);
  parts.forEach(({ node, ip }, i) => {
    const at = i * COMPACT_NODE_LENGTH;
    out.set(node.id, at);
    out.set(ip!, at + 20);
    out[at + 24] = node.port >> 8;
    out[at + 25] = node.port & 0xff;
  });
  return out;
}

/**
 * Encodes one peer in compact form (6 bytes), or `undefined` for a non-IPv4 host.
 *
 * @example
 * ```ts
 * import { encodeDhtPeer } from "@bittern/bittern";
 *
 * console.log(encodeDhtPeer({ host: "127.0.0.1", port: 6881 })); // Uint8Array(6) [127, 0, 0, 1, 26, 225]
 * ```
 *
 * @param peer The peer.
 * @returns 6 bytes.
 */
export function encodeDhtPeer(peer: PeerAddress): Uint8Array | undefined {
  const ip = parseIpv4(peer.host);
  if (!ip) return undefined;
  return new Uint8Array([...ip, peer.port >> 8, peer.port & 0xff]);
}

/**
 * Decodes one compact peer (6 bytes); other lengths (IPv6's 18) give `undefined`.
 *
 * @example
 * ```ts
 * import { decodeDhtPeer } from "@bittern/bittern";
 *
 * console.log(decodeDhtPeer(new Uint8Array([127, 0, 0, 1, 26, 225]))); // { host: "127.0.0.1", port: 6881 }
 * ```
 *
 * @param bytes 6 bytes.
 * @returns The peer.
 */
export function decodeDhtPeer(bytes: Uint8Array): PeerAddress | undefined {
  if (bytes.length !== COMPACT_PEER_LENGTH) return undefined;
  return {
    host: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`,
    port: (bytes[4] << 8) | bytes[5],
  };
}

/**
 * Whether a contact is worth talking to: an IPv4 unicast address (not 0.x, multicast or
 * broadcast) and a port from 1 to 65535. Hostile answers carry port 0 and martian addresses.
 *
 * @example
 * ```ts
 * import { isUsableAddress } from "@bittern/bittern";
 *
 * console.log(isUsableAddress("127.0.0.1", 0)); // false
 * console.log(isUsableAddress("224.0.0.1", 6881)); // false
 * ```
 *
 * @param host IPv4 address.
 * @param port UDP or TCP port.
 * @returns `true` when usable.
 */
export function isUsableAddress(host: string, port: number): boolean {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
  const ip = parseIpv4(host);
  return ip !== undefined && ip[0] !== 0 && ip[0] < 224;
}

function decodeQuery(dict: BencodeDict, t: Uint8Array): KrpcMessage {
  const method = text(dict.get("q"));
  if (method === undefined) throw malformed("query: q is not a short byte string", t);
  const args = dict.get("a");
  if (!(args instanceof BencodeDict)) throw malformed(`${method}: a is not a dictionary`, t);
  const id = bytesField(args, "id", method, ID_LENGTH, t);
  const readOnly = dict.get("ro") === 1;
  let query: KrpcQuery;
  switch (method) {
    case "ping":
      query = { method, id };
      break;
    case "find_node":
      query = { method, id, target: bytesField(args, "target", method, ID_LENGTH, t) };
      break;
    case "get_peers":
      query = { method, id, infoHash: bytesField(args, "info_hash", method, ID_LENGTH, t) };
      break;
    case "announce_peer": {
      const infoHash = bytesField(args, "info_hash", method, ID_LENGTH, t);
      const token = bytesField(args, "token", method, undefined, t);
      const implied = args.get("implied_port");
      const impliedPort = implied !== undefined && implied !== 0;
      const port = args.get("port");
      if (!impliedPort && (typeof port !== "number" || port < 1 || port > 65535)) {
        throw malformed(`${method}: port is not a number from 1 to 65535`, t);
      }
      query = {
        method,
        id,
        infoHash,
        token,
        impliedPort,
        port: typeof port === "number" ? port : 0,
      };
      break;
    }
    default:
      throw new DhtError("malformed", `unknown method ${JSON.stringify(method)}`, {
        krpcCode: KrpcErrorCode.methodUnknown,
        transactionId: t,
      });
  }
  return { kind: "query", transactionId: t, query, readOnly };
}

function decodeResponse(dict: BencodeDict, t: Uint8Array): KrpcMessage {
  const body = dict.get("r");
  if (!(body instanceof BencodeDict)) throw malformed("response: r is not a dictionary", t, false);
  const id = bytesField(body, "id", "response", ID_LENGTH, t, false);
  let nodes: NodeContact[] | undefined;
  const compact = body.get("nodes");
  if (compact !== undefined) {
    if (!(compact instanceof Uint8Array)) {
      throw malformed("response: nodes is not a byte string", t, false);
    }
    if (compact.length % COMPACT_NODE_LENGTH !== 0) {
      throw malformed(`response: nodes is ${compact.length} bytes, not a multiple of 26`, t, false);
    }
    nodes = decodeCompactNodes(
      compact.subarray(0, MAX_NODES_PER_ANSWER * COMPACT_NODE_LENGTH),
    );
  }
  let values: PeerAddress[] | undefined;
  const list = body.get("values");
  if (list !== undefined) {
    if (!Array.isArray(list)) throw malformed("response: values is not a list", t, false);
    values = [];
    for (const item of list.slice(0, MAX_VALUES_PER_ANSWER)) {
      if (!(item instanceof Uint8Array)) {
        throw malformed("response: a value is not a byte string", t, false);
      }
      const peer = decodeDhtPeer(item);
      if (peer) values.push(peer);
    }
  }
  const token = body.has("token")
    ? bytesField(body, "token", "response", undefined, t, false)
    : undefined;
  return { kind: "response", transactionId: t, response: { id, nodes, values, token } };
}

/**
 * Decodes one KRPC datagram.
 *
 * @example
 * ```ts
 * import { decodeKrpc, DhtError } from "@bittern/bittern";
 *
 * try {
 *   decodeKrpc(new TextEncoder().encode("d1:t2:aa1:y1:qe"));
 * } catch (error) {
 *   console.log((error as DhtError).krpcCode); // 203
 * }
 * ```
 *
 * @param bytes The datagram.
 * @returns The message.
 * @throws {DhtError} `malformed`; for a bad query it carries the KRPC code to answer with (203,
 * or 204 for an unknown method) and the transaction id.
 */
export function decodeKrpc(bytes: Uint8Array): KrpcMessage {
  if (bytes.length > MAX_DATAGRAM) {
    throw malformed(`datagram of ${bytes.length} bytes`, undefined, false);
  }
  let value: BencodeValue;
  try {
    value = decode(bytes, { allowUnsortedKeys: true, maxDepth: 4, maxLength: MAX_DATAGRAM });
  } catch (error) {
    throw new DhtError("malformed", `not bencode: ${(error as Error).message}`, { cause: error });
  }
  if (!(value instanceof BencodeDict)) {
    throw malformed("message is not a dictionary", undefined, false);
  }
  const t = value.get("t");
  if (!(t instanceof Uint8Array) || t.length > MAX_SHORT_STRING) {
    throw malformed("t is not a short byte string", undefined, false);
  }
  const y = text(value.get("y"));
  switch (y) {
    case "q":
      return decodeQuery(value, t);
    case "r":
      return decodeResponse(value, t);
    case "e": {
      const e = value.get("e");
      if (!Array.isArray(e) || typeof e[0] !== "number") {
        throw malformed("error: e is not a [code, message] list", t, false);
      }
      const message = e[1] instanceof Uint8Array ? utf8.decode(e[1].subarray(0, 200)) : "";
      return { kind: "error", transactionId: t, code: e[0], message };
    }
    default:
      throw malformed(`y is ${y === undefined ? "missing" : JSON.stringify(y)}`, t, false);
  }
}

/**
 * Encodes a query.
 *
 * @example
 * ```ts
 * import { encodeKrpcQuery, randomNodeId } from "@bittern/bittern";
 *
 * const bytes = encodeKrpcQuery(new Uint8Array([0, 1]), {
 *   method: "find_node",
 *   id: randomNodeId(),
 *   target: randomNodeId(),
 * });
 * ```
 *
 * @param transactionId The transaction id (`t`).
 * @param query Method and arguments.
 * @param readOnly Mark the query read-only (BEP 43 `ro`).
 * @returns The datagram.
 */
export function encodeKrpcQuery(
  transactionId: Uint8Array,
  query: KrpcQuery,
  readOnly = false,
): Uint8Array {
  const args: Record<string, Encodable> = { id: query.id };
  switch (query.method) {
    case "find_node":
      args.target = query.target;
      break;
    case "get_peers":
      args.info_hash = query.infoHash;
      break;
    case "announce_peer":
      args.info_hash = query.infoHash;
      args.port = query.port;
      args.token = query.token;
      if (query.impliedPort) args.implied_port = 1;
      break;
  }
  const message: Record<string, Encodable> = { t: transactionId, y: "q", q: query.method, a: args };
  if (readOnly) message.ro = 1;
  return encode(message);
}

/**
 * Encodes an answer.
 *
 * @example
 * ```ts
 * import { encodeKrpcResponse, randomNodeId } from "@bittern/bittern";
 *
 * const bytes = encodeKrpcResponse(new Uint8Array([0, 1]), { id: randomNodeId() });
 * ```
 *
 * @param transactionId The query's transaction id.
 * @param response The fields.
 * @returns The datagram.
 */
export function encodeKrpcResponse(transactionId: Uint8Array, response: KrpcResponse): Uint8Array {
  const body: Record<string, Encodable> = { id: response.id };
  if (response.nodes) body.nodes = encodeCompactNodes(response.nodes);
  if (response.values) {
    body.values = response.values.map(encodeDhtPeer).filter((peer) => peer !== undefined);
  }
  if (response.token) body.token = response.token;
  return encode({ t: transactionId, y: "r", r: body });
}

/**
 * Encodes an error answer (BEP 5 codes in {@linkcode KrpcErrorCode}).
 *
 * @example
 * ```ts
 * import { encodeKrpcError, KrpcErrorCode } from "@bittern/bittern";
 *
 * const bytes = encodeKrpcError(new Uint8Array([0, 1]), KrpcErrorCode.protocol, "bad token");
 * ```
 *
 * @param transactionId The query's transaction id.
 * @param code The error code.
 * @param message A short explanation.
 * @returns The datagram.
 */
export function encodeKrpcError(
  transactionId: Uint8Array,
  code: number,
  message: string,
): Uint8Array {
  return encode({ t: transactionId, y: "e", e: [code, message] });
}
