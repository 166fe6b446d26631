/**
 * nginx (Debian `nginx-light`, /usr/sbin/nginx) serving a directory on 127.0.0.1 as a web
 * seed: a temp config, one process in the foreground (`daemon off`, no master), its temp
 * paths, pid and logs in a temp directory. nginx answers a single `Range` with `206` and
 * `Content-Range` and keeps connections alive. Run as root it needs `user root;` to read
 * files in a 0700 temp directory.
 */
import { join } from "node:path";
import { freePort, installed } from "./fixture.ts";

/** Where nginx is installed on Debian. */
export const NGINX = "/usr/sbin/nginx";

/** Whether nginx is installed. */
export function hasNginx(): boolean {
  return installed(NGINX);
}

/** The message a test or benchmark prints when nginx is missing. */
export const NGINX_MISSING = `skipped: ${NGINX} not found (apt-get install nginx-light)`;

/** A running nginx. */
export interface Nginx extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/`, serving `root`. */
  readonly url: string;
  close(): Promise<void>;
}

async function isRoot(): Promise<boolean> {
  const { stdout } = await new Deno.Command("id", { args: ["-u"], stdout: "piped" }).output();
  return new TextDecoder().decode(stdout).trim() === "0";
}

/**
 * Starts nginx serving `root` and waits (at most 10 s) until it answers.
 *
 * @param root Directory served at `/`.
 * @param options `limitRate`: nginx's `limit_rate` per response (e.g. `"1m"`), none by default.
 */
export async function startNginx(
  root: string,
  options: { limitRate?: string } = {},
): Promise<Nginx> {
  const dir = await Deno.makeTempDir({ prefix: "bittern-nginx-" });
  const port = freePort();
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((name) => `  ${name}_temp_path ${join(dir, name)};`).join("\n");
  const config = `${(await isRoot()) ? "user root;\n" : ""}daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 256; }
http {
  access_log off;
${temp}
  sendfile on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${options.limitRate ? `limit_rate ${options.limitRate};` : ""}
    location / { }
  }
}
`;
  await Deno.writeTextFile(join(dir, "nginx.conf"), config);
  const child = new Deno.Command(NGINX, {
    args: ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const url = `http://127.0.0.1:${port}/`;
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited already */ }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(url, { method: "HEAD" });
      await response.body?.cancel();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`nginx did not start: ${await stderr}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, close, [Symbol.asyncDispose]: close };
}
