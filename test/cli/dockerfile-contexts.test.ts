import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";

const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

const MODULE = `import { context, dockerDaemon, from } from "@strata/core";
export default from("alpine:3").copy(context("app"), "/app/").copy(context("app").path("f"), "/f").copy(context("./app/").files("*.txt"), "/t/");
export const filtered = from("alpine:3").copy(context("app", { exclude: ["*.md"] }), "/w/");
export const daemon = from(dockerDaemon("interop-local/base:1")).copy("app/f", "/f");
`;

describe("strata dockerfile: subdirectory contexts and daemon images", () => {
  test("context(`app`) exports as paths of the build context and round-trips to the same digest", () => {
    const dir = scratchProject({ "m.image.ts": MODULE, "app/f": "f\n", "app/a.txt": "a\n" });
    const r = strata(["dockerfile", "m.image.ts", "-o", "Dockerfile"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = strata(["dockerfile", "m.image.ts"], { cwd: dir }).stdout;
    expect(out).toBe("FROM alpine:3\nCOPY app /app/\nCOPY app/f /f\nCOPY app/*.txt /t/\n");
    // The exported Dockerfile, built with the module's directory as its context, is the same graph.
    expect(digestOf(strata(["graph", "Dockerfile"], { cwd: dir }).stdout)).toBe(digestOf(strata(["graph", "m.image.ts"], { cwd: dir }).stdout));
  });

  test("a filtered subdirectory context is the Dockerfile's build context (said on stderr, with its .dockerignore)", () => {
    const dir = scratchProject({ "m.image.ts": MODULE });
    const r = strata(["dockerfile", "m.image.ts", "--target", "filtered"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("FROM alpine:3 AS filtered\nCOPY . /w/\n");
    expect(r.stderr).toContain("note: build with app (beside the module) as the build context");
    expect(r.stderr).toContain("*.md");
  });

  test("dockerDaemon(name) exports as FROM name", () => {
    const dir = scratchProject({ "m.image.ts": MODULE });
    const r = strata(["dockerfile", "m.image.ts", "--target", "daemon"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("FROM interop-local/base:1 AS daemon\nCOPY app/f /f\n");
    expect(r.stderr).toContain("note: interop-local/base:1 is an image of the local Docker daemon");
  });

  test("a path that leaves a subdirectory context is refused where it is written", () => {
    const dir = scratchProject({});
    writeFileSync(join(dir, "bad.image.ts"), `import { context, from } from "@strata/core";\nexport default from("alpine:3").copy(context("app").path("../secret"), "/s");\n`);
    const r = strata(["graph", "bad.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('context("app"): "../secret" leaves the directory');
  });
});
