/**
 * Host name lookups through `node:dns`, loaded on first use: importing it sets up a resolver
 * (c-ares reads the system's resolver configuration), a cost every process would pay at
 * start-up though most downloads never resolve a name (peers and trackers given as addresses,
 * or HTTP trackers, which `fetch` resolves).
 */

/** One address of `host`, as `node:dns/promises` `lookup` gives it. */
export async function lookupHost(
  host: string,
  options: { family?: 4 | 6 } = {},
): Promise<{ address: string; family: number }> {
  const { lookup } = await import("node:dns/promises");
  return await lookup(host, options);
}
