import { execFileSync } from "node:child_process";
import { createPrivateKey, createSign, randomBytes, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";

/**
 * A token server for docker-registry's `auth.token` mode, as Docker Hub's auth.docker.io
 * behaves: GET with optional Basic credentials, or the OAuth2 POST form (password and
 * refresh_token grants). Tokens are RS256 JWTs whose header carries the signing
 * certificate in `x5c`; distribution 2.8 verifies that chain against `rootcertbundle`
 * (it would also accept `kid` = libtrust fingerprint of a bundled key).
 */
export interface TokenIssuerOptions {
  readonly dir: string;
  readonly service: string;
  readonly issuer: string;
  readonly users: Readonly<Record<string, string>>;
  /** Grant anonymous clients pull access. Default true. */
  readonly anonymousPull?: boolean;
  /** `expires_in` of issued tokens, seconds. Default 300. */
  readonly expiresIn?: number;
}

export interface TokenRequestLog {
  readonly method: string;
  readonly grant: "basic" | "anonymous" | "password" | "refresh_token";
  readonly user?: string;
  readonly scopes: readonly string[];
  readonly status: number;
}

export interface TokenIssuer {
  readonly realm: string;
  readonly certPath: string;
  readonly log: TokenRequestLog[];
  /** The next `n` tokens grant nothing (the registry then answers 401 insufficient_scope). */
  issueUselessTokens(n: number): void;
  close(): Promise<void>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString("base64url");
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first === -1 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").filter(Boolean) };
}

export function generateSigningCert(dir: string): { keyPath: string; certPath: string } {
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=strata-test-token-issuer"], { stdio: "ignore" });
  return { keyPath, certPath };
}

function sign(key: KeyObject, certDer: Buffer, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer.toString("base64")] }));
  const body = b64url(JSON.stringify(claims));
  const s = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(s)}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const c of req as AsyncIterable<Buffer>) s += c.toString("utf8");
  return s;
}

export async function startTokenIssuer(opts: TokenIssuerOptions, port: number): Promise<TokenIssuer> {
  const { keyPath, certPath } = generateSigningCert(opts.dir);
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = Buffer.from(new X509Certificate(readFileSync(certPath)).raw);
  const log: TokenRequestLog[] = [];
  const refreshTokens = new Map<string, string>();
  let useless = 0;

  const issue = (user: string | undefined, scopes: string[]): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    const access: { type: string; name: string; actions: string[] }[] = [];
    if (useless > 0) {
      useless--;
    } else {
      for (const s of scopes) {
        const p = parseScope(s);
        if (!p) continue;
        const actions = user ? p.actions : (opts.anonymousPull ?? true) ? p.actions.filter((a) => a === "pull") : [];
        if (actions.length) access.push({ type: p.type, name: p.name, actions });
      }
    }
    const expiresIn = opts.expiresIn ?? 300;
    const token = sign(key, certDer, {
      iss: opts.issuer,
      sub: user ?? "",
      aud: opts.service,
      exp: now + expiresIn,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    });
    return { token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://x");
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.pathname !== "/token") return reply(404, { error: "not found" });
    if (req.method === "GET") {
      const scopes = url.searchParams.getAll("scope");
      const auth = req.headers.authorization;
      let user: string | undefined;
      if (auth?.startsWith("Basic ")) {
        const [u, ...rest] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
        if (!u || opts.users[u] !== rest.join(":")) {
          log.push({ method: "GET", grant: "basic", scopes, status: 401, ...(u ? { user: u } : {}) });
          return reply(401, { details: "incorrect username or password" });
        }
        user = u;
      }
      if (url.searchParams.get("service") !== opts.service) return reply(400, { details: "unknown service" });
      log.push({ method: "GET", grant: user ? "basic" : "anonymous", scopes, status: 200, ...(user ? { user } : {}) });
      return reply(200, issue(user, scopes));
    }
    if (req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      const grant = form.get("grant_type");
      let user: string | undefined;
      if (grant === "password") {
        const u = form.get("username") ?? "";
        if (opts.users[u] !== form.get("password")) {
          log.push({ method: "POST", grant: "password", user: u, scopes, status: 401 });
          return reply(401, { error: "invalid_grant" });
        }
        user = u;
      } else if (grant === "refresh_token") {
        user = refreshTokens.get(form.get("refresh_token") ?? "");
        if (!user) {
          log.push({ method: "POST", grant: "refresh_token", scopes, status: 401 });
          return reply(401, { error: "invalid_grant" });
        }
      } else {
        return reply(400, { error: "unsupported_grant_type" });
      }
      log.push({ method: "POST", grant, user, scopes, status: 200 });
      const body = issue(user, scopes);
      if (form.get("access_type") === "offline") {
        const rt = randomBytes(16).toString("hex");
        refreshTokens.set(rt, user);
        body.refresh_token = rt;
      }
      return reply(200, body);
    }
    reply(405, { error: "method not allowed" });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    log,
    issueUselessTokens(n) {
      useless = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
