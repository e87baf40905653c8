import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { Registry } from "@strata/registry";
import { busyboxImage, startFaultProxy, startRegistry, tempStore, type FaultProxy, type TestRegistry } from "@strata/registry/test-helpers";
import { docker, dockerAvailable, dockerImportBusybox, dockerRun } from "../helpers/docker.ts";
import { missing } from "../helpers/requires.ts";
import { appModule, DIGEST, dockerAsync, newHome, project, run } from "./helpers.ts";

/**
 * Inode and mtime of every cache record in a store. Compressing a layer writes its record
 * (diffID → gzip blob) anew, by rename, which changes both; a record only read stays as it was.
 */
function cacheRecords(home: string): Map<string, string> {
  const dir = join(home, "v1", "cache");
  return new Map(readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".json")).map((f) => {
    const s = statSync(join(dir, f));
    return [f, `${s.ino}:${s.mtimeMs}`] as const;
  }));
}

describe("strata build --push, and registry images as bases", () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  const cleanup: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    // Everything goes through a proxy that logs each request (what a re-push sends).
    proxy = await startFaultProxy(registry.url);
  });
  afterAll(async () => {
    for (const t of cleanup) await dockerAsync(["rmi", "-f", t]); // a test that failed early may not have made it
    await proxy?.close();
    await registry?.stop();
  });

  test.skipIf(missing({ dockerd: dockerAvailable() }))("a locally made image pushed under two tags is pulled and run by docker; a re-push compresses and uploads nothing", async () => {
    const dir = await project(appModule('ociLayout("./busybox")', "pushed by strata"));
    const home = newHome();
    const name = `${proxy.host}/e2e/app`;
    const first = await run(dir, home, ["build", "app.image.ts", "-t", `${name}:1`, "-t", `${name}:2`, "--push", "--progress", "quiet"]);
    expect(first.stderr).toContain(`pushed ${name}:1@sha256:`);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(DIGEST);
    const pushed = /pushed \S+:1@(sha256:[0-9a-f]{64})/.exec(first.stderr)![1]!;
    expect(first.stderr).toContain(`pushed ${name}:2@${pushed}`);
    // Manifests after blobs: the first manifest PUT comes after the last blob upload.
    const firstManifest = proxy.log.findIndex((e) => e.method === "PUT" && e.path.includes("/manifests/"));
    const lastUpload = proxy.log.map((e) => e.method === "PUT" && e.path.includes("/blobs/uploads/")).lastIndexOf(true);
    expect(lastUpload).toBeGreaterThan(-1);
    expect(firstManifest).toBeGreaterThan(lastUpload);

    cleanup.push(`${name}:1`);
    const pull = await dockerAsync(["pull", `${name}:1`]);
    expect(pull.stdout).toContain(`Digest: ${pushed}`);
    const r = dockerRun(`${name}:1`);
    expect(r.stdout).toBe("pushed by strata\n");

    // Re-push of the unchanged image: only HEAD checks and the manifests (no blob upload),
    // and no layer is compressed again (no existing cache record, among them the
    // diffID → gzip blob ones the first push wrote, is written again).
    const before = cacheRecords(home);
    expect(before.size).toBeGreaterThan(1);
    const mark = proxy.log.length;
    const again = await run(dir, home, ["build", "app.image.ts", "-t", `${name}:1`, "-t", `${name}:2`, "--push", "--progress", "quiet"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`pushed ${name}:1@${pushed}`);
    expect(again.stderr).toMatch(/blobs: 0 uploaded \(0 B\), 3 already there/);
    const sent = proxy.log.slice(mark).filter((e) => e.path !== "/v2/");
    expect(sent.filter((e) => e.path.includes("/blobs/uploads/"))).toEqual([]);
    expect(sent.filter((e) => e.path.includes("/blobs/")).every((e) => e.method === "HEAD")).toBe(true);
    expect(sent.filter((e) => e.method === "PUT").map((e) => e.path).sort()).toEqual(["/v2/e2e/app/manifests/1", "/v2/e2e/app/manifests/2"]);
    const after = cacheRecords(home);
    for (const [record, identity] of before) expect(after.get(record), record).toBe(identity);
  });

  test("pushing an image built on a registry base reuses the base's blobs: mounted, never compressed again", async () => {
    const base = await busyboxImage(tempStore(), "base layer");
    await new Registry().push({ manifest: base.manifest, blobs: base.store }, `${registry.host}/reuse/base:1`);
    const dir = await project(appModule(JSON.stringify(`${registry.host}/reuse/base:1`), "on top"));
    const home = newHome();
    const r = await run(dir, home, ["build", "app.image.ts", "-t", `${registry.host}/reuse/app:1`, "--push", "--progress", "quiet"]);
    expect(r.code).toBe(0);
    // The base layer is mounted from its repository; only the new layer and the config go up.
    expect(r.stderr).toMatch(/blobs: 2 uploaded \([^)]*\), 0 already there, 1 mounted/);
    const inspect = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${registry.host}/reuse/app:1`], { encoding: "utf8" })) as { Layers: string[] };
    expect(inspect.Layers[0]).toBe(base.layers[0]!.digest);
    expect(inspect.Layers).toHaveLength(2);
  });

  test.skipIf(missing({ dockerd: dockerAvailable() }))("an image docker pushed is a base for strata, and the built image runs", async () => {
    dockerImportBusybox("strata-e2e/busybox:imported");
    const base = `${proxy.host}/e2e/docker-base:1`;
    docker(["tag", "strata-e2e/busybox:imported", base]);
    cleanup.push(base);
    expect((await dockerAsync(["push", base])).code).toBe(0);
    const dir = await project(appModule(JSON.stringify(base), "built on a docker-pushed base"));
    const home = newHome();
    const tag = "strata-e2e/from-registry:1";
    const b = await run(dir, home, ["build", "app.image.ts", "-t", tag, "--load", "--progress", "plain"]);
    expect(b.stderr).toContain(`pulling ${base}`);
    expect(b.code).toBe(0);
    cleanup.push(tag);
    const r = dockerRun(tag, ["sh", "-c", "test -x /bin/busybox && cat /msg.txt"]);
    expect(r.stdout).toBe("built on a docker-pushed base\n");
  });
});
