import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { from, ociLayout } from "@strata/core";
import { build, writeOutput, type ProgressEvent } from "@strata/engine";
import { describe, expect, test } from "vitest";
import { busyboxLayout } from "../helpers/busybox.ts";
import { scratchProject, strata } from "../helpers/cli.ts";

/**
 * The engine as a library, used the way a program that builds images would use it: import the
 * builders and `build`, pass nothing but what differs from the defaults, read the result.
 */
describe("@strata/engine build() as a library", () => {
  test("builds an image with defaults, reports typed progress, and gives the image `strata build` gives", async () => {
    const dir = scratchProject({});
    await busyboxLayout(dir);
    const home = mkdtempSync(join(tmpdir(), "strata-lib-"));
    const image = from(ociLayout("busybox")).run("echo built-by-library > /greeting").cmd(["cat", "/greeting"]);

    const events: ProgressEvent[] = [];
    const first = await build(image, { store: home, moduleDir: dir, onProgress: (e) => events.push(e), tags: ["lib-test:1"] });
    expect(first.built).toBeGreaterThan(0);
    expect(first.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.imageId).toBe(first.image.manifest.config.digest);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["build-start", "step-start", "step-done", "build-done"]));
    expect(events.at(-1)).toMatchObject({ type: "build-done", digest: first.manifestDigest });

    // Again: everything cached, same digest.
    const again = await build(image, { store: home, moduleDir: dir });
    expect(again.built).toBe(0);
    expect(again.manifestDigest).toBe(first.manifestDigest);

    // Written uncompressed, the OCI layout holds exactly the image in the store.
    const out = join(dir, "out");
    await writeOutput(first.store, first.image, { type: "oci-layout", dest: out, compression: "uncompressed" }, []);
    expect(JSON.parse(readFileSync(join(out, "index.json"), "utf8")).manifests[0].digest).toBe(first.manifestDigest);

    // The CLI builds the same module to the same digest.
    writeFileSync(join(dir, "app.image.ts"), `import { from, ociLayout } from "@strata/core";\nexport default from(ociLayout("busybox")).run("echo built-by-library > /greeting").cmd(["cat", "/greeting"]);\n`);
    const cli = strata(["build", "app.image.ts", "--progress", "quiet"], { cwd: dir, env: { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-lib-cli-")) } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout.trim().split("\n").at(-1)).toBe(first.imageId);
  });
});
