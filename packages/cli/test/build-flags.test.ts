import { describe, expect, it } from "vitest";
import { checkOutputs, parseOutput } from "@strata/engine";
import { closest, parseArgs } from "../src/argv.ts";
import { spec as buildSpec } from "../src/commands/build.ts";
import { parseDuration, parseSize, spec as cacheSpec } from "../src/commands/cache.ts";
import { splitList } from "../src/commands/build-input.ts";
import { wantsJson } from "../src/ui/json-progress.ts";

describe("--output as buildx reads it", () => {
  it("PATH is type=local, - is type=tar to stdout, type defaults to local", () => {
    expect(parseOutput("out", "/w")).toEqual({ type: "local", dest: "/w/out" });
    expect(parseOutput("-", "/w")).toEqual({ type: "tar", dest: "-" });
    expect(parseOutput("dest=x", "/w")).toEqual({ type: "local", dest: "/w/x" });
    expect(parseOutput("type=tar,dest=fs.tar", "/w")).toEqual({ type: "tar", dest: "/w/fs.tar" });
    expect(parseOutput("type=oci,dest=-", "/w")).toEqual({ type: "oci", dest: "-" });
    expect(parseOutput("type=docker,dest=-,compression=gzip", "/w")).toEqual({ type: "docker", dest: "-", compression: "gzip" });
    expect(parseOutput("type=docker", "/w")).toBe("load");
  });
  it("refuses what buildx refuses or Strata cannot do, with STRATA_USAGE", () => {
    for (const bad of ["type=local,dest=-", "type=oci-layout,dest=-", "type=bogus,dest=x", "type=tar,dest=x,compression=gzip", "type=local", "type=oci,dest=x,compression=zstd", "type=local,dest=x,platform-split=true", "type=oci,dest"]) {
      expect(() => parseOutput(bad, "/w"), bad).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
    }
    expect(() => checkOutputs([{ type: "tar", dest: "-" }, { type: "oci", dest: "-" }])).toThrow(/only one --output can write to stdout/);
  });
});

describe("flags", () => {
  it("a docker flag Strata lacks says so; a typo gets did-you-mean", () => {
    expect(() => parseArgs(buildSpec, ["--squash"])).toThrow(/--squash is a docker build flag that Strata does not support/);
    expect(() => parseArgs(buildSpec, ["--metadata-fil", "x"])).toThrow(expect.objectContaining({ hint: "did you mean --metadata-file?" }));
    expect(() => parseArgs(buildSpec, ["--zzzzzzzz"])).toThrow(expect.objectContaining({ hint: "see `strata build --help`" }));
    expect(closest("tagg", ["tag", "target", "file"])).toBe("tag");
    expect(closest("platfrom", ["platform", "progress"])).toBe("platform");
    expect(closest("x", ["platform"])).toBeUndefined();
  });
  it("--target and --platform repeat and split on commas", () => {
    const a = parseArgs(buildSpec, ["--target", "a,b", "--target", "c", "-f", "odd.name", "ctx"]);
    expect(splitList(a.options.target as string[])).toEqual(["a", "b", "c"]);
    expect(a.options.file).toBe("odd.name");
    expect(a.positionals).toEqual(["ctx"]);
  });
  it("--progress json is detected before parsing (errors become JSON records)", () => {
    expect(wantsJson(["build", "--progress", "json"])).toBe(true);
    expect(wantsJson(["build", "--progress=rawjson"])).toBe(true);
    expect(wantsJson(["build", "--progress", "plain"])).toBe(false);
    expect(wantsJson(["build", "--", "--progress", "json"])).toBe(false);
  });
});

describe("cache prune's docker spellings", () => {
  it("durations and sizes", () => {
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseSize("10GB")).toBe(10e9);
    expect(parseSize("512MiB")).toBe(512 * 1024 ** 2);
    expect(parseSize("2g")).toBe(2 * 1024 ** 3);
    expect(parseSize("1000")).toBe(1000);
    for (const bad of ["", "24", "soon", "1h 30m", "-1h"]) expect(() => parseDuration(bad), bad).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
    for (const bad of ["lots", "1.2.3GB", "-5GB"]) expect(() => parseSize(bad), bad).toThrow(expect.objectContaining({ code: "STRATA_USAGE" }));
  });
  it("docker builder prune flags Strata lacks are usage errors that say so", () => {
    expect(() => parseArgs(cacheSpec, ["prune", "--reserved-space", "1GB"])).toThrow(/docker builder prune flag/);
  });
});
