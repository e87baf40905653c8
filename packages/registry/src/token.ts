import type { Credentials } from "./docker-config.ts";
import { registryError, RegistryErrorCode } from "./errors.ts";
import { drain, header, readAll, send, type HttpResponse } from "./http.ts";
import { RetryableError, isRetryableStatus, responseRetryAfterMs } from "./retry.ts";

/** A bearer token and when we stop trusting it. */
export interface Token {
  readonly token: string;
  /** Epoch ms; refreshed a little before, so a request never races the expiry. */
  readonly expiresAt: number;
  /** Present when the server handed out an OAuth2 refresh token (stored by `login`). */
  readonly refreshToken?: string;
}

export interface TokenRequest {
  readonly realm: URL;
  readonly service?: string;
  readonly scopes: readonly string[];
  readonly credentials?: Credentials;
  /** Use the OAuth2 password grant (POST) for username/password, falling back to GET. */
  readonly oauthPassword?: boolean;
  /** Ask for a refresh token (login does, to store an identity token instead of a password). */
  readonly offline?: boolean;
  readonly clientId: string;
  readonly userAgent: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly now: number;
}

/** Docker's floor: a token is good for at least 60 s unless the server says otherwise. */
const MIN_LIFETIME_S = 60;
/** Refresh this long before the stated expiry. */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * Fetches a token from the realm of a Bearer challenge: the OAuth2 POST form with a refresh
 * token (an `identitytoken` from config.json) or, when asked, the password grant; otherwise
 * the classic GET with Basic credentials (or none, for anonymous pulls).
 */
export async function fetchToken(req: TokenRequest): Promise<Token> {
  const c = req.credentials;
  if (c?.identityToken) return fetchOAuth(req, { grant_type: "refresh_token", refresh_token: c.identityToken });
  if (c?.username && req.oauthPassword) {
    try {
      return await fetchOAuth(req, { grant_type: "password", username: c.username, password: c.password ?? "" });
    } catch (e) {
      // Registries without the OAuth2 endpoint answer 404/405: Docker falls back to GET too.
      if (!(e instanceof OAuthUnsupported)) throw e;
    }
  }
  return fetchGet(req);
}

class OAuthUnsupported extends Error {}

async function fetchGet(req: TokenRequest): Promise<Token> {
  const url = new URL(req.realm);
  if (req.service) url.searchParams.set("service", req.service);
  for (const s of req.scopes) url.searchParams.append("scope", s);
  const c = req.credentials;
  const headers: Record<string, string> = { "user-agent": req.userAgent, accept: "application/json" };
  if (c?.username) {
    url.searchParams.set("account", c.username);
    headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ""}`).toString("base64")}`;
  }
  if (req.offline) {
    url.searchParams.set("offline_token", "true");
    url.searchParams.set("client_id", req.clientId);
  }
  const res = await send({ method: "GET", url, headers, ...opt(req) });
  return parseTokenResponse(req, res);
}

async function fetchOAuth(req: TokenRequest, grant: Record<string, string>): Promise<Token> {
  const form = new URLSearchParams({ ...grant, client_id: req.clientId, access_type: req.offline ? "offline" : "online" });
  if (req.service) form.set("service", req.service);
  if (req.scopes.length > 0) form.set("scope", req.scopes.join(" "));
  const body = Buffer.from(form.toString());
  const res = await send({
    method: "POST",
    url: req.realm,
    headers: { "user-agent": req.userAgent, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: () => body,
    ...opt(req),
  });
  if ((res.status === 404 || res.status === 405) && grant.grant_type === "password") {
    drain(res);
    throw new OAuthUnsupported();
  }
  return parseTokenResponse(req, res);
}

function opt(req: TokenRequest): { timeoutMs?: number; signal?: AbortSignal } {
  return { ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}), ...(req.signal ? { signal: req.signal } : {}) };
}

async function parseTokenResponse(req: TokenRequest, res: HttpResponse): Promise<Token> {
  const text = (await readAll(res, 1 << 20)).toString("utf8");
  if (res.status !== 200) {
    const err = registryError(
      res.status === 401 || res.status === 403 ? RegistryErrorCode.Unauthorized : RegistryErrorCode.TokenFailed,
      `token endpoint ${req.realm.origin}${req.realm.pathname} answered ${res.status}${text ? `: ${text.slice(0, 300).trim()}` : ""}`,
      { hint: req.credentials ? "the stored credentials were refused: run `strata login` again" : "this registry wants credentials: run `strata login <registry>`" },
    );
    if (isRetryableStatus(res.status)) throw new RetryableError(`token endpoint ${res.status}`, err, responseRetryAfterMs(res));
    throw err;
  }
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw registryError(RegistryErrorCode.TokenFailed, `token endpoint ${req.realm.origin} answered something that is not JSON (content-type ${header(res, "content-type") ?? "none"})`);
  }
  const token = typeof json.access_token === "string" && json.access_token ? json.access_token : typeof json.token === "string" ? json.token : "";
  if (!token) throw registryError(RegistryErrorCode.TokenFailed, `token endpoint ${req.realm.origin} answered without a token`);
  const lifetime = typeof json.expires_in === "number" && json.expires_in > MIN_LIFETIME_S ? json.expires_in : MIN_LIFETIME_S;
  return {
    token,
    expiresAt: req.now + lifetime * 1000 - EXPIRY_MARGIN_MS,
    ...(typeof json.refresh_token === "string" && json.refresh_token ? { refreshToken: json.refresh_token } : {}),
  };
}
