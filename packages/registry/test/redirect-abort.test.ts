import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Digest } from "@strata/graph";
import { Registry, allowsPlainHttp, isLoopbackHost, registryBaseUrl, sourceFromStore } from "../src/index.ts";
import { randomImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type StoredImage, type TestRegistry } from "./helpers/index.ts";

let reg: TestRegistry;
let proxy: FaultProxy;
let img: StoredImage;
let storage: Server;
let storageUrl: string;
const storageHits: { path: string; headers: IncomingHttpHeaders }[] = [];
const creds = { username: "strata", password: "s3cret-pw" };

beforeAll(async () => {
  reg = await startRegistry({ auth: "htpasswd" });
  proxy = await startFaultProxy(reg.url);
  img = await randomImage(tempStore(), 2, 2 * 1024 * 1024);
  await new Registry({ credentials: () => creds }).push(await sourceFromStore(img.store, img.manifestDigest), `${reg.host}/redir/img:1`);
  // "Object storage": serves blobs by digest from the image's own store, and records headers.
  storage = createServer((req, res) => {
    storageHits.push({ path: req.url ?? "", headers: req.headers });
    const digest = /blobs\/(sha256:[0-9a-f]{64})/.exec(req.url ?? "")?.[1] as Digest | undefined;
    if (!digest) return void res.writeHead(404).end();
    img.store.open(digest).then(
      (s) => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        s.pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
  const a = storage.address();
  storageUrl = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/bucket`;
});
afterAll(async () => {
  storage?.closeAllConnections();
  await new Promise((r) => storage?.close(r));
  await proxy?.close();
  await reg?.stop();
});

describe("blob redirects", () => {
  it("follows a 307 to storage without sending registry credentials there", async () => {
    const layer = img.layers[0]!.digest;
    proxy.rules = [{ method: "GET", path: `/blobs/${layer}`, fault: { kind: "redirect", location: storageUrl } }];
    const store = tempStore();
    const pulled = await new Registry({ credentials: () => creds }).pull(`${proxy.host}/redir/img:1`, store);
    expect(pulled.digest).toBe(img.manifestDigest);
    expect(await store.size(layer)).toBe(2 * 1024 * 1024);
    expect(storageHits.map((h) => h.path)).toEqual([`/bucket/v2/redir/img/blobs/${layer}`]);
    expect(storageHits[0]!.headers.authorization).toBeUndefined();
    // …while the registry itself did get them (it requires auth).
    expect(proxy.log.find((l) => l.fault === "redirect")?.status).toBe(307);
  });
});

describe("cancellation", () => {
  it("an aborted pull rejects with STRATA_ABORTED and leaves no blob behind", async () => {
    proxy.rules = [];
    const ac = new AbortController();
    const store = tempStore();
    const p = new Registry({ credentials: () => creds }).pull(`${proxy.host}/redir/img:1`, store, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.status === "downloading") ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ code: "STRATA_ABORTED" });
    for (const l of img.layers) expect(await store.has(l.digest)).toBe(false);
    expect(await store.has(img.manifestDigest)).toBe(false);
  });
});

describe("which registries get plain HTTP", () => {
  it.each([
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1:5000", true],
    ["127.1.2.3", true],
    ["[::1]:5000", true],
    ["128.0.0.1:5000", false],
    ["10.0.0.5:5000", false],
    ["registry.example:5000", false],
    ["localhost.example.com", false],
  ])("%s loopback=%s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
  it("uses HTTPS unless loopback or marked insecure", () => {
    expect(registryBaseUrl("docker.io").href).toBe("https://registry-1.docker.io/");
    expect(registryBaseUrl("ghcr.io").href).toBe("https://ghcr.io/");
    expect(registryBaseUrl("127.0.0.1:5000").href).toBe("http://127.0.0.1:5000/");
    expect(registryBaseUrl("reg.lan:5000").href).toBe("https://reg.lan:5000/");
    expect(registryBaseUrl("reg.lan:5000", ["reg.lan:5000"]).href).toBe("http://reg.lan:5000/");
    expect(allowsPlainHttp("reg.lan:5000", ["reg.lan"])).toBe(true);
    expect(allowsPlainHttp("reg.lan:5000", ["other.lan"])).toBe(false);
  });
});
