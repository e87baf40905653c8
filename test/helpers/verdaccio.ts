import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where `.ci/run` installs verdaccio (6.8.0: the last release that runs on Node 20). */
const VERDACCIO_BIN = process.env.STRATA_VERDACCIO ?? "/opt/strata-tools/node_modules/.bin/verdaccio";

export interface Registry {
  readonly url: string;
  /** A token of a user created for this run (publishing needs one). */
  readonly token: string;
  /** The `.npmrc` lines that point npm/pnpm at this registry with the token. */
  readonly npmrc: string;
  close(): Promise<void>;
}

/** True when a registry can be used: one given by `$STRATA_TEST_NPM_REGISTRY` (started by .ci/run) or the verdaccio binary. */
export function registryAvailable(): boolean {
  return Boolean(process.env.STRATA_TEST_NPM_REGISTRY) || existsSync(VERDACCIO_BIN);
}

/**
 * A verdaccio on 127.0.0.1 for one test run: the one `.ci/run` started (`$STRATA_TEST_NPM_REGISTRY`),
 * else a fresh instance with its own storage on a free port. The `@strata` and `@acme` scopes
 * are local only (never proxied: npmjs.org has nothing to say about them); everything else is
 * proxied to the npm registry.
 */
export async function startRegistry(): Promise<Registry> {
  let url = process.env.STRATA_TEST_NPM_REGISTRY?.replace(/\/$/, "");
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), "install-verdaccio-"));
    const port = await freePort();
    writeFileSync(join(dir, "config.yaml"), verdaccioConfig(join(dir, "storage")));
    child = spawn(VERDACCIO_BIN, ["--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    url = `http://127.0.0.1:${port}`;
    await waitFor(url, () => stderr);
  }
  const token = await createUser(url);
  const host = url.replace(/^https?:/, "");
  return {
    url,
    token,
    npmrc: `registry=${url}/\n${host}/:_authToken=${token}\n`,
    async close() {
      if (child && child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child!.once("exit", r));
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The verdaccio config `.ci/run` and the tests use. */
function verdaccioConfig(storage: string): string {
  return `storage: ${storage}
auth:
  htpasswd:
    file: ${storage}/htpasswd
    max_users: 1000
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  '@strata/*':
    access: $all
    publish: $authenticated
  '@acme/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    proxy: npmjs
max_body_size: 200mb
log: { type: stdout, format: pretty, level: warn }
`;
}

async function createUser(url: string): Promise<string> {
  const name = `e2e-${process.pid}-${Date.now()}`;
  const res = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: `pw-${name}`, type: "user", roles: [], date: new Date().toISOString() }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || !body.token) throw new Error(`verdaccio at ${url}: cannot create a user (${res.status} ${JSON.stringify(body)})`);
  return body.token;
}

async function waitFor(url: string, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`verdaccio did not start at ${url}:\n${log()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
