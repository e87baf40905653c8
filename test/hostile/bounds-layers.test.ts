// The layer bounds end to end: a base layer that inflates past STRATA_MAX_LAYER_BYTES fails
// the build at the from() call, with nothing of the layer left in the store.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Registry } from "@strata/registry";
import { busyboxImage, startRegistry, tempStore, type StoredImage, type TestRegistry } from "@strata/registry/test-helpers";
import { newHome, project, run, unverifiedBlobs } from "../registry/helpers.ts";

describe("layer bounds through a build", () => {
  let registry: TestRegistry;
  let base: StoredImage;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    base = await busyboxImage(tempStore(), "layer bounds");
    await new Registry().push({ manifest: base.manifest, blobs: base.store }, `${registry.host}/bounds/layers:1`);
    dir = await project({
      "app.image.ts": `import { from } from "@strata/core";\nexport default from("${registry.host}/bounds/layers:1").copy("msg.txt", "/msg.txt");\n`,
      "msg.txt": "x\n",
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("a layer over STRATA_MAX_LAYER_BYTES is refused at the from() call; nothing of it is stored", async () => {
    const home = newHome();
    const r = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"], { STRATA_MAX_LAYER_BYTES: "1m" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_LAYER_TOO_LARGE]");
    expect(r.stderr).toMatch(/app\.image\.ts:2/);
    expect(r.stderr).toContain("STRATA_MAX_LAYER_BYTES");
    expect(unverifiedBlobs(home)).toEqual([]);
    const diffId = (JSON.parse(Buffer.from(base.config).toString("utf8")) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0]!;
    expect(existsSync(join(home, "v1", "blobs", "sha256", diffId.slice(7)))).toBe(false);
    const blobs = join(home, "v1", "blobs", "sha256");
    if (existsSync(blobs)) expect(readdirSync(blobs).filter((n) => n.includes("."))).toEqual([]);
    // With the default bound, the same store builds.
    const ok = await run(dir, home, ["build", "app.image.ts", "--progress", "quiet"]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  test("a malformed bound is a usage error, not an internal one", async () => {
    const r = await run(dir, newHome(), ["build", "app.image.ts", "--progress", "quiet"], { STRATA_MAX_LAYER_ENTRIES: "many" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("STRATA_MAX_LAYER_ENTRIES");
    expect(r.stderr).not.toContain("internal error");
  });
});
