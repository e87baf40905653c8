import { describe, expect, it } from "vitest";
import type { Descriptor } from "@strata/oci";
import { compatiblePlatforms, hostPlatform, normalizePlatform, selectManifest } from "../src/index.ts";
import type { Platform } from "@strata/graph";

describe("platform normalisation (containerd rules)", () => {
  it.each([
    [{ os: "linux", architecture: "x86_64" }, { os: "linux", architecture: "amd64" }],
    [{ os: "Linux", architecture: "amd64", variant: "v1" }, { os: "linux", architecture: "amd64" }],
    [{ os: "linux", architecture: "amd64", variant: "v3" }, { os: "linux", architecture: "amd64", variant: "v3" }],
    [{ os: "linux", architecture: "aarch64" }, { os: "linux", architecture: "arm64", variant: "v8" }],
    [{ os: "linux", architecture: "arm64", variant: "8" }, { os: "linux", architecture: "arm64", variant: "v8" }],
    [{ os: "linux", architecture: "arm" }, { os: "linux", architecture: "arm", variant: "v7" }],
    [{ os: "linux", architecture: "arm", variant: "6" }, { os: "linux", architecture: "arm", variant: "v6" }],
    [{ os: "linux", architecture: "armhf" }, { os: "linux", architecture: "arm", variant: "v7" }],
    [{ os: "linux", architecture: "i386" }, { os: "linux", architecture: "386" }],
  ] as [Platform, Platform][])("%j → %j", (input, out) => {
    expect(normalizePlatform(input)).toEqual(out);
  });

  it("ranks compatible platforms best first", () => {
    expect(compatiblePlatforms({ os: "linux", architecture: "amd64", variant: "v3" })).toEqual([
      { os: "linux", architecture: "amd64", variant: "v3" },
      { os: "linux", architecture: "amd64", variant: "v2" },
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "386" },
    ]);
    expect(compatiblePlatforms({ os: "linux", architecture: "arm", variant: "v7" }).map((p) => p.variant)).toEqual(["v7", "v6", "v5"]);
  });

  it("reports this host's platform", () => {
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch as "x64" | "arm64"];
    expect(hostPlatform().architecture).toBe(arch);
    expect(hostPlatform().os).toBe("linux");
  });
});

describe("selecting from an index", () => {
  const d = (n: number, platform?: Platform): Descriptor => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Descriptor["digest"],
    size: 1,
    ...(platform ? { platform } : {}),
  });
  const index = [
    d(1, { os: "linux", architecture: "amd64" }),
    d(2, { os: "linux", architecture: "arm64" }),
    d(3, { os: "linux", architecture: "arm", variant: "v6" }),
    d(4, { os: "linux", architecture: "arm", variant: "v7" }),
    d(5), // an attestation manifest without a platform
    d(6, { os: "windows", architecture: "amd64" }),
    d(7, { os: "linux", architecture: "amd64", variant: "v3" }),
  ];
  it.each([
    [{ os: "linux", architecture: "amd64" }, 1],
    [{ os: "linux", architecture: "x86_64" }, 1],
    [{ os: "linux", architecture: "amd64", variant: "v3" }, 7],
    [{ os: "linux", architecture: "amd64", variant: "v2" }, 1],
    [{ os: "linux", architecture: "arm64", variant: "v8" }, 2],
    [{ os: "linux", architecture: "aarch64" }, 2],
    [{ os: "linux", architecture: "arm" }, 4],
    [{ os: "linux", architecture: "arm", variant: "v6" }, 3],
    [{ os: "windows", architecture: "amd64" }, 6],
  ] as [Platform, number][])("%j picks entry %i", (target, n) => {
    expect(selectManifest(index, target)?.digest).toBe(d(n).digest);
  });
  it("falls back to compatible entries and returns undefined when none fit", () => {
    expect(selectManifest([d(3, { os: "linux", architecture: "arm", variant: "v6" })], { os: "linux", architecture: "arm64" })?.digest).toBe(d(3).digest);
    expect(selectManifest([d(8, { os: "linux", architecture: "386" })], { os: "linux", architecture: "amd64" })?.digest).toBe(d(8).digest);
    expect(selectManifest(index, { os: "linux", architecture: "s390x" })).toBeUndefined();
    expect(selectManifest(index, { os: "linux", architecture: "arm", variant: "v5" })).toBeUndefined();
  });
});
