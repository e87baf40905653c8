import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type StoredImage, type TestRegistry } from "@strata/registry/test-helpers";
import { DIGEST, newHome, project, run, unverifiedBlobs } from "./helpers.ts";

/** A build whose base image is pulled through a proxy that misbehaves on demand. */
describe("faults while a build pulls its base image", () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let base: StoredImage;
  let dir: string;
  const layer = () => base.layers[0]!.digest;

  beforeAll(async () => {
    registry = await startRegistry();
    base = await busyboxImage(tempStore(), "through faults");
    await new Registry().push({ manifest: base.manifest, blobs: base.store }, `${registry.host}/faults/base:1`);
    proxy = await startFaultProxy(registry.url);
    dir = await project({
      "app.image.ts": `import { from } from "@strata/core";\nexport default from("${proxy.host}/faults/base:1").copy("msg.txt", "/msg.txt");\n`,
      "msg.txt": "x\n",
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  test("a connection cut mid-layer is resumed with a Range request, and 503s on the manifest are retried", async () => {
    proxy.rules = [
      { method: "GET", path: `/blobs/${layer()}`, fault: { kind: "drop-after", bytes: 100_000 }, times: 1 },
      { method: "GET", path: "/manifests/", fault: { kind: "status", status: 503 }, times: 2 },
    ];
    const home = newHome();
    const r = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(DIGEST);
    expect(proxy.log.some((e) => e.path.includes(layer()) && e.range === "bytes=100000-")).toBe(true);
    expect(proxy.log.filter((e) => e.fault === "status")).toHaveLength(2);
    expect(unverifiedBlobs(home)).toEqual([]);
  });

  test("a corrupt layer fails the build with a coded error at the from() call, and nothing of it is stored", async () => {
    proxy.rules = [{ method: "GET", path: `/blobs/${layer()}`, fault: { kind: "corrupt", offset: 5000 } }];
    const home = newHome();
    const r = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_REGISTRY_DIGEST_MISMATCH]");
    expect(r.stderr).toContain(`blob ${layer()}`);
    expect(r.stderr).toMatch(/app\.image\.ts:2/);
    expect(r.stderr).toContain("nothing was stored");
    // One fresh attempt after the first mismatch, then the build gives up.
    expect(proxy.log.filter((e) => e.fault === "corrupt")).toHaveLength(2);
    expect(existsSync(join(home, "v1", "blobs", "sha256", layer().slice(7)))).toBe(false);
    expect(unverifiedBlobs(home)).toEqual([]);
    // Once the registry serves good bytes again, the same store builds.
    proxy.rules = [];
    expect((await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"])).code).toBe(0);
  });
});
