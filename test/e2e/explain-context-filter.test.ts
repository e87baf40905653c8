import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchProject, strata } from "../helpers/cli.ts";
import { busyboxLayout } from "../helpers/busybox.ts";
import { isRoot, missing } from "../helpers/requires.ts";

// COPY-only: no RUN, so this runs without root too.
const module = (include: readonly string[], exclude: readonly string[] = []) => `import { context, from, ociLayout } from "@strata/core";
const src = context("src", { include: ${JSON.stringify(include)}${exclude.length ? `, exclude: ${JSON.stringify(exclude)}` : ""} });
export default from(ociLayout("./busybox"))
  .copy(src.files("a.txt"), "/one/")
  .copy(src, "/all");
`;

describe("cache precision: a context's include/exclude", () => {
  test("a change that leaves what a step reads alone is a hit; otherwise --explain names the files added and removed", async () => {
    const dir = scratchProject({ "app.image.ts": module(["a.txt", "b.txt"]), "src/a.txt": "a\n", "src/b.txt": "b\n", "src/c.txt": "c\n", "src/d.log": "d\n" });
    await busyboxLayout(dir);
    const env = { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) };
    const build = () => strata(["build", "app.image.ts", "--explain", "--progress", "plain"], { cwd: dir, env });
    const first = build();
    expect(first.code, first.stderr).toBe(0);
    const firstId = first.stdout;

    // b.txt → c.txt: the first COPY still reads only a.txt (a hit); the second reads another file.
    writeFileSync(join(dir, "app.image.ts"), module(["a.txt", "c.txt"]));
    const swapped = build();
    expect(swapped.code, swapped.stderr).toBe(0);
    expect(swapped.stderr).toMatch(/#\d+ COPY a\.txt \/one\/ CACHED/);
    expect(swapped.stderr).toMatch(/rebuilding: file added: c\.txt; file removed: b\.txt/);
    expect(swapped.stderr).not.toContain("no earlier build of this target");

    // An exclude that hides nothing either step reads: everything is a hit, the same image.
    writeFileSync(join(dir, "app.image.ts"), module(["a.txt", "c.txt"], ["*.log"]));
    const excluded = build();
    expect(excluded.code, excluded.stderr).toBe(0);
    expect(excluded.stderr).not.toContain("rebuilding:");
    expect(excluded.stderr).toMatch(/#\d+ COPY \. \/all CACHED/);

    // Back to the first list: the first build's image again, from the cache.
    writeFileSync(join(dir, "app.image.ts"), module(["a.txt", "b.txt"]));
    const back = build();
    expect(back.stdout).toBe(firstId);
  });
});

describe.skipIf(missing({ root: isRoot }))("cache precision past the COPY", () => {
  test("a RUN after a COPY that hit is a hit too", async () => {
    const mod = (include: readonly string[]) => `import { context, from, ociLayout } from "@strata/core";
const src = context("src", { include: ${JSON.stringify(include)} });
export default from(ociLayout("./busybox")).copy(src.files("a.txt"), "/one/").run("cat /one/a.txt > /seen");
`;
    const dir = scratchProject({ "app.image.ts": mod(["a.txt", "b.txt"]), "src/a.txt": "a\n", "src/b.txt": "b\n", "src/c.txt": "c\n" });
    await busyboxLayout(dir);
    const env = { STRATA_HOME: mkdtempSync(join(tmpdir(), "strata-home-")) };
    const build = () => strata(["build", "app.image.ts", "--explain", "--progress", "plain"], { cwd: dir, env });
    const first = build();
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(dir, "app.image.ts"), mod(["a.txt", "c.txt"]));
    const again = build();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/RUN cat \/one\/a\.txt > \/seen CACHED/);
    expect(again.stderr).not.toContain("rebuilding:");
    expect(again.stdout).toBe(first.stdout);
  });
});
