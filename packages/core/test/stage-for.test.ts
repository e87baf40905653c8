import { describe, expect, test } from "vitest";
import { createGraph, foldConfig, graphFromJson, graphToJson, hasSelect, opDigest, resolveSelects, type ExecOp, type GraphJson } from "@strata/graph";
import { declareArg, from, stageFor, TARGETOS } from "../src/index.ts";

const ctx = (os: string, buildArgs: Record<string, string> = {}) => ({ buildArgs, predefined: { TARGETOS: os, TARGETARCH: "amd64" } });

describe("stageFor: the stage a build arg names", () => {
  const linux = from("alpine:3").env("OS", "linux").user("app").run("make linux");
  const darwin = from("debian:12").env("OS", "darwin").run("make darwin");
  const picked = stageFor(TARGETOS, { linux, darwin }).run("echo $OS");

  test("resolving picks the named stage: its filesystem, steps, scope and user, as from(stage) would", () => {
    const def = picked.toDefinition();
    expect(hasSelect(def)).toBe(true);
    const r = resolveSelects(def, ctx("linux"));
    expect(hasSelect(r)).toBe(false);
    const run = r.rootfs as ExecOp;
    expect(run.inputs[0]).toBe(linux.toDefinition().rootfs);
    expect(run.user).toBe("app");
    expect(run.scope).toContainEqual({ env: "OS", value: "linux" });
    expect(r.steps.map((s) => s.createdBy)).toEqual([...linux.toDefinition().steps.map((s) => s.createdBy), "RUN echo $OS"]);
    const folded = foldConfig(undefined, r, ctx("linux"));
    expect(folded.config.Env).toContain("OS=linux");
    expect(folded.config.User).toBe("app");
    // The same as writing the stage by hand, filesystem-wise.
    expect(opDigest(run.inputs[0]!)).toBe(opDigest(from(linux).run("echo $OS").toDefinition().rootfs.inputs[0]!));
    const d = resolveSelects(def, ctx("darwin"));
    expect((d.rootfs as ExecOp).inputs[0]).toBe(darwin.toDefinition().rootfs);
    expect((d.rootfs as ExecOp).user).toBeUndefined();
  });

  test("a value that names no stage is a coded error; `otherwise` is used instead when given", () => {
    expect(() => resolveSelects(picked.toDefinition(), ctx("windows"))).toThrow(expect.objectContaining({ code: "STRATA_STAGE_SELECT", message: expect.stringContaining("names none of the stages darwin, linux") }));
    const fallback = from(`base-${TARGETOS}`);
    const withFallback = stageFor(`base-${TARGETOS}`, { "base-linux": linux }, { otherwise: fallback });
    expect(resolveSelects(withFallback.toDefinition(), ctx("windows")).rootfs).toBe(fallback.toDefinition().rootfs);
  });

  test("a template key reads global args; the picked stage's config is part of the digest", () => {
    const FLAVOR = declareArg("FLAVOR", "a");
    const a = from("alpine:3").run("echo a");
    const b = from("alpine:3").run("echo b");
    const s = stageFor(`x-${FLAVOR}`, { "x-a": a, "x-b": b }, { args: [FLAVOR] });
    expect(opDigest(resolveSelects(s.toDefinition(), ctx("linux")).rootfs)).toBe(opDigest(a.toDefinition().rootfs));
    expect(opDigest(resolveSelects(s.toDefinition(), ctx("linux", { FLAVOR: "b" })).rootfs)).toBe(opDigest(b.toDefinition().rootfs));
    const relabelled = stageFor(`x-${FLAVOR}`, { "x-a": a.label("k", "v"), "x-b": b }, { args: [FLAVOR] });
    expect(relabelled.digest).not.toBe(s.digest);
  });

  test("JSON round-trips a select with its stages", () => {
    const json = JSON.parse(JSON.stringify(graphToJson(picked.toGraph()))) as GraphJson;
    const back = graphFromJson(json);
    expect(back.digest).toBe(picked.digest);
    expect(opDigest(resolveSelects(back.image, ctx("linux")).rootfs)).toBe(opDigest(resolveSelects(picked.toDefinition(), ctx("linux")).rootfs));
    expect(createGraph(resolveSelects(back.image, ctx("darwin"))).nodes.size).toBeLessThan(back.nodes.size);
  });

  test("bad keys and names are refused", () => {
    expect(() => stageFor(TARGETOS, {})).toThrow(/at least one stage/);
    expect(() => stageFor(TARGETOS, { Linux: linux })).toThrow(/not a stage name/);
    expect(() => stageFor("", { linux })).toThrow(/needs an Arg or a template/);
  });
});
