import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { startTokenIssuer, type TokenIssuer } from "./token-issuer.ts";

/**
 * Starts Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a throw-away
 * storage directory, open or behind htpasswd Basic auth or token auth (with a token issuer
 * from ./token-issuer.ts). Reusable by any suite: `const r = await startRegistry({ auth:
 * "token" }); … await r.stop()`.
 */
export interface StartRegistryOptions {
  readonly auth?: "none" | "htpasswd" | "token";
  /** Users for htpasswd/token auth. Default `{ strata: "s3cret-pw" }`. */
  readonly users?: Readonly<Record<string, string>>;
  /** Token auth: let anonymous clients pull. Default true. */
  readonly anonymousPull?: boolean;
  /** Token auth: `expires_in` of tokens, seconds. */
  readonly tokenExpiresIn?: number;
  readonly binary?: string;
}

export interface TestRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`: the registry part of an image reference. */
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly users: Readonly<Record<string, string>>;
  readonly tokenIssuer?: TokenIssuer;
  /** The registry's log so far (for failing-test diagnostics). */
  logs(): string;
  stop(): Promise<void>;
}

export const TOKEN_SERVICE = "strata-test-registry";
export const TOKEN_ISSUER = "strata-test-issuer";

async function waitReady(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${readFileSync(logPath, "utf8")}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not come up at ${url}:\n${readFileSync(logPath, "utf8")}`);
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? "none";
  const users = opts.users ?? { strata: "s3cret-pw" };
  const dir = mkdtempSync(join(tmpdir(), "strata-registry-"));
  const port = await freePort();
  let tokenIssuer: TokenIssuer | undefined;
  let authYaml = "";
  if (auth === "htpasswd") {
    const lines = Object.entries(users).map(([u, p]) => execFileSync("htpasswd", ["-Bbn", u, p], { encoding: "utf8" }).trim());
    writeFileSync(join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: strata-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    tokenIssuer = await startTokenIssuer(
      {
        dir,
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
        users,
        ...(opts.anonymousPull !== undefined ? { anonymousPull: opts.anonymousPull } : {}),
        ...(opts.tokenExpiresIn !== undefined ? { expiresIn: opts.tokenExpiresIn } : {}),
      },
      await freePort(),
    );
    authYaml = `auth:\n  token:\n    realm: ${tokenIssuer.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${tokenIssuer.certPath}\n`;
  }
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
    authYaml,
  ].join("\n");
  const configPath = join(dir, "config.yml");
  writeFileSync(configPath, config);
  const logPath = join(dir, "registry.log");
  const out = openSync(logPath, "a");
  // The registry reads REGISTRY_* variables as config overrides: keep the host's out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REGISTRY_")));
  const child = spawn(opts.binary ?? "/usr/bin/docker-registry", ["serve", configPath], { stdio: ["ignore", out, out], env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, logPath);
  } catch (e) {
    child.kill("SIGKILL");
    await tokenIssuer?.close();
    throw e;
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dir,
    users,
    ...(tokenIssuer ? { tokenIssuer } : {}),
    logs: () => readFileSync(logPath, "utf8"),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await tokenIssuer?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
