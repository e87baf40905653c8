import { describe, expect, test } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { scratchProject, strata, writeFiles } from "../helpers/cli.ts";

const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

describe("strata init", () => {
  test("an empty directory: a minimal image, tsconfig, .dockerignore, package.json scripts and devDependencies, README block", () => {
    const dir = scratchProject();
    const r = strata(["init"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("strata init: a minimal image in .");
    for (const f of ["app.image.ts", "tsconfig.json", ".dockerignore", "package.json", "README.md"]) expect(existsSync(join(dir, f))).toBe(true);
    const pkg = JSON.parse(read(dir, "package.json")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts).toEqual({ "image:check": "strata check app.image.ts", "image:build": "strata build app.image.ts" });
    expect(Object.keys(pkg.devDependencies)).toEqual(["@strata/cli", "@strata/core"]);
    expect(read(dir, "README.md")).toContain("npm run image:build");
    const check = strata(["check"], { cwd: dir });
    expect(check.stderr).toContain("Checked 1 file: no errors.");
    expect(check.code).toBe(0);
  });

  test("a Node project (npm lockfile): nodeDeps + nodeRuntime, its package.json kept and extended", () => {
    const dir = scratchProject({
      "package.json": JSON.stringify({ name: "svc", version: "1.0.0", scripts: { start: "node server.js", test: "node --test" }, dependencies: {} }),
      "package-lock.json": JSON.stringify({ name: "svc", lockfileVersion: 3, packages: { "": { name: "svc" } } }),
      "server.js": "console.log('hi')\n",
    });
    const r = strata(["init"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("a Node.js project (npm)");
    const mod = read(dir, "app.image.ts");
    expect(mod).toContain("nodeDeps({ version: \"22\", src })");
    expect(mod).toContain("nodeRuntime({ port: 3000 })");
    expect(mod).toContain('.cmd(["npm","start"])');
    const pkg = JSON.parse(read(dir, "package.json")) as { name: string; scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.name).toBe("svc");
    expect(pkg.scripts.test).toBe("node --test");
    expect(pkg.scripts["image:build"]).toBe("strata build app.image.ts");
    expect(Object.keys(pkg.devDependencies)).toEqual(["@strata/cli", "@strata/core", "@strata/images"]);
    expect(read(dir, ".dockerignore")).toContain("node_modules");
    expect(strata(["check"], { cwd: dir }).code).toBe(0);
  });

  test.each([
    [{ "go.mod": "module example.com/x\n\ngo 1.24\n", "main.go": "package main\nfunc main() {}\n" }, "a Go module (builds .)", "goBuild"],
    [{ "requirements.txt": "flask\n", "app.py": "print(1)\n" }, "a Python app (requirements.txt)", "pip install --no-cache-dir -r requirements.txt"],
  ])("%#: detects the project and what it writes type-checks", (files, said, snippet) => {
    const dir = scratchProject(files);
    const r = strata(["init"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(said);
    expect(read(dir, "app.image.ts")).toContain(snippet);
    const check = strata(["check"], { cwd: dir });
    expect(check.stderr).toContain("no errors");
  });

  test("never overwrites app.image.ts without --force; keeps the project's tsconfig.json", () => {
    const dir = scratchProject({ "app.image.ts": "// mine\n", "tsconfig.json": '{"compilerOptions":{"strict":true}}\n' });
    const r = strata(["init"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[STRATA_INIT_EXISTS]");
    expect(read(dir, "app.image.ts")).toBe("// mine\n");
    expect(existsSync(join(dir, "package.json"))).toBe(false);
    const f = strata(["init", "--force"], { cwd: dir });
    expect(f.code).toBe(0);
    expect(read(dir, "app.image.ts")).toContain("@strata/core");
    writeFiles(dir, { "tsconfig.json": '{"compilerOptions":{"strict":true}}\n' });
    const again = strata(["init", "sub"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(existsSync(join(dir, "sub", "app.image.ts"))).toBe(true);
  });

  test("--help", () => {
    const r = strata(["init", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("strata init [DIR] [--force]");
  });
});

describe("context() honours the .dockerignore beside the module", () => {
  const digest = (dir: string) => (JSON.parse(strata(["graph", "app.image.ts", "--format", "json"], { cwd: dir }).stdout) as { digest: string }).digest;
  const module = (opts: string) => `import { context, from } from "@strata/core";\nexport default from("busybox").copy(context(".", ${opts}), "/app");\n`;
  test("its patterns become the context's excludes; exclude adds; { dockerignore: false } opts out", () => {
    const dir = scratchProject({ "app.image.ts": module("{}"), ".dockerignore": "node_modules\n*.log\n" });
    const json = strata(["graph", "app.image.ts", "--format", "json"], { cwd: dir });
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('"node_modules"');
    expect(json.stdout).toContain('"*.log"');
    const withIgnore = digest(dir);
    writeFiles(dir, { "app.image.ts": module('{ exclude: ["tmp"] }') });
    const extra = strata(["graph", "app.image.ts", "--format", "json"], { cwd: dir }).stdout;
    expect(extra).toMatch(/"node_modules",\s*"\*\.log",\s*"tmp"/);
    writeFiles(dir, { "app.image.ts": module("{ dockerignore: false }") });
    const off = strata(["graph", "app.image.ts", "--format", "json"], { cwd: dir }).stdout;
    expect(off).not.toContain('"node_modules"');
    writeFiles(dir, { "app.image.ts": module("{}"), ".dockerignore": "node_modules\n" });
    expect(digest(dir)).not.toBe(withIgnore); // the cache saw the .dockerignore change
  });
});
