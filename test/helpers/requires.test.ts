import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO } from "./cli.ts";
import { missing, onPath, runs, underCi } from "./requires.ts";

describe("missing(): a skip on a developer's machine, a failure in CI", () => {
  test("nothing missing: run, in CI or not", () => {
    expect(missing({ sh: true }, { CI: "true" })).toBe(false);
    expect(missing({ sh: true }, {})).toBe(false);
  });

  test("something missing: skip locally, throw naming it under CI", () => {
    expect(missing({ docker: true, "no-such-tool": false }, {})).toBe(true);
    expect(missing({ "no-such-tool": false }, { CI: "false" })).toBe(true);
    expect(() => missing({ docker: true, "no-such-tool": false, corpus: false }, { CI: "true" })).toThrow(/needs no-such-tool, corpus, which this host lacks/);
    expect(() => missing({ x: false }, { CI: "1" })).toThrow();
  });

  test("CI is any value but empty, 0 or false", () => {
    expect([undefined, "", "0", "false", "FALSE"].map((v) => underCi(v === undefined ? {} : { CI: v }))).toEqual([false, false, false, false, false]);
    expect(["true", "1", "yes"].map((v) => underCi({ CI: v }))).toEqual([true, true, true]);
  });

  test("probes see real tools", () => {
    expect(onPath("sh")).toBe(true);
    expect(onPath("strata-no-such-tool")).toBe(false);
    expect(runs("sh", ["-c", "exit 0"])).toBe(true);
    expect(runs("sh", ["-c", "exit 3"])).toBe(false);
    expect(runs("strata-no-such-tool")).toBe(false);
  });
});

describe("no suite skips on its own", () => {
  test("every skipIf/runIf/skip in the tests goes through missing()", () => {
    const files = execFileSync("git", ["ls-files", "*.test.ts"], { cwd: REPO, encoding: "utf8" }).trim().split("\n");
    const own: string[] = [];
    for (const f of files) {
      readFileSync(join(REPO, f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          // A probe negated in place (`skipIf(!docker…)`), a runIf, or an unconditional skip.
          if (!/\.(runIf|skip|todo)\(|\.skipIf\(!/.test(line)) return;
          // crun is no tool of the tests (executor-select.test.ts says why).
          if (/skipIf\(\w+ \|\| !haveTool\("crun"\)\)/.test(line)) return;
          own.push(`${f}:${i + 1}: ${line.trim().slice(0, 100)}`);
        });
    }
    expect(own).toEqual([]);
  });
});
