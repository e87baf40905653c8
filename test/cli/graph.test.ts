import { describe, expect, test } from "vitest";
import { join } from "node:path";
import { copyInto, scratchProject, strata, REPO } from "../helpers/cli.ts";

const EXAMPLES = ["hello/hello.image.ts", "node-service/service.image.ts", "go-static/app.image.ts"];
const digestOf = (stdout: string) => (JSON.parse(stdout) as { digest: string }).digest;

describe("strata graph", () => {
  test.each(EXAMPLES)("%s: JSON with a digest, the same on every run", (ex) => {
    const a = strata(["graph", `examples/${ex}`, "--format", "json"]);
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    const json = JSON.parse(a.stdout) as { digest: string; root: string; nodes: Array<{ digest: string; kind: string }> };
    expect(json.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(json.nodes.map((n) => n.digest)).toContain(json.root);
    const b = strata(["graph", `examples/${ex}`, "--format", "json"], { env: { STRATA_NO_EVAL_CACHE: "1" } });
    expect(digestOf(b.stdout)).toBe(json.digest);
  });

  test("the digest does not depend on the checkout path", () => {
    const dir = scratchProject();
    copyInto(join(REPO, "examples/go-static"), join(dir, "somewhere/else/go-static"));
    const here = strata(["graph", "examples/go-static/app.image.ts"]);
    const there = strata(["graph", "somewhere/else/go-static/app.image.ts"], { cwd: dir });
    expect(there.stderr).toBe("");
    expect(digestOf(there.stdout)).toBe(digestOf(here.stdout));
  });

  test("targets: named exports; unknown ones are a clear error", () => {
    const build = strata(["graph", "examples/go-static/app.image.ts", "--target", "build"]);
    expect(build.code).toBe(0);
    expect(digestOf(build.stdout)).not.toBe(digestOf(strata(["graph", "examples/go-static/app.image.ts"]).stdout));
    const bad = strata(["graph", "examples/go-static/app.image.ts", "--target", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[STRATA_UNKNOWN_TARGET]");
    expect(bad.stderr).toContain("targets: build, default");
  });

  test("mermaid and dot", () => {
    const m = strata(["graph", "examples/hello/hello.image.ts", "--format", "mermaid"]);
    expect(m.stdout).toMatch(/^flowchart TD\n/);
    expect(m.stdout).toContain("COPY hello /hello");
    const d = strata(["graph", "examples/hello/hello.image.ts", "--format", "dot"]);
    expect(d.stdout).toMatch(/^digraph strata \{/);
  });

  test("source locations point at the image module's lines", () => {
    const json = JSON.parse(strata(["graph", "examples/hello/hello.image.ts"]).stdout) as { steps: Array<{ instruction: string; location?: { file: string; line: number } }> };
    expect(json.steps.find((s) => s.instruction === "COPY")?.location).toMatchObject({ file: "examples/hello/hello.image.ts", line: 6 });
    expect(json.steps.find((s) => s.instruction === "ENTRYPOINT")?.location).toMatchObject({ line: 8 });
  });

  test("a change to a run changes that op and later ones; a label changes none", () => {
    const mod = (cmd: string, label: string) => `import { from } from "@strata/core";\nexport default from("debian:12").run("apt-get update").run(${JSON.stringify(cmd)}).copy("f", "/f").label("v", ${JSON.stringify(label)});\n`;
    const dir = scratchProject({ "a.image.ts": mod("make", "1"), "b.image.ts": mod("make", "2"), "c.image.ts": mod("make all", "1") });
    const nodes = (f: string) => (JSON.parse(strata(["graph", f], { cwd: dir }).stdout) as { nodes: Array<{ digest: string; kind: string }> }).nodes.map((n) => `${n.kind}:${n.digest}`);
    const [a, b, c] = ["a.image.ts", "b.image.ts", "c.image.ts"].map(nodes);
    expect(b).toEqual(a);
    const execA = a!.filter((n) => n.startsWith("ExecOp"));
    const execC = c!.filter((n) => n.startsWith("ExecOp"));
    expect(execC[0]).toBe(execA[0]);
    expect(execC[1]).not.toBe(execA[1]);
    expect(c!.filter((n) => n.startsWith("FileOp"))).not.toEqual(a!.filter((n) => n.startsWith("FileOp")));
  });
});

describe("errors are one clear message with a position, never a stack trace", () => {
  test("a missing file", () => {
    const r = strata(["graph", "nope.image.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[STRATA_FILE_NOT_FOUND\]: no such file: nope\.image\.ts/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  test("an import that does not resolve: the line of the import", () => {
    const dir = scratchProject({ "x.image.ts": 'import { from } from "@strata/core";\nimport { thing } from "./missing.ts";\nexport default from("a").run(thing);\n' });
    const r = strata(["graph", "x.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_MODULE_BUILD]");
    expect(r.stderr).toContain("--> x.image.ts:2:");
    expect(r.stderr).toContain('import { thing } from "./missing.ts";');
  });
  test("a builder misuse at run time: the user's line, with a caret", () => {
    const dir = scratchProject({ "y.image.ts": 'import { from } from "@strata/core";\n\nexport default from("a")\n  .copy("a", "/a", { chmod: "rwx" });\n' });
    const r = strata(["graph", "y.image.ts"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_EVAL]: invalid mode");
    expect(r.stderr).toContain("--> y.image.ts:4:");
    expect(r.stderr).toMatch(/\n4 \|\s+\.copy\("a", "\/a", \{ chmod: "rwx" \}\);\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  test("a coded builder error keeps its code and call site", () => {
    const dir = scratchProject({ "z.image.ts": 'import { from } from "@strata/core";\nexport default from("a").copy(["a", from("b").path("/x")], "/");\n' });
    const r = strata(["graph", "z.image.ts"], { cwd: dir });
    expect(r.stderr).toContain("error[STRATA_COPY_MIXED_SOURCES]");
    expect(r.stderr).toContain("--> z.image.ts:2:");
    expect(r.stderr).toContain("hint: split it into several copy() calls");
  });
  test("usage errors exit 2", () => {
    expect(strata(["graph"]).code).toBe(2);
    expect(strata(["graph", "a.image.ts", "--format", "svg"]).stderr).toContain("--format must be one of json, mermaid, dot");
    expect(strata(["frobnicate"]).code).toBe(2);
  });
  test("--help on every command", () => {
    const top = strata(["--help"]).stdout;
    const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const cmd of commands) {
      const r = strata([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: strata /);
    }
    expect(strata(["--help"]).stdout).toContain("Exit status:");
  });
});
