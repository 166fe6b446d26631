// deno-lint-ignore-file no-console -- command-line output is this file's job
import { VERSION } from "../mod.ts";

/** `bittern version`: prints the version. */
export function main(_args: string[]): Promise<number> {
  console.log(`bittern ${VERSION}`);
  return Promise.resolve(0);
}
