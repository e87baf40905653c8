import { describe, expect, test } from "vitest";
import { graphFromJson, graphToJson, imageDigest, referencedImages, type GraphJson } from "@strata/graph";
import { bind, from, scratch } from "../src/index.ts";

describe("stage provenance beside the digest", () => {
  const base = from("golang:1.23").arg("V", "1").workdir("/src");
  const build = from(base).run("go build -o /out/app");
  const tools = from("debian:12").run("make tools");
  const final = scratch().copy(build.path("/out/app"), "/app").run("check", { mounts: [bind(tools.path("/usr/bin"), "/t")] });

  test("from(image) records its parent and how many steps it inherited; copies and mounts record their images", () => {
    const def = build.toDefinition();
    expect(def.parent?.image).toEqual(base.toDefinition());
    expect(def.parent?.steps).toBe(2);
    const g = final.toGraph();
    const ids = referencedImages(g).map(imageDigest);
    expect(ids).toEqual(expect.arrayContaining([build.digest, tools.digest, base.digest]));
    expect(ids.indexOf(base.digest)).toBeLessThan(ids.indexOf(build.digest));
  });

  test("provenance does not change digests", () => {
    const same = from(from("golang:1.23").arg("V", "1").workdir("/src")).run("go build -o /out/app");
    expect(same.digest).toBe(build.digest);
    // …while the stage boundary itself is semantic: the build step no longer sees the arg V.
    const oneStage = from("golang:1.23").arg("V", "1").workdir("/src").run("go build -o /out/app");
    expect(oneStage.toGraph().root).not.toBe(build.toGraph().root);
  });

  test("JSON keeps it, and verifies every image", () => {
    const json = JSON.parse(JSON.stringify(graphToJson(final.toGraph()))) as GraphJson;
    const back = graphFromJson(json);
    expect(back.digest).toBe(final.digest);
    expect(referencedImages(back).map(imageDigest)).toEqual(referencedImages(final.toGraph()).map(imageDigest));
    const tampered = JSON.parse(JSON.stringify(json)) as { images: Array<{ steps: Array<{ createdBy: string }> }> };
    tampered.images[0]!.steps[0]!.createdBy = "ARG V=2";
    expect(() => graphFromJson(tampered as unknown as GraphJson)).toThrow(/does not match its content/);
  });
});
