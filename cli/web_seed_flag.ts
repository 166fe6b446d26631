/** `--web-seed URL` (repeatable), shared by `download` and `seed`. */
import { isWebSeedUrl } from "../mod.ts";

/** The flag's `parseArgs` option. */
export const WEB_SEED_FLAG = { "web-seed": { type: "string", multiple: true } } as const;

/** The usage lines. */
export const WEB_SEED_USAGE =
  `  --web-seed URL       fetch pieces from this http(s) server too (BEP 19: the URL of the
                       file, or of the directory holding the torrent's name; repeatable)`;

/** The URLs given, or the usage problem when one is not an http(s) URL. */
export function parseWebSeeds(values: { "web-seed"?: string[] }): string[] | string {
  const urls = values["web-seed"] ?? [];
  const bad = urls.find((url) => !isWebSeedUrl(url));
  return bad === undefined ? urls : `--web-seed expects an http:// or https:// URL, not '${bad}'`;
}
