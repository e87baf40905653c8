import { describe, expect, test } from "vitest";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchProject, strata } from "../helpers/cli.ts";

const graph = (file: string, cwd: string, env: NodeJS.ProcessEnv = {}) => strata(["graph", file, "--format", "json"], { cwd, env });
/** The LABEL values the graph's steps set, by key. */
function labels(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of (JSON.parse(stdout) as { steps: Array<{ edits?: Array<{ edit: string; key?: string; value?: string }> }> }).steps) {
    for (const e of s.edits ?? []) if (e.edit === "label" && e.key !== undefined) out[e.key] = e.value ?? "";
  }
  return out;
}

describe("image modules run as their author expects", () => {
  test("import.meta.url, import.meta.dirname and relative reads resolve against the module's own file", () => {
    const dir = scratchProject({
      "sub/version.txt": "1.2.3\n",
      "sub/lib.ts": 'import { readFileSync } from "node:fs";\nexport const v = readFileSync(new URL("./version.txt", import.meta.url), "utf8").trim();\nexport const d = import.meta.dirname;\n',
      "sub/app.image.ts":
        'import { readFileSync } from "node:fs";\nimport { from } from "@strata/core";\nimport { v, d } from "./lib.ts";\n' +
        'const again = readFileSync("version.txt", "utf8").trim();\n' +
        'export default from("busybox").label("v", v).label("again", again).label("d", d).label("url", import.meta.url);\n',
    });
    const r = graph("sub/app.image.ts", dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(labels(r.stdout)).toEqual({ v: "1.2.3", again: "1.2.3", d: join(dir, "sub"), url: `file://${join(dir, "sub", "app.image.ts")}` });
  });

  test("a file the module reads with fs is tracked by the evaluated-graph cache: never stale", () => {
    const dir = scratchProject({
      "tag.txt": "one",
      "app.image.ts": 'import { readFileSync } from "node:fs";\nimport { from } from "@strata/core";\nexport default from("busybox").label("tag", readFileSync("tag.txt", "utf8"));\n',
    });
    const home = join(dir, ".home");
    const first = graph("app.image.ts", dir, { STRATA_HOME: home });
    expect(first.code).toBe(0);
    expect(labels(first.stdout).tag).toBe("one");
    writeFileSync(join(dir, "tag.txt"), "two");
    utimesSync(join(dir, "tag.txt"), new Date(), new Date(Date.now() + 5000));
    const second = graph("app.image.ts", dir, { STRATA_HOME: home });
    expect(second.code).toBe(0);
    expect(labels(second.stdout).tag).toBe("two");
  });

  test("a file that did not exist and then appears invalidates the cache", () => {
    const dir = scratchProject({
      "app.image.ts": 'import { existsSync } from "node:fs";\nimport { from } from "@strata/core";\nexport default from("busybox").label("flag", existsSync("flag") ? "yes" : "no");\n',
    });
    const home = join(dir, ".home");
    expect(labels(graph("app.image.ts", dir, { STRATA_HOME: home }).stdout).flag).toBe("no");
    writeFileSync(join(dir, "flag"), "");
    expect(labels(graph("app.image.ts", dir, { STRATA_HOME: home }).stdout).flag).toBe("yes");
  });

  test("a syntax error says so, at its position", () => {
    const dir = scratchProject({ "bad.image.ts": 'import { from } from "@strata/core";\n\nexport default from("a").label("x",, "y");\n' });
    const r = graph("bad.image.ts", dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_MODULE_SYNTAX]: syntax error in ");
    expect(r.stderr).toContain("bad.image.ts:3:");
    expect(r.stderr).toContain("--> bad.image.ts:3:");
    expect(r.stderr).not.toContain("check the import paths");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("strata check DIR checks the modules under DIR", () => {
    const dir = scratchProject({
      "imgs/ok.image.ts": 'import { from } from "@strata/core";\nexport default from("busybox");\n',
      "imgs/deep/bad.image.ts": 'import { from } from "@strata/core";\nexport default from(42);\n',
      "other/ignored.image.ts": 'import { from } from "@strata/core";\nexport default from(1);\n',
    });
    const r = strata(["check", "imgs"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("imgs/deep/bad.image.ts:2:");
    expect(r.stderr).not.toContain("ignored.image.ts");
    expect(r.stderr).toContain("Found 1 error in 2 files.");
  });
});

describe("errors from a fragment", () => {
  test("name the user's call site, not a line inside @strata/images", () => {
    const dir = scratchProject({
      "app.image.ts": 'import { from } from "@strata/core";\nimport { nodeRuntime } from "@strata/images";\n\nexport default from("node:22")\n  .with(nodeRuntime({ port: 3000, healthPath: "/h", healthInterval: "soon" as never }));\n',
    });
    const r = graph("app.image.ts", dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--> app.image.ts:5:");
    expect(r.stderr).not.toContain("images/src/node.ts");
  });
});
