// A hostile registry meets bounds: a total deadline per request (however steadily bytes
// trickle in), Retry-After honoured and capped, a blob shorter or longer than its descriptor
// refused as a size mismatch, a redirect to a file: URL refused, and layers of unknown media
// types refused when the manifest arrives. End to end through the CLI; nothing half-written.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type StoredImage, type TestRegistry } from "@strata/registry/test-helpers";
import { newHome, project, run, unverifiedBlobs } from "../registry/helpers.ts";

/** Nothing of a failed pull in the store: no unverified blob, no temp file, not the layer. */
function nothingHalfWritten(home: string, layer: string): void {
  expect(unverifiedBlobs(home)).toEqual([]);
  const dir = join(home, "v1", "blobs", "sha256");
  if (existsSync(dir)) expect(readdirSync(dir).filter((n) => n.includes("."))).toEqual([]);
  expect(existsSync(join(dir, layer.slice(7)))).toBe(false);
}

describe("registry bounds", () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let base: StoredImage;
  let dir: string;
  const layer = () => base.layers[0]!.digest;
  const ref = () => `${proxy.host}/bounds/base:1`;

  beforeAll(async () => {
    registry = await startRegistry();
    base = await busyboxImage(tempStore(), "bounds");
    await new Registry().push({ manifest: base.manifest, blobs: base.store }, `${registry.host}/bounds/base:1`);
    proxy = await startFaultProxy(registry.url);
    dir = await project({
      "app.image.ts": `import { from } from "@strata/core";\nexport default from("${proxy.host}/bounds/base:1").copy("msg.txt", "/msg.txt");\n`,
      "msg.txt": "x\n",
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  test("a registry trickling one byte at a time hits the total deadline, at the from() call", async () => {
    proxy.rules = [{ method: "GET", path: "/manifests/", fault: { kind: "trickle", intervalMs: 200 } }];
    const home = newHome();
    const started = Date.now();
    const r = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"], { STRATA_REGISTRY_DEADLINE: "2" });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_TIMEOUT]");
    expect(r.stderr).toMatch(/app\.image\.ts:2/);
    expect(r.stderr).toContain("STRATA_REGISTRY_DEADLINE");
    nothingHalfWritten(home, layer());
  });

  test("a registry that stalls mid-manifest (connection open, no more bytes) fails at the deadline, not never", async () => {
    proxy.rules = [{ method: "GET", path: "/manifests/", fault: { kind: "stall-after", bytes: 100 } }];
    const home = newHome();
    const started = Date.now();
    const r = await run(dir, home, ["pull", ref()], { STRATA_REGISTRY_DEADLINE: "2" });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_TIMEOUT]");
    nothingHalfWritten(home, layer());
  });

  test("a trickled blob hits its deadline too (the request deadline plus size / 64 KiB/s)", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "trickle", intervalMs: 50 } }];
    const home = newHome();
    const started = Date.now();
    // 2 s plus 1.1 MiB at 1 MiB/s: about 3 s, while the trickle would take over 15 hours.
    const r = await run(dir, home, ["pull", ref()], { STRATA_REGISTRY_DEADLINE: "2", STRATA_REGISTRY_MIN_RATE: "1m" });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_TIMEOUT]");
    nothingHalfWritten(home, layer());
  });

  test("a blob shorter than its descriptor is a size mismatch, not 'unreachable'", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "truncate", bytes: 1000 } }];
    const home = newHome();
    const r = await run(dir, home, ["pull", ref()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_SIZE_MISMATCH]");
    expect(r.stderr).toContain("is 1000 bytes");
    expect(r.stderr).not.toContain("UNREACHABLE");
    nothingHalfWritten(home, layer());
  });

  test.each([true, false])("a blob longer than its descriptor is cut off and refused (length announced: %s)", async (announce) => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "extend", bytes: 4096, announce } }];
    const home = newHome();
    const r = await run(dir, home, ["pull", ref()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_SIZE_MISMATCH]");
    nothingHalfWritten(home, layer());
  });

  test("Retry-After is honoured: the retry waits what the registry asked (seconds), not the short backoff", async () => {
    proxy.rules = [{ method: "GET", path: "/manifests/", fault: { kind: "status", status: 429, headers: { "retry-after": "2" } }, times: 1 }];
    const home = newHome();
    const started = Date.now();
    const r = await run(dir, home, ["pull", ref()]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  test("Retry-After is capped (STRATA_REGISTRY_RETRY_AFTER_MAX) and an HTTP-date is read", async () => {
    const date = new Date(Date.now() + 3600_000).toUTCString();
    proxy.rules = [{ method: "GET", path: "/manifests/", fault: { kind: "status", status: 503, headers: { "retry-after": date } }, times: 1 }];
    const home = newHome();
    const started = Date.now();
    const r = await run(dir, home, ["pull", ref()], { STRATA_REGISTRY_RETRY_AFTER_MAX: "1" });
    expect(r.code).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(30_000);
  });

  test("a redirect to a file: URL is refused with a coded error", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "redirect", location: "file:///etc/passwd#" } }];
    const home = newHome();
    const r = await run(dir, home, ["pull", ref()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_BAD_REDIRECT]");
    expect(r.stderr).not.toContain("root:");
    nothingHalfWritten(home, layer());
  });
});

describe("a manifest with a layer of unknown media type", () => {
  let server: Server;
  let host: string;
  beforeAll(async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const { createHash } = await import("node:crypto");
    const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
        layers: [{ mediaType: "application/x-evil+squashfs", digest: sha(Buffer.from("x")), size: 1 }],
      }),
    );
    server = createServer((req, res) => {
      if (req.url === "/v2/") return void res.writeHead(200).end("{}");
      if (req.url?.includes("/manifests/")) return void res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" }).end(manifest);
      if (req.url?.includes("/blobs/")) return void res.writeHead(200).end(req.url.includes(sha(config).slice(7)) ? config : "x");
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address();
    host = `127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  test("is refused when it arrives", async () => {
    const home = newHome();
    const r = await run(process.cwd(), home, ["pull", `${host}/odd/img:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_UNKNOWN_MEDIA_TYPE]");
    expect(r.stderr).toContain("application/x-evil+squashfs");
  });
});
