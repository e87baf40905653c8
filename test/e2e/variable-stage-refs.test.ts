import { describe, expect, test } from "vitest";
import { from, stageFor, TARGETOS } from "../../packages/core/src/index.ts";
import { imageReferences } from "../../packages/engine/src/sources/image-refs.ts";

describe("image references of a stage chosen by a build arg", () => {
  test("only the picked stage's base is an image to pull (strata lock, pulls)", () => {
    const img = stageFor(`base-${TARGETOS}`, { "base-linux": from("alpine:3.20"), "base-windows": from("mcr.microsoft.com/windows/nanoserver:ltsc2022") }, { otherwise: from(`base-${TARGETOS}`) }).run("true");
    const build = { os: "linux", architecture: "amd64" } as const;
    const refs = (os: string) => imageReferences(img.toGraph(), { buildArgs: {}, platform: { os, architecture: "amd64" }, buildPlatform: build }).map((r) => r.ref);
    expect(refs("linux")).toEqual(["alpine:3.20"]);
    expect(refs("windows")).toEqual(["mcr.microsoft.com/windows/nanoserver:ltsc2022"]);
    // A value naming no stage is an image reference, as in BuildKit.
    expect(refs("freebsd")).toEqual(["base-freebsd"]);
  });
});
