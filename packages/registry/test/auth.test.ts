import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry, login, logout, resolveCredentials, sourceFromStore, type Credentials } from "../src/index.ts";
import { busyboxImage, startRegistry, tempStore, type StoredImage, type TestRegistry } from "./helpers/index.ts";

function configDir(content?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "strata-dockercfg-"));
  if (content !== undefined) writeFileSync(join(dir, "config.json"), JSON.stringify(content));
  return dir;
}

function basicAuth(user: string, pass: string): string {
  return Buffer.from(`${user}:${pass}`).toString("base64");
}

let img: StoredImage;
beforeAll(async () => {
  img = await busyboxImage(tempStore(), "auth");
});

describe("htpasswd (Basic) registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "htpasswd" });
  });
  afterAll(() => reg?.stop());

  it("refuses anonymous pushes with STRATA_REGISTRY_UNAUTHORIZED and a login hint", async () => {
    const client = new Registry({ dockerConfig: { configDir: configDir() } });
    const err = await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/p/anon:1`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STRATA_REGISTRY_UNAUTHORIZED", hint: expect.stringContaining("strata login") });
  });

  it("uses base64 `auth` from config.json", async () => {
    const dir = configDir({ auths: { [reg.host]: { auth: basicAuth("strata", "s3cret-pw") } }, other: { keep: true } });
    const client = new Registry({ dockerConfig: { configDir: dir } });
    await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/p/basic:1`);
    const pulled = await client.pull(`${reg.host}/p/basic:1`, tempStore());
    expect(pulled.digest).toBe(img.manifestDigest);
  });

  it("uses username/password entries keyed by URL, and $DOCKER_CONFIG", async () => {
    const dir = configDir({ auths: { [`http://${reg.host}/v2/`]: { username: "strata", password: "s3cret-pw" } } });
    expect(await resolveCredentials(reg.host, { env: { DOCKER_CONFIG: dir } })).toEqual({ username: "strata", password: "s3cret-pw" });
    const client = new Registry({ dockerConfig: { env: { DOCKER_CONFIG: dir } } });
    expect((await client.resolve(`${reg.host}/p/basic:1`)).digest).toBe(img.manifestDigest);
  });

  it("rejects wrong credentials", async () => {
    const client = new Registry({ credentials: () => ({ username: "strata", password: "wrong" }) });
    await expect(client.pull(`${reg.host}/p/basic:1`, tempStore())).rejects.toMatchObject({ code: "STRATA_REGISTRY_UNAUTHORIZED" });
  });

  it("login verifies against the registry, then writes config.json atomically keeping other keys", async () => {
    const dir = configDir({ auths: { "other.example": { auth: basicAuth("a", "b") } }, credHelpersX: 1, detachKeys: "ctrl-p" });
    await expect(login(reg.host, "strata", "nope", { dockerConfig: { configDir: dir } })).rejects.toMatchObject({ code: "STRATA_REGISTRY_LOGIN_FAILED" });
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).auths[reg.host]).toBeUndefined();
    const r = await login(reg.host, "strata", "s3cret-pw", { dockerConfig: { configDir: dir } });
    expect(r).toMatchObject({ registry: reg.host, serverKey: reg.host, storedIn: join(dir, "config.json") });
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(cfg.detachKeys).toBe("ctrl-p");
    expect(cfg.credHelpersX).toBe(1);
    expect(cfg.auths["other.example"]).toEqual({ auth: basicAuth("a", "b") });
    expect(cfg.auths[reg.host]).toEqual({ auth: basicAuth("strata", "s3cret-pw") });
    // What login stored works for a pull, and docker's own client reads the same file format.
    const client = new Registry({ dockerConfig: { configDir: dir } });
    expect((await client.pull(`${reg.host}/p/basic:1`, tempStore())).digest).toBe(img.manifestDigest);
    expect(await logout(reg.host, { dockerConfig: { configDir: dir } })).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).auths).toEqual({ "other.example": { auth: basicAuth("a", "b") } });
  });
});

describe("token-auth registry (JWT issuer)", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "token" });
  });
  afterAll(() => reg?.stop());
  const creds = (): Credentials => ({ username: "strata", password: "s3cret-pw" });

  it("fetches a token per scope with Basic credentials (GET) and caches it", async () => {
    const issuer = reg.tokenIssuer!;
    const client = new Registry({ credentials: creds });
    const before = issuer.log.length;
    await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/t/app:1`);
    const pushLog = issuer.log.slice(before);
    expect(pushLog.every((l) => l.method === "GET" && l.grant === "basic" && l.user === "strata")).toBe(true);
    expect(pushLog.map((l) => l.scopes.join(" "))).toEqual(["repository:t/app:pull,push"]);
    const store = tempStore();
    await client.pull(`${reg.host}/t/app:1`, store);
    await client.pull(`${reg.host}/t/app:1`, tempStore());
    const pullLog = issuer.log.slice(before + pushLog.length);
    expect(pullLog.map((l) => l.scopes.join(" "))).toEqual(["repository:t/app:pull"]);
  });

  it("pulls anonymously with an anonymous token, and cannot push without credentials", async () => {
    const issuer = reg.tokenIssuer!;
    const client = new Registry({ credentials: () => undefined });
    const before = issuer.log.length;
    expect((await client.pull(`${reg.host}/t/app:1`, tempStore())).digest).toBe(img.manifestDigest);
    expect(issuer.log.slice(before).map((l) => l.grant)).toEqual(["anonymous"]);
    await expect(client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/t/anon:1`)).rejects.toMatchObject({ code: "STRATA_REGISTRY_UNAUTHORIZED" });
  });

  it("refreshes a token when the registry answers 401 with it", async () => {
    const issuer = reg.tokenIssuer!;
    const client = new Registry({ credentials: creds });
    issuer.issueUselessTokens(1);
    const before = issuer.log.length;
    expect((await client.pull(`${reg.host}/t/app:1`, tempStore())).digest).toBe(img.manifestDigest);
    expect(issuer.log.length - before).toBe(2);
  });

  it("refreshes a token once it has expired", async () => {
    const issuer = reg.tokenIssuer!;
    let now = Date.now();
    const client = new Registry({ credentials: creds, now: () => now });
    const before = issuer.log.length;
    await client.resolve(`${reg.host}/t/app:1`);
    await client.resolve(`${reg.host}/t/app:1`);
    expect(issuer.log.length - before).toBe(1);
    now += 301_000; // the issuer's tokens live 300 s
    await client.resolve(`${reg.host}/t/app:1`);
    expect(issuer.log.length - before).toBe(2);
  });

  it("uses the OAuth2 POST form: password grant when asked, refresh_token for an identitytoken", async () => {
    const issuer = reg.tokenIssuer!;
    const before = issuer.log.length;
    const pw = new Registry({ credentials: creds, oauthPassword: true });
    expect((await pw.resolve(`${reg.host}/t/app:1`)).digest).toBe(img.manifestDigest);
    expect(issuer.log.slice(before).map((l) => [l.method, l.grant])).toEqual([["POST", "password"]]);

    // An identity token as `docker login` stores it for OAuth registries.
    const res = await fetch(issuer.realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: "strata", password: "s3cret-pw", service: "strata-test-registry", client_id: "test", access_type: "offline" }),
    });
    const { refresh_token } = (await res.json()) as { refresh_token: string };
    const dir = configDir({ auths: { [reg.host]: { identitytoken: refresh_token } } });
    const mark = issuer.log.length;
    const idt = new Registry({ dockerConfig: { configDir: dir } });
    await idt.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/t/idtoken:1`);
    expect(issuer.log.slice(mark).map((l) => [l.method, l.grant, l.user])).toEqual([["POST", "refresh_token", "strata"]]);
  });

  it("login against a token registry stores credentials that then work", async () => {
    const dir = configDir();
    await expect(login(reg.host, "strata", "bad", { dockerConfig: { configDir: dir } })).rejects.toMatchObject({ code: "STRATA_REGISTRY_LOGIN_FAILED" });
    await login(reg.host, "strata", "s3cret-pw", { dockerConfig: { configDir: dir } });
    const client = new Registry({ dockerConfig: { configDir: dir } });
    await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/t/login:1`);
  });
});

describe("credential helpers", () => {
  /** A docker-credential-<name> script that serves one secret and records what it was asked. */
  function helperDir(name: string, secrets: Record<string, { Username: string; Secret: string }>): { path: string; calls: () => string } {
    const dir = mkdtempSync(join(tmpdir(), "strata-credhelper-"));
    const log = join(dir, "calls.log");
    const store = join(dir, "store.json");
    writeFileSync(store, JSON.stringify(secrets));
    const script = `#!/usr/bin/env node
const fs = require("fs");
const action = process.argv[2];
const input = fs.readFileSync(0, "utf8");
fs.appendFileSync(${JSON.stringify(log)}, action + " " + input.trim() + "\\n");
const db = JSON.parse(fs.readFileSync(${JSON.stringify(store)}, "utf8"));
if (action === "get") {
  const s = db[input.trim()];
  if (!s) { process.stdout.write("credentials not found in native keychain"); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...s }));
} else if (action === "store") {
  const p = JSON.parse(input);
  db[p.ServerURL] = { Username: p.Username, Secret: p.Secret };
  fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(db));
} else if (action === "erase") {
  delete db[input.trim()];
  fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(db));
}
`;
    writeFileSync(join(dir, `docker-credential-${name}`), script);
    chmodSync(join(dir, `docker-credential-${name}`), 0o755);
    return { path: dir, calls: () => readFileSync(log, "utf8") };
  }

  it("credHelpers and credsStore: `get` with the server URL on stdin, JSON back", async () => {
    const h = helperDir("strata-test", { "registry.example:5000": { Username: "u1", Secret: "p1" }, "https://index.docker.io/v1/": { Username: "<token>", Secret: "refresh-abc" } });
    const env = { ...process.env, PATH: `${h.path}:${process.env.PATH}` };
    const perHost = configDir({ credHelpers: { "registry.example:5000": "strata-test" } });
    expect(await resolveCredentials("registry.example:5000", { configDir: perHost, env })).toEqual({ username: "u1", password: "p1" });
    expect(await resolveCredentials("other.example", { configDir: perHost, env })).toBeUndefined();
    const global = configDir({ credsStore: "strata-test" });
    expect(await resolveCredentials("docker.io", { configDir: global, env })).toEqual({ identityToken: "refresh-abc" });
    expect(await resolveCredentials("unknown.example", { configDir: global, env })).toBeUndefined();
    expect(h.calls()).toBe("get registry.example:5000\nget https://index.docker.io/v1/\nget unknown.example\n");
  });

  it("a missing helper is a clear STRATA_CREDENTIAL_HELPER error", async () => {
    const dir = configDir({ credsStore: "does-not-exist-anywhere" });
    await expect(resolveCredentials("x.example", { configDir: dir })).rejects.toMatchObject({ code: "STRATA_CREDENTIAL_HELPER", message: expect.stringContaining("not on PATH") });
  });

  it("login stores through the helper and leaves only a placeholder in config.json", async () => {
    const reg = await startRegistry({ auth: "htpasswd" });
    try {
      const h = helperDir("strata-login", {});
      const env = { ...process.env, PATH: `${h.path}:${process.env.PATH}` };
      const dir = configDir({ credsStore: "strata-login" });
      const r = await login(reg.host, "strata", "s3cret-pw", { dockerConfig: { configDir: dir, env } });
      expect(r.storedIn).toBe("docker-credential-strata-login");
      expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))).toEqual({ credsStore: "strata-login", auths: { [reg.host]: {} } });
      expect(await resolveCredentials(reg.host, { configDir: dir, env })).toEqual({ username: "strata", password: "s3cret-pw" });
      const client = new Registry({ dockerConfig: { configDir: dir, env } });
      await client.push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/h/app:1`);
    } finally {
      await reg.stop();
    }
  });

  it("an unparsable config.json is STRATA_DOCKER_CONFIG_INVALID", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-dockercfg-"));
    writeFileSync(join(dir, "config.json"), "{ not json");
    await expect(resolveCredentials("x.example", { configDir: dir })).rejects.toMatchObject({ code: "STRATA_DOCKER_CONFIG_INVALID" });
  });
});
