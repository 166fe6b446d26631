/**
 * The routing table (BEP 5): buckets of at most K nodes by shared id prefix with our own id.
 * Bucket `i` holds nodes whose id shares exactly `i` leading bits with ours; the last bucket
 * holds everything closer and is the only one that splits, so the table stays small (about
 * K·log2(n) nodes for n nodes in the network) and dense near our id.
 */
import { addressKey } from "../util/address.ts";
import { bytesEqual, toHex } from "../util/bytes.ts";
import type { NodeContact } from "./krpc.ts";
import { commonPrefixLength, compareDistance, ID_LENGTH } from "./node_id.ts";

/** Nodes per bucket (BEP 5). */
export const BUCKET_SIZE = 8;
/** A node unheard of for this long is questionable; a bucket unchanged this long is refreshed. */
export const QUESTIONABLE_AFTER_MS = 15 * 60_000;
/** Failed queries in a row that make a node bad. */
const BAD_AFTER_FAILURES = 2;
/** Replacement candidates kept per bucket. */
const REPLACEMENTS = 8;

/**
 * A node in the table and what we know of its liveness.
 *
 * @example
 * ```ts
 * import { RoutingTable, randomNodeId } from "@bittern/bittern";
 *
 * const table = new RoutingTable(randomNodeId());
 * table.add({ id: randomNodeId(), host: "127.0.0.1", port: 6881 }, { responded: true });
 * const [entry] = table.nodes();
 * console.log(table.status(entry)); // "good"
 * ```
 */
export interface RoutingEntry extends NodeContact {
  /** When it last answered one of our queries (0: never). */
  lastResponse: number;
  /** When it last sent us a query (0: never). */
  lastQuery: number;
  /** Queries in a row it did not answer. */
  failures: number;
}

/**
 * Good (answered within 15 minutes, or answered once and queried us within 15 minutes),
 * questionable (silent for 15 minutes) or bad (failed queries in a row).
 *
 * @example
 * ```ts
 * import type { NodeStatus } from "@bittern/bittern";
 *
 * const status: NodeStatus = "questionable";
 * ```
 */
export type NodeStatus = "good" | "questionable" | "bad";

interface Bucket {
  nodes: RoutingEntry[];
  replacements: NodeContact[];
  /** When a node was last added or answered: buckets idle 15 minutes are refreshed. */
  changed: number;
}

/**
 * What {@linkcode RoutingTable.add} did: `added`, `updated` (already there), `pending` (bucket
 * full of live nodes: kept as a replacement; `ping` lists questionable nodes to check), or
 * `rejected` (our own id, or an id or address already in the table under another pairing).
 *
 * @example
 * ```ts
 * import type { AddResult } from "@bittern/bittern";
 *
 * const result: AddResult = { outcome: "added", ping: [] };
 * ```
 */
export interface AddResult {
  /** What happened. */
  readonly outcome: "added" | "updated" | "pending" | "rejected";
  /** Questionable nodes of a full bucket, to ping so a replacement can take a dead one's place. */
  readonly ping: readonly RoutingEntry[];
}

/**
 * A BEP 5 routing table around our own id.
 *
 * @example
 * ```ts
 * import { RoutingTable, randomNodeId } from "@bittern/bittern";
 *
 * const table = new RoutingTable(randomNodeId());
 * table.add({ id: randomNodeId(), host: "127.0.0.1", port: 6881 }, { responded: true });
 * console.log(table.closest(randomNodeId(), 8).length); // 1
 * ```
 */
export class RoutingTable {
  /** Our node id. */
  readonly id: Uint8Array;
  readonly #buckets: Bucket[];
  readonly #byId = new Map<string, RoutingEntry>();
  readonly #byAddress = new Map<string, RoutingEntry>();
  readonly #now: () => number;

  /**
   * Creates an empty table.
   *
   * @param id Our node id.
   * @param now The clock (tests pass a fake one).
   */
  constructor(id: Uint8Array, now: () => number = Date.now) {
    if (id.length !== ID_LENGTH) throw new RangeError("a node id is 20 bytes");
    this.id = id;
    this.#now = now;
    this.#buckets = [{ nodes: [], replacements: [], changed: now() }];
  }

  /** Nodes in the table. */
  get size(): number {
    return this.#byId.size;
  }

  /** Number of buckets. */
  get bucketCount(): number {
    return this.#buckets.length;
  }

  #bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixLength(this.id, id), this.#buckets.length - 1);
  }

  /**
   * The status of a node.
   *
   * @param entry A node of this table.
   * @returns Good, questionable or bad.
   */
  status(entry: RoutingEntry): NodeStatus {
    if (entry.failures >= BAD_AFTER_FAILURES) return "bad";
    const now = this.#now();
    if (entry.lastResponse && now - entry.lastResponse < QUESTIONABLE_AFTER_MS) return "good";
    if (entry.lastResponse && now - entry.lastQuery < QUESTIONABLE_AFTER_MS) return "good";
    return "questionable";
  }

  /**
   * Adds or refreshes a node: `responded` when it answered our query, otherwise it queried us.
   * A full bucket splits if it holds our own id; otherwise a bad node is replaced, or the
   * node waits as a replacement while the bucket's questionable nodes are pinged.
   *
   * @param contact The node.
   * @param seen How we heard from it.
   * @returns What happened.
   */
  add(contact: NodeContact, seen: { responded: boolean }): AddResult {
    if (contact.id.length !== ID_LENGTH || bytesEqual(contact.id, this.id)) {
      return { outcome: "rejected", ping: [] };
    }
    const now = this.#now();
    const idKey = toHex(contact.id);
    const address = addressKey(contact.host, contact.port);
    const known = this.#byId.get(idKey);
    if (known) {
      // Same id from another address: keep the one we know (ids are cheap to spoof).
      if (known.host !== contact.host || known.port !== contact.port) {
        return { outcome: "rejected", ping: [] };
      }
      if (seen.responded) {
        known.lastResponse = now;
        known.failures = 0;
        this.#buckets[this.#bucketIndex(known.id)].changed = now;
      } else known.lastQuery = now;
      return { outcome: "updated", ping: [] };
    }
    if (this.#byAddress.has(address)) return { outcome: "rejected", ping: [] };
    const entry: RoutingEntry = {
      id: contact.id,
      host: contact.host,
      port: contact.port,
      lastResponse: seen.responded ? now : 0,
      lastQuery: seen.responded ? 0 : now,
      failures: 0,
    };
    while (true) {
      const index = this.#bucketIndex(entry.id);
      const bucket = this.#buckets[index];
      if (bucket.nodes.length < BUCKET_SIZE) {
        this.#insert(bucket, entry, now);
        return { outcome: "added", ping: [] };
      }
      const bad = bucket.nodes.find((node) => this.status(node) === "bad");
      if (bad) {
        this.#remove(bucket, bad);
        this.#insert(bucket, entry, now);
        return { outcome: "added", ping: [] };
      }
      if (index === this.#buckets.length - 1 && this.#buckets.length < ID_LENGTH * 8) {
        this.#split();
        continue;
      }
      if (!bucket.replacements.some((node) => bytesEqual(node.id, entry.id))) {
        bucket.replacements.push({ id: entry.id, host: entry.host, port: entry.port });
        if (bucket.replacements.length > REPLACEMENTS) bucket.replacements.shift();
      }
      const ping = bucket.nodes.filter((node) => this.status(node) === "questionable");
      return { outcome: "pending", ping };
    }
  }

  /**
   * A query to the node went unanswered: after two in a row it is bad and a replacement (if
   * any) takes its place.
   *
   * @param contact The node.
   */
  failed(contact: NodeContact): void {
    const entry = this.#byId.get(toHex(contact.id));
    if (!entry || entry.host !== contact.host || entry.port !== contact.port) return;
    entry.failures++;
    if (this.status(entry) !== "bad") return;
    const bucket = this.#buckets[this.#bucketIndex(entry.id)];
    const replacement = bucket.replacements.pop();
    if (!replacement) return;
    this.#remove(bucket, entry);
    if (this.#byAddress.has(addressKey(replacement.host, replacement.port))) return;
    this.#insert(bucket, {
      ...replacement,
      lastResponse: 0,
      lastQuery: this.#now(),
      failures: 0,
    }, this.#now());
  }

  /**
   * Removes a node.
   *
   * @param contact The node.
   */
  remove(contact: NodeContact): void {
    const entry = this.#byId.get(toHex(contact.id));
    if (entry) this.#remove(this.#buckets[this.#bucketIndex(entry.id)], entry);
  }

  /**
   * The node with this id, if in the table.
   *
   * @param id A node id.
   * @returns The entry.
   */
  get(id: Uint8Array): RoutingEntry | undefined {
    return this.#byId.get(toHex(id));
  }

  /**
   * The `count` nodes closest to `target` that are not bad, closest first.
   *
   * @param target An id or info hash.
   * @param count How many.
   * @returns The nodes.
   */
  closest(target: Uint8Array, count: number): RoutingEntry[] {
    const live = [...this.#byId.values()].filter((node) => this.status(node) !== "bad");
    live.sort((a, b) => compareDistance(target, a.id, b.id));
    return live.slice(0, count);
  }

  /** Every node. */
  nodes(): RoutingEntry[] {
    return [...this.#byId.values()];
  }

  /**
   * Buckets unchanged for 15 minutes, by index (a refresh looks up a random id in each).
   *
   * @returns Indices; bucket `i` covers ids sharing `i` leading bits with ours.
   */
  staleBuckets(): number[] {
    const now = this.#now();
    const stale: number[] = [];
    this.#buckets.forEach((bucket, index) => {
      if (now - bucket.changed >= QUESTIONABLE_AFTER_MS) stale.push(index);
    });
    return stale;
  }

  /**
   * Marks a bucket refreshed (a lookup in its range was started).
   *
   * @param index The bucket.
   */
  touchBucket(index: number): void {
    const bucket = this.#buckets[index];
    if (bucket) bucket.changed = this.#now();
  }

  #insert(bucket: Bucket, entry: RoutingEntry, now: number): void {
    bucket.nodes.push(entry);
    bucket.changed = now;
    bucket.replacements = bucket.replacements.filter((node) => !bytesEqual(node.id, entry.id));
    this.#byId.set(toHex(entry.id), entry);
    this.#byAddress.set(addressKey(entry.host, entry.port), entry);
  }

  #remove(bucket: Bucket, entry: RoutingEntry): void {
    const at = bucket.nodes.indexOf(entry);
    if (at >= 0) bucket.nodes.splice(at, 1);
    this.#byId.delete(toHex(entry.id));
    this.#byAddress.delete(addressKey(entry.host, entry.port));
  }

  /** Splits the last bucket: nodes sharing more bits with our id move to a new last bucket. */
  #split(): void {
    const last = this.#buckets[this.#buckets.length - 1];
    const depth = this.#buckets.length - 1;
    const next: Bucket = { nodes: [], replacements: [], changed: last.changed };
    const stay = (id: Uint8Array) => commonPrefixLength(this.id, id) === depth;
    next.nodes = last.nodes.filter((node) => !stay(node.id));
    next.replacements = last.replacements.filter((node) => !stay(node.id));
    last.nodes = last.nodes.filter((node) => stay(node.id));
    last.replacements = last.replacements.filter((node) => stay(node.id));
    this.#buckets.push(next);
  }
}
