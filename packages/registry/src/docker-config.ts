import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { DEFAULT_DOMAIN, normalizeRegistry } from "./reference.ts";

/** What one registry's credentials can be (Docker's `AuthConfig`, minus legacy fields). */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token: exchanged at the token endpoint with `grant_type=refresh_token`. */
  readonly identityToken?: string;
  /** A bearer token to send as is. */
  readonly registryToken?: string;
}

export interface DockerConfigOptions {
  /** Directory holding `config.json`. Default: `$DOCKER_CONFIG`, else `~/.docker`. */
  readonly configDir?: string;
  /** Environment for `$DOCKER_CONFIG`, `$HOME` and the credential helpers' `PATH`. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [k: string]: unknown;
}

/** The parts of `config.json` we read; every other key is preserved on write. */
export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function dockerConfigDir(opts: DockerConfigOptions = {}): string {
  const env = opts.env ?? process.env;
  return opts.configDir ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
}

export function dockerConfigPath(opts: DockerConfigOptions = {}): string {
  return join(dockerConfigDir(opts), "config.json");
}

/** Docker Hub's credentials live under this historical key, everyone else's under the host. */
export function credentialServerKey(registry: string): string {
  const host = normalizeRegistry(registry);
  return host === DEFAULT_DOMAIN ? "https://index.docker.io/v1/" : host;
}

export async function readDockerConfig(opts: DockerConfigOptions = {}): Promise<DockerConfigFile | undefined> {
  const path = dockerConfigPath(opts);
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    throw registryError(RegistryErrorCode.DockerConfigInvalid, `${path} is not valid JSON: ${(e as Error).message}`, { hint: "fix or remove the file" });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw registryError(RegistryErrorCode.DockerConfigInvalid, `${path} must hold a JSON object`);
  }
  return parsed as DockerConfigFile;
}

/** Finds the `auths` entry for a registry: exact key first, then keys that reduce to the same host. */
function findAuthEntry(auths: Record<string, AuthEntry>, registry: string): AuthEntry | undefined {
  const key = credentialServerKey(registry);
  if (auths[key]) return auths[key];
  const host = normalizeRegistry(registry);
  for (const [k, v] of Object.entries(auths)) if (normalizeRegistry(k) === host) return v;
  return undefined;
}

function fromAuthEntry(e: AuthEntry): Credentials | undefined {
  let username = e.username;
  let password = e.password;
  if (typeof e.auth === "string" && e.auth !== "") {
    const decoded = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) throw registryError(RegistryErrorCode.DockerConfigInvalid, "an `auth` value in config.json does not decode to user:password");
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const creds: Credentials = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(e.identitytoken ? { identityToken: e.identitytoken } : {}),
    ...(e.registrytoken ? { registryToken: e.registrytoken } : {}),
  };
  return Object.keys(creds).length > 0 ? creds : undefined;
}

/**
 * The credentials Docker would use for `registry`: `credHelpers[host]`, else `credsStore`,
 * else `auths`. Undefined means anonymous.
 */
export async function resolveCredentials(registry: string, opts: DockerConfigOptions = {}): Promise<Credentials | undefined> {
  const cfg = await readDockerConfig(opts);
  if (!cfg) return undefined;
  const helper = helperFor(cfg, registry);
  if (helper) return helperGet(helper, credentialServerKey(registry), opts);
  if (!cfg.auths) return undefined;
  const entry = findAuthEntry(cfg.auths, registry);
  return entry ? fromAuthEntry(entry) : undefined;
}

/** `credHelpers` by host (or Docker Hub's server key), else the global `credsStore`. */
function helperFor(cfg: DockerConfigFile, registry: string): string | undefined {
  const host = normalizeRegistry(registry);
  const key = credentialServerKey(registry);
  return cfg.credHelpers?.[host] ?? cfg.credHelpers?.[key] ?? (host === DEFAULT_DOMAIN ? cfg.credHelpers?.["index.docker.io"] : undefined) ?? cfg.credsStore;
}

function runHelper(name: string, action: "get" | "store" | "erase", input: string, opts: DockerConfigOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => {
      const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        registryError(RegistryErrorCode.CredentialHelper, missing ? `credential helper ${program} is not on PATH` : `credential helper ${program} failed: ${e.message}`, {
          cause: e,
          hint: missing ? `install ${program}, or remove "credsStore"/"credHelpers" from ${dockerConfigPath(opts)}` : "",
        }),
      );
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on("error", () => {}); // a helper that exits without reading stdin
    child.stdin.end(input);
  });
}

async function helperGet(name: string, serverUrl: string, opts: DockerConfigOptions): Promise<Credentials | undefined> {
  const r = await runHelper(name, "get", serverUrl, opts);
  if (r.code !== 0) {
    // The helpers' protocol: "credentials not found in native keychain" means anonymous.
    if (/credentials not found/i.test(r.stdout + r.stderr)) return undefined;
    throw registryError(RegistryErrorCode.CredentialHelper, `docker-credential-${name} get failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw registryError(RegistryErrorCode.CredentialHelper, `docker-credential-${name} get printed something that is not JSON`);
  }
  const user = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  if (secret === "") return undefined;
  // Helpers store identity tokens with the username "<token>" (Docker's convention).
  if (user === "<token>") return { identityToken: secret };
  return { username: user, password: secret };
}

/** Writes config.json atomically (temp file + rename), keeping keys we do not manage. */
async function writeDockerConfig(cfg: DockerConfigFile, opts: DockerConfigOptions): Promise<void> {
  const path = dockerConfigPath(opts);
  await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await fsp.writeFile(tmp, `${JSON.stringify(cfg, null, "\t")}\n`, { mode: 0o600 });
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Stores credentials as `docker login` does: through the registry's helper if one is
 * configured, else base64 `auth` (or `identitytoken`) in `auths`.
 */
export async function storeCredentials(registry: string, creds: Credentials, opts: DockerConfigOptions = {}): Promise<{ where: string }> {
  const cfg = (await readDockerConfig(opts)) ?? {};
  const key = credentialServerKey(registry);
  const helper = helperFor(cfg, registry);
  if (helper) {
    const payload = creds.identityToken
      ? { ServerURL: key, Username: "<token>", Secret: creds.identityToken }
      : { ServerURL: key, Username: creds.username ?? "", Secret: creds.password ?? "" };
    const r = await runHelper(helper, "store", JSON.stringify(payload), opts);
    if (r.code !== 0) throw registryError(RegistryErrorCode.CredentialHelper, `docker-credential-${helper} store failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`);
    // Docker keeps an empty placeholder in `auths` so `docker logout` knows the registry.
    cfg.auths = { ...cfg.auths, [key]: {} };
    await writeDockerConfig(cfg, opts);
    return { where: `docker-credential-${helper}` };
  }
  const entry: AuthEntry = {};
  if (creds.username !== undefined) entry.auth = Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64");
  if (creds.identityToken) entry.identitytoken = creds.identityToken;
  cfg.auths = { ...cfg.auths, [key]: entry };
  await writeDockerConfig(cfg, opts);
  return { where: dockerConfigPath(opts) };
}

/** Removes stored credentials (`docker logout`). Returns whether anything was removed. */
export async function eraseCredentials(registry: string, opts: DockerConfigOptions = {}): Promise<boolean> {
  const cfg = await readDockerConfig(opts);
  if (!cfg) return false;
  const host = normalizeRegistry(registry);
  const key = credentialServerKey(registry);
  const helper = helperFor(cfg, registry);
  let removed = false;
  if (helper) {
    const r = await runHelper(helper, "erase", key, opts);
    removed = r.code === 0;
  }
  if (cfg.auths) {
    for (const k of Object.keys(cfg.auths)) {
      if (k === key || normalizeRegistry(k) === host) {
        delete cfg.auths[k];
        removed = true;
      }
    }
    await writeDockerConfig(cfg, opts);
  }
  return removed;
}
