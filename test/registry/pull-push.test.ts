import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, indexOf, startRegistry, tempStore, type TestRegistry } from "@strata/registry/test-helpers";
import { appModule, DIGEST, newHome, project, run, unverifiedBlobs } from "./helpers.ts";

const skopeoDigest = (ref: string): string =>
  (JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })) as { Digest: string }).Digest;

describe("strata pull and strata push", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("pull puts a verified image in the store under its name; push sends it elsewhere byte for byte", async () => {
    const store = tempStore();
    const amd = await busyboxImage(store, "amd64", { os: "linux", architecture: "amd64" });
    const arm = await busyboxImage(store, "arm64", { os: "linux", architecture: "arm64" });
    const idx = await indexOf(store, [amd, arm]);
    await new Registry().push({ index: idx.index, manifests: [amd, arm].map((i) => ({ manifest: i.manifest, blobs: store })) }, `${registry.host}/pp/multi:1`);
    const home = newHome();
    const dir = await project({});
    const pulled = await run(dir, home, ["pull", `${registry.host}/pp/multi:1`]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toBe(`${amd.manifestDigest}\n`);
    expect(pulled.stderr).toContain("pulled: ");
    expect(unverifiedBlobs(home)).toEqual([]);
    const arm64 = await run(dir, home, ["pull", "-q", `${registry.host}/pp/multi:1`, "--platform", "linux/arm64"]);
    expect(arm64.stdout).toBe(`${arm.manifestDigest}\n`);
    expect(arm64.stderr).toBe("");
    expect((await run(dir, home, ["pull", `${registry.host}/pp/multi:1`])).stderr).toContain("up to date: ");

    // The pulled name (last pulled for linux/amd64) is pushed unchanged to another repository.
    const pushed = await run(dir, home, ["push", `${registry.host}/pp/multi:1`, `${registry.host}/pp/copy:amd`]);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toBe(`${amd.manifestDigest}\n`);
    expect(skopeoDigest(`${registry.host}/pp/copy:amd`)).toBe(amd.manifestDigest);
  });

  test("a built image is pushed by its local tag (or digest) to several references", async () => {
    const dir = await project(appModule('ociLayout("./busybox")', "pushed later"));
    const home = newHome();
    const built = await run(dir, home, ["build", "app.image.ts", "-t", "app:dev", "--progress", "quiet", "--metadata-file", "meta.json"]);
    expect(built.code).toBe(0);
    const r = await run(dir, home, ["push", "app:dev", `${registry.host}/pp/app:1`, `${registry.host}/pp/app2:1`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(DIGEST);
    const digest = r.stdout.trim();
    expect(skopeoDigest(`${registry.host}/pp/app:1`)).toBe(digest);
    expect(skopeoDigest(`${registry.host}/pp/app2:1`)).toBe(digest);
    // By the local manifest digest, the same pushed image.
    // (build prints the image ID; the manifest digest is in its metadata file.)
    const manifest = (JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, string>)["containerimage.digest"]!;
    const byDigest = await run(dir, home, ["push", manifest, `${registry.host}/pp/app:by-digest`]);
    expect(byDigest.stdout).toBe(r.stdout);
    expect(byDigest.stderr).toContain("0 uploaded");

    // buildx's spelling of a push: --output type=registry,name=…
    const out = await run(dir, home, ["build", "app.image.ts", "-o", `type=registry,name=${registry.host}/pp/out:1`, "--progress", "quiet"]);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`pushed ${registry.host}/pp/out:1@${digest}`);
    expect(skopeoDigest(`${registry.host}/pp/out:1`)).toBe(digest);
    expect((await run(dir, home, ["build", "app.image.ts", "-o", "type=registry", "--progress", "quiet"])).stderr).toContain("name= is required");

    const missing = await run(dir, home, ["push", "nothing:here", `${registry.host}/pp/x:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error[STRATA_IMAGE_NOT_FOUND]: no image named nothing:here");
  });
});
