import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { arm64Busybox, busyboxArm64Layout, busyboxMultiarchLayout } from "./busybox-multiarch.ts";
import { missing, onPath } from "./requires.ts";

// The multi-platform tests trust this base: an index whose arm64 entry really holds an aarch64
// binary, readable by an independent tool (skopeo), not only by Strata's own reader.
describe.skipIf(missing({ skopeo: onPath("skopeo"), "apt-get": onPath("apt-get") }))("busybox multi-arch test base", () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-bb-multi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the arm64 binary is an aarch64 ELF (e_machine 0xb7)", () => {
    const head = readFileSync(arm64Busybox()).subarray(0, 20);
    expect(head.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(head.readUInt16LE(18)).toBe(0xb7);
  });

  it("the one-platform arm64 layout says linux/arm64 in its config", async () => {
    const layout = await busyboxArm64Layout(dir);
    const cfg = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `oci:${layout}:latest`], { encoding: "utf8" }));
    expect([cfg.os, cfg.architecture]).toEqual(["linux", "arm64"]);
  });

  it("is an OCI index with linux/amd64 and linux/arm64 that skopeo resolves per platform", async () => {
    const layout = await busyboxMultiarchLayout(dir);
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${layout}:latest`], { encoding: "utf8" }));
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    for (const arch of ["amd64", "arm64"]) {
      const cfg = JSON.parse(execFileSync("skopeo", ["inspect", "--override-arch", arch, `oci:${layout}:latest`], { encoding: "utf8" }));
      expect(cfg.Architecture).toBe(arch);
    }
  });
});
