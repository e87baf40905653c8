import { StrataError } from "@strata/graph";
import { credentialServerKey, eraseCredentials, storeCredentials, type DockerConfigOptions } from "./docker-config.ts";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain } from "./http.ts";
import { normalizeRegistry } from "./reference.ts";
import { RegistryTransport, type TransportOptions } from "./transport.ts";

export interface LoginOptions extends Omit<TransportOptions, "credentials"> {
  readonly dockerConfig?: DockerConfigOptions;
}

export interface LoginResult {
  /** Normalised registry (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** The key written to config.json's `auths` (`https://index.docker.io/v1/` for Docker Hub). */
  readonly serverKey: string;
  /** Where the secret went: the config.json path or `docker-credential-<name>`. */
  readonly storedIn: string;
}

/**
 * `docker login`: proves the credentials against the registry (GET /v2/ with Basic auth, or
 * a token fetched with them) and only then stores them, in the registry's credential helper
 * if configured, else in config.json (atomically, other keys untouched).
 */
export async function login(registry: string, username: string, password: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const host = normalizeRegistry(registry);
  const t = new RegistryTransport(host, { ...opts, credentials: () => ({ username, password }) });
  try {
    const res = await t.request({ method: "GET", path: "/v2/", scopes: [] });
    drain(res);
    if (res.status === 401 || res.status === 403) {
      throw registryError(RegistryErrorCode.LoginFailed, `${host} rejected the credentials for ${username} (${res.status})`, { hint: "check the username and password (or access token)" });
    }
    if (res.status < 200 || res.status >= 300) throw registryError(RegistryErrorCode.LoginFailed, `${host} answered ${res.status} to GET /v2/`);
  } catch (e) {
    if (e instanceof StrataError && (e.code === RegistryErrorCode.Unauthorized || e.code === RegistryErrorCode.TokenFailed)) {
      throw registryError(RegistryErrorCode.LoginFailed, `${host} rejected the credentials for ${username}: ${e.message}`, { cause: e, hint: "check the username and password (or access token)" });
    }
    throw e;
  }
  const { where } = await storeCredentials(host, { username, password }, opts.dockerConfig);
  return { registry: host, serverKey: credentialServerKey(host), storedIn: where };
}

/** `docker logout`: forgets the registry's stored credentials. */
export async function logout(registry: string, opts: { dockerConfig?: DockerConfigOptions } = {}): Promise<boolean> {
  return eraseCredentials(registry, opts.dockerConfig);
}
