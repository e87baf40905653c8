import type { StrataError } from "@strata/graph";
import { parseChallenges, pickChallenge, type Challenge } from "./challenge.ts";
import { resolveCredentials, type Credentials, type DockerConfigOptions } from "./docker-config.ts";
import { allowsPlainHttp, registryBaseUrl } from "./endpoint.ts";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain, header, readAll, send, type Body, type HttpResponse } from "./http.ts";
import { normalizeRegistry } from "./reference.ts";
import { isRetryableStatus, responseRetryAfterMs, RetryableError, withRetry, type RetryOptions } from "./retry.ts";
import { fetchToken, type Token } from "./token.ts";

export interface TransportOptions {
  /** Registries (`host[:port]`) to reach over plain HTTP. Loopback registries always are. */
  readonly insecure?: readonly string[];
  /** Credentials for a registry; the default reads Docker's config.json and credential helpers. */
  readonly credentials?: (registry: string) => Credentials | undefined | Promise<Credentials | undefined>;
  readonly dockerConfig?: DockerConfigOptions;
  readonly userAgent?: string;
  /** Idle timeout of one request, ms. Default 60 000. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Exchange username/password with the OAuth2 password grant (POST) rather than GET. */
  readonly oauthPassword?: boolean;
  /** Clock for token expiry (tests move it forward). Default `Date.now`. */
  readonly now?: () => number;
}

export interface TransportRequest {
  readonly method: string;
  /** A path under the registry (`/v2/…`) or an absolute URL (a `Location` header). */
  readonly path: string | URL;
  /** Token scopes this request needs, e.g. `repository:a/b:pull`. */
  readonly scopes: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: () => Body | Promise<Body>;
  readonly followRedirects?: boolean;
  readonly signal?: AbortSignal;
  /** The total deadline of this request, ms (a blob's grows with its size: transferDeadlineMs). Default: requestDeadlineMs(). */
  readonly deadlineMs?: number;
}

export const USER_AGENT = "strata/0.1";

export function repositoryScope(path: string, actions: readonly ("pull" | "push")[]): string {
  return `repository:${path}:${actions.join(",")}`;
}

/**
 * One registry host's session: the `/v2/` ping that tells which auth scheme it wants
 * (go-containerregistry's transport handshake), credentials, and a bearer token cache keyed
 * by scope set. A 401 drops the cached token and retries once with a fresh one, adding any
 * scope the new challenge names.
 */
export class RegistryTransport {
  readonly registry: string;
  readonly base: URL;
  #opts: TransportOptions;
  #challenge: Promise<Challenge | undefined> | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;
  #tokens = new Map<string, Promise<Token>>();
  /** Token requests made (observable for tests and progress). */
  tokenFetches = 0;

  constructor(registry: string, opts: TransportOptions = {}) {
    this.registry = normalizeRegistry(registry);
    this.base = registryBaseUrl(this.registry, opts.insecure);
    this.#opts = opts;
  }

  get userAgent(): string {
    return this.#opts.userAgent ?? USER_AGENT;
  }

  credentials(): Promise<Credentials | undefined> {
    this.#credentials ??= Promise.resolve(this.#opts.credentials ? this.#opts.credentials(this.registry) : resolveCredentials(this.registry, this.#opts.dockerConfig));
    return this.#credentials;
  }

  /** GET /v2/: the auth challenge, or undefined for an open registry. Memoized. */
  ping(signal?: AbortSignal): Promise<Challenge | undefined> {
    this.#challenge ??= withRetry(`ping ${this.base.host}`, async () => {
      const res = await send({ method: "GET", url: new URL("/v2/", this.base), headers: { "user-agent": this.userAgent }, ...this.#common(signal) });
      drain(res);
      if (res.status === 401) return pickChallenge(parseChallenges(res.headers["www-authenticate"]));
      if (res.status >= 200 && res.status < 300) return undefined;
      const err = registryError(RegistryErrorCode.Http, `${this.base.host} answered ${res.status} to GET /v2/: not an OCI distribution registry?`);
      if (isRetryableStatus(res.status)) throw new RetryableError(`ping ${res.status}`, err, responseRetryAfterMs(res));
      throw err;
    }, this.#opts.retry ?? {}).catch((e: unknown) => {
      this.#challenge = undefined; // let a later call try again
      throw e;
    });
    return this.#challenge;
  }

  #common(signal: AbortSignal | undefined): { timeoutMs?: number; signal?: AbortSignal } {
    return { ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}), ...(signal ? { signal } : {}) };
  }

  /** The Authorization header for `scopes` under `challenge`, or none (anonymous). */
  async #authorization(challenge: Challenge | undefined, scopes: readonly string[], fresh: boolean, signal?: AbortSignal): Promise<Record<string, string>> {
    if (!challenge) return {};
    const creds = await this.credentials();
    if (creds?.registryToken) return { authorization: `Bearer ${creds.registryToken}` };
    if (challenge.scheme === "basic") {
      return creds?.username !== undefined ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}` } : {};
    }
    if (challenge.scheme !== "bearer") return {};
    const token = await this.token(challenge, scopes, fresh, signal);
    return { authorization: `Bearer ${token.token}` };
  }

  /** A bearer token for `scopes`, from the cache unless expired or `fresh`. */
  async token(challenge: Challenge, scopes: readonly string[], fresh = false, signal?: AbortSignal): Promise<Token> {
    const realm = challenge.params.realm;
    if (!realm) throw registryError(RegistryErrorCode.TokenFailed, `${this.registry} sent a Bearer challenge without a realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw registryError(RegistryErrorCode.TokenFailed, `${this.registry} sent a Bearer challenge with a bad realm ${JSON.stringify(realm)}`);
    }
    const sorted = [...new Set(scopes)].sort();
    const key = `${realmUrl.href} ${challenge.params.service ?? ""} ${sorted.join(" ")}`;
    const now = (this.#opts.now ?? Date.now)();
    const cached = this.#tokens.get(key);
    if (cached && !fresh) {
      const t = await cached.catch(() => undefined);
      if (t && t.expiresAt > now) return t;
      // Someone else replaced the entry while we waited: share their fetch.
      const current = this.#tokens.get(key);
      if (current && current !== cached) return this.token(challenge, scopes, false, signal);
    }
    // The promise goes into the cache before any await, so concurrent requests share one fetch.
    const p = (async () => {
      const creds = await this.credentials();
      if (realmUrl.protocol !== "https:" && creds && !allowsPlainHttp(realmUrl.host, this.#opts.insecure)) {
        throw registryError(RegistryErrorCode.Insecure, `refusing to send credentials to ${realmUrl.origin} over plain HTTP`, {
          hint: `mark ${realmUrl.host} as insecure if this is intended`,
        });
      }
      this.tokenFetches++;
      return withRetry(
        `token from ${realmUrl.host}`,
        () =>
          fetchToken({
            realm: realmUrl,
            ...(challenge.params.service !== undefined ? { service: challenge.params.service } : {}),
            scopes: sorted,
            ...(creds ? { credentials: creds } : {}),
            ...(this.#opts.oauthPassword ? { oauthPassword: true } : {}),
            clientId: "strata",
            userAgent: this.userAgent,
            now,
            ...this.#common(signal),
          }),
        this.#opts.retry ?? {},
      );
    })();
    this.#tokens.set(key, p);
    p.catch(() => {
      if (this.#tokens.get(key) === p) this.#tokens.delete(key);
    });
    return p;
  }

  /** Sends one request with auth attached; on 401, refreshes auth once and replays. */
  async request(r: TransportRequest): Promise<HttpResponse> {
    if (r.signal?.aborted) throw registryError(RegistryErrorCode.Aborted, "aborted");
    const challenge = await this.ping(r.signal);
    const url = typeof r.path === "string" ? new URL(r.path, this.base) : r.path;
    const go = async (auth: Record<string, string>): Promise<HttpResponse> =>
      send({
        method: r.method,
        url,
        headers: { "user-agent": this.userAgent, ...r.headers, ...auth },
        ...(r.body ? { body: r.body } : {}),
        ...(r.followRedirects !== undefined ? { followRedirects: r.followRedirects } : {}),
        ...(r.deadlineMs !== undefined ? { deadlineMs: r.deadlineMs } : {}),
        ...this.#common(r.signal),
      });
    const res = await go(await this.#authorization(challenge, r.scopes, false, r.signal));
    if (res.status !== 401) return res;
    const again = pickChallenge(parseChallenges(res.headers["www-authenticate"])) ?? challenge;
    if (!again) return res;
    const creds = await this.credentials();
    // Basic credentials already sent (or none to send): asking again cannot help.
    if (again.scheme === "basic" && (creds?.username === undefined || challenge?.scheme === "basic")) return res;
    drain(res);
    const extra = again.params.scope ? again.params.scope.split(" ") : [];
    if (!challenge) this.#challenge = Promise.resolve(again);
    return go(await this.#authorization(again, [...r.scopes, ...extra], true, r.signal));
  }

  /**
   * `request` with retries on connection failures and retryable statuses (5xx, 429).
   * Only for requests whose body can be replayed (the factory is called per attempt).
   */
  async requestRetrying(r: TransportRequest, what: string): Promise<HttpResponse> {
    return withRetry(what, async () => {
      const res = await this.request(r);
      if (isRetryableStatus(res.status)) {
        const err = await responseError(res, what);
        throw new RetryableError(`${what}: ${res.status}`, err, responseRetryAfterMs(res));
      }
      return res;
    }, { ...this.#opts.retry, ...(r.signal ? { signal: r.signal } : {}) });
  }
}

/**
 * Turns an unexpected response into a StrataError, with the registry's own error codes
 * (`{"errors":[{"code":"MANIFEST_UNKNOWN",…}]}`) in the message. Consumes the body.
 */
export async function responseError(res: HttpResponse, what: string): Promise<StrataError> {
  let detail = "";
  try {
    const text = (await readAll(res, 64 * 1024)).toString("utf8");
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = (j.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    } catch {
      detail = text.trim().slice(0, 200);
    }
  } catch {
    drain(res);
  }
  const msg = `${what}: ${res.status}${detail ? ` (${detail})` : ""}`;
  switch (res.status) {
    case 401:
      return registryError(RegistryErrorCode.Unauthorized, msg, { hint: `log in with \`strata login ${res.url.host}\` (or \`docker login\`), or check the repository name` });
    case 403:
      return registryError(RegistryErrorCode.Denied, msg, { hint: "the credentials are valid but lack permission for this repository" });
    case 404:
      return registryError(RegistryErrorCode.NotFound, msg);
    default:
      return registryError(RegistryErrorCode.Http, msg + (header(res, "retry-after") ? ` (retry after ${header(res, "retry-after")} s)` : ""));
  }
}
