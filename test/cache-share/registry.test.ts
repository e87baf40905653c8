import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { startRegistry, type TestRegistry } from "@strata/registry/test-helpers";
import { DIGEST, newHome, run } from "../registry/helpers.ts";
import { buildArgs, cacheProject, corrupt, counts, DOCKERFILE, registryBlobPath } from "./helpers.ts";

/** The cache artifact at `ref`: its manifest and the cache manifest it carries. */
async function artifact(registry: TestRegistry, ref: string) {
  const client = new Registry({ insecure: [registry.host] });
  const m = await client.manifest(ref);
  const parsed = m.parsed as unknown as { artifactType: string; config: { digest: string; mediaType: string }; layers: Array<{ digest: string; size: number; mediaType: string }> };
  const config = JSON.parse(readFileSync(registryBlobPath(registry.dir, parsed.config.digest), "utf8")) as {
    strataCache: number;
    records: Record<string, { layers: Array<{ diffId: string }> }>;
    layers: Record<string, { digest: string; size: number }>;
    mounts: Record<string, { digest: string }>;
  };
  return { parsed, config };
}

describe("sharing the cache through a registry (--cache-to / --cache-from)", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("store A exports mode=max; an empty store B reruns nothing and gets A's exact image; a third store's new step sees A's cache mount (through B's re-export)", async () => {
    const dir = await cacheProject();
    const ref = `${registry.host}/cache-share/app:cache`;
    const insecure = ["--insecure-registry", registry.host];
    const a = await run(dir, newHome(), buildArgs("--cache-to", `type=registry,ref=${ref},mode=max`, ...insecure));
    expect(a.stderr).toContain(`exported cache to registry:${ref}`);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(DIGEST);

    const { parsed, config } = await artifact(registry, ref);
    expect(parsed.artifactType).toBe("application/vnd.strata.cache.v1+json");
    expect(parsed.config.mediaType).toBe("application/vnd.strata.cache.config.v1+json");
    expect(config.strataCache).toBe(1);
    expect(Object.keys(config.mounts)).toEqual(["strata-cache-test-dl"]);
    // Every blob the cache manifest names is a layer of the artifact (and so in the registry).
    const listed = new Set(parsed.layers.map((l) => l.digest));
    for (const l of Object.values(config.layers)) expect(listed.has(l.digest)).toBe(true);

    const homeB = newHome();
    // B also writes the cache on (the CI loop), to another repository: the layers it never read
    // are mounted from A's cache there, still unfetched.
    const copy = `${registry.host}/cache-share/app-copy:cache`;
    const b = await run(dir, homeB, buildArgs("--cache-from", `type=registry,ref=${ref}`, "--cache-to", `type=registry,ref=${copy},mode=max`, "--explain", ...insecure));
    expect(b.code).toBe(0);
    expect(b.stderr).toMatch(new RegExp(`exported cache to registry:${copy.replace(/[.:/]/g, "\\$&")} \\(\\d+ steps, \\d+ layers, 1 cache mounts; blobs: \\d+ uploaded, 0 already there, [1-9]\\d* mounted\\)`));
    const copied = (await artifact(registry, copy)).config;
    expect(Object.keys(copied.records).sort()).toEqual(Object.keys(config.records).sort());
    // The cache mount B never used travels on unchanged.
    expect(copied.mounts).toEqual(config.mounts);
    expect(b.stdout).toBe(a.stdout);
    expect(counts(b.stderr).run).toBe(0);
    expect(b.stderr).toContain(`from the shared cache registry:${ref}`);
    // Lazy: B fetched the image's own layers and nothing else (the deps stage's RUN layer stayed remote).
    const storeBlob = (d: string) => join(homeB, "v1", "blobs", "sha256", d.slice(7));
    // stdout's last line is the image ID: the config's digest.
    const diffIds = new Set((JSON.parse(readFileSync(storeBlob(b.stdout.trim()), "utf8")) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids);
    const others = Object.keys(config.layers).filter((d) => !diffIds.has(d));
    expect(others.length).toBeGreaterThan(0);
    for (const d of others) expect(existsSync(storeBlob(d))).toBe(false);
    for (const d of diffIds) expect(existsSync(storeBlob(d))).toBe(true);

    // A new step (not in the cache) that reads the same cache mount id sees A's download.
    const extended = DOCKERFILE.replace("FROM busybox\n", "FROM busybox\nRUN --mount=type=cache,id=strata-cache-test-dl,target=/dl cp /dl/downloaded /seen\n");
    const dir2 = await cacheProject(extended);
    // (read from B's copy of the cache: the mount A exported reached it through B)
    const c = await run(dir2, newHome(), buildArgs("--cache-from", `type=registry,ref=${copy}`, "-o", `type=oci-layout,dest=${dir2}/out`, ...insecure));
    expect(c.code).toBe(0);
    expect(counts(c.stderr).run).toBeGreaterThan(0);
    const deps = await run(dir, newHome(), buildArgs("--cache-from", `type=registry,ref=${ref}`, "--target", "deps", "-o", `type=oci-layout,dest=${dir}/deps`, ...insecure));
    expect(deps.code).toBe(0);
    const { ociFile } = await import("./layout-file.ts");
    const seen = ociFile(`${dir2}/out`, "seen");
    expect(seen?.length).toBe(16);
    expect(seen).toEqual(ociFile(`${dir}/deps`, "deps"));
  }, 180_000);

  test("the cache's layers are the image's blobs: pushed beside the image, they are mounted or found, never uploaded twice", async () => {
    const dir = await cacheProject();
    const insecure = ["--insecure-registry", registry.host];
    const image = `${registry.host}/cache-share/pushed:1`;
    const ref = `${registry.host}/cache-share/pushed-cache:cache`;
    const a = await run(dir, newHome(), buildArgs("-t", image, "--push", "--cache-to", `type=registry,ref=${ref}`, ...insecure));
    expect(a.code).toBe(0);
    const m = /exported cache to \S+ \((\d+) steps, (\d+) layers, 0 cache mounts; blobs: (\d+) uploaded, (\d+) already there, (\d+) mounted\)/.exec(a.stderr);
    expect(m, a.stderr).not.toBeNull();
    const [layers, uploaded, mounted] = [Number(m![2]), Number(m![3]), Number(m![5])];
    // Every layer came from the image's repository; only the cache manifest and the base config went up.
    expect(mounted).toBe(layers);
    expect(uploaded).toBeLessThanOrEqual(2);
    const { parsed, config } = await artifact(registry, ref);
    const pushed = await new Registry({ insecure: [registry.host] }).manifest(image);
    const imageBlobs = new Set((pushed.parsed as unknown as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest));
    for (const l of Object.values(config.layers)) expect(imageBlobs.has(l.digest)).toBe(true);
    expect(parsed.layers.length).toBeGreaterThanOrEqual(layers);
  }, 120_000);

  test("a blob corrupted in the registry is detected and its step reruns; an unreachable source is only a warning", async () => {
    const dir = await cacheProject();
    const ref = `${registry.host}/cache-share/corrupt:cache`;
    const insecure = ["--insecure-registry", registry.host];
    const a = await run(dir, newHome(), buildArgs("--cache-to", `type=registry,ref=${ref},mode=max`, ...insecure));
    expect(a.code).toBe(0);
    const { config } = await artifact(registry, ref);
    // The final RUN's layer: the record with the most layers holds it on top.
    const top = Object.values(config.records).sort((x, y) => y.layers.length - x.layers.length)[0]!;
    const layer = config.layers[top.layers[top.layers.length - 1]!.diffId]!;
    corrupt(registryBlobPath(registry.dir, layer.digest), layer.size);

    const b = await run(dir, newHome(), buildArgs("--cache-from", `type=registry,ref=${ref}`, ...insecure));
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(`warning: registry:${ref}: layer ${layer.digest} is missing or corrupt`);
    expect(counts(b.stderr).run).toBe(1);
    // The random RUN ran again: another image.
    expect(b.stdout).toMatch(DIGEST);
    expect(b.stdout).not.toBe(a.stdout);

    // A corrupt layer that a running step reads (not the image's top): the step that reads it
    // stops, the build solves again knowing the blob is bad, and the step that made it reruns.
    const msgLayer = Object.values(config.layers).find((l) => l.digest !== layer.digest && gunzipSync(readFileSync(registryBlobPath(registry.dir, l.digest))).includes("shared cache\n"))!;
    expect(msgLayer).toBeDefined();
    corrupt(registryBlobPath(registry.dir, msgLayer.digest), msgLayer.size);
    const dir3 = await cacheProject(DOCKERFILE.replace("> /r\n", "> /r2\n"));
    const c = await run(dir3, newHome(), buildArgs("--cache-from", `type=registry,ref=${ref}`, ...insecure));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`warning: registry:${ref}: layer ${msgLayer.digest} is missing or corrupt`);
    // The COPY of msg.txt and the changed RUN ran; the deps stage stayed cached.
    expect(counts(c.stderr).run).toBe(2);

    const gone = await run(dir, newHome(), buildArgs("--cache-from", "type=registry,ref=127.0.0.1:9/nothing/here:cache", "--insecure-registry", "127.0.0.1:9"));
    expect(gone.code).toBe(0);
    expect(gone.stderr).toContain("warning: cache source registry:127.0.0.1:9/nothing/here:cache is not usable");
  }, 180_000);
});
