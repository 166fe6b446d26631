import { dirname } from "node:path";
import { isUsableAddress } from "./krpc.ts";
import { DhtError } from "./errors.ts";
import { fromHex, toHex } from "../util/bytes.ts";
import type { PeerAddress } from "../util/address.ts";
import { explainPermission } from "../util/permissions.ts";

/** Most nodes saved or read back. */
const MAX_SAVED_NODES = 500;

/**
 * A DHT node's saved state: its id (so the network's view of it survives restarts) and the
 * nodes it knew, for a warm start.
 *
 * @example
 * ```ts
 * import type { DhtState } from "@bittern/bittern";
 *
 * const state: DhtState = { id: new Uint8Array(20), nodes: [{ host: "10.0.0.1", port: 6881 }] };
 * ```
 */
export interface DhtState {
  /** Our node id. */
  readonly id: Uint8Array;
  /** Known nodes, best first. */
  readonly nodes: readonly PeerAddress[];
}

/**
 * Reads a state file written by {@linkcode saveDhtState}; a missing file gives `undefined`.
 * Bad entries are skipped; a file that is not such JSON at all is a `bad-state` error.
 *
 * @example
 * ```ts
 * import { loadDhtState } from "@bittern/bittern";
 *
 * const state = await loadDhtState("./dht.json");
 * console.log(state?.nodes.length ?? 0);
 * ```
 *
 * @param path The file.
 * @returns The state.
 * @throws {DhtError} `bad-state`; `PermissionError` without `--allow-read` for the file.
 */
export async function loadDhtState(path: string): Promise<DhtState | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw explainPermission(error, "read", path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DhtError("bad-state", `${path} is not JSON`, { cause: error });
  }
  const record = parsed as { id?: unknown; nodes?: unknown };
  const id = typeof record?.id === "string" ? fromHex(record.id) : undefined;
  if (!id || id.length !== 20 || !Array.isArray(record.nodes)) {
    throw new DhtError("bad-state", `${path} is not a DHT state file (id and nodes)`);
  }
  const nodes: PeerAddress[] = [];
  for (const entry of record.nodes.slice(0, MAX_SAVED_NODES)) {
    const match = typeof entry === "string" ? /^([\d.]+):(\d{1,5})$/.exec(entry) : null;
    if (match && isUsableAddress(match[1], Number(match[2]))) {
      nodes.push({ host: match[1], port: Number(match[2]) });
    }
  }
  return { id, nodes };
}

/**
 * Writes the state atomically: a temporary file next to `path` (so writing needs
 * `--allow-write` for its directory), then a rename. At most 500 nodes are written.
 *
 * @example
 * ```ts
 * import { DhtNode, saveDhtState } from "@bittern/bittern";
 *
 * declare const node: DhtNode;
 * await saveDhtState("./dht.json", { id: node.id, nodes: node.savedNodes() });
 * ```
 *
 * @param path The file.
 * @param state Id and nodes.
 * @throws `PermissionError` naming `--allow-write=DIR` without write permission for the
 * file's directory.
 */
export async function saveDhtState(path: string, state: DhtState): Promise<void> {
  const text = JSON.stringify({
    id: toHex(state.id),
    nodes: state.nodes.slice(0, MAX_SAVED_NODES).map((node) => `${node.host}:${node.port}`),
  });
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text + "\n");
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    // The temporary file needs the directory, not just `path`.
    throw explainPermission(error, "write", dirname(path));
  }
}
